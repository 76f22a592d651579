// Every repository path the README and docs/*.md name in code (`src/…`, `test/…`,
// `manifests/…`, …) exists: a file moved or deleted fails here until the docs follow.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { docs, pieces, ROOT, where, type Doc } from './markdown.js';
import type { Problem } from './names.js';

const TOP = '(?:src|test|scripts|bench|manifests|overlays|docs|\\.ci)';
const PATH = new RegExp(`(?<![\\w./~-])(${TOP}/[\\w.~/-]*|Dockerfile|package\\.json|tsconfig\\.json)(?![\\w*{<…])`, 'g');
/** Build output and results: named by the docs, made by a run. */
const MADE = /^(dist|node_modules|bench\/results)\//;

function checkPaths(pages: readonly Doc[], exists: (file: string) => boolean): Problem[] {
  const problems: Problem[] = [];
  for (const doc of pages) {
    for (const p of pieces(doc)) {
      if (p.kind === 'prose') continue;
      for (const m of p.text.matchAll(PATH)) {
        const file = m[1]!.replace(/[.,:;]+$/, '');
        if (MADE.test(file) || exists(file)) continue;
        problems.push({ where: where(p), what: `${file} does not exist` });
      }
    }
  }
  return problems;
}

const inRepo = (file: string) => fs.existsSync(path.join(ROOT, file));

test('every repository path the README and docs name exists', (t) => {
  const problems = checkPaths(docs(), inRepo);
  t.deepEqual(problems.map((p) => `${p.where}: ${p.what}`), []);
});

test('the path check finds a moved file and leaves placeholders, globs and build output alone', (t) => {
  const page = {
    file: 'docs/bogus.md',
    text: 'The watcher is `src/discovery/no-such-watcher.ts`; see `src/main.ts`, `test/**/*.test.ts`, `docs/runbook.md#<alert>`, `dist/src/cli/index.js`, `/var/lib/kubelet/pods`.\n\n```sh\nbash scripts/no-such.sh && kubectl apply -k overlays/k0s/\n```\n',
  };
  t.deepEqual(
    checkPaths([page], inRepo).map((p) => `${p.where}: ${p.what}`),
    ['docs/bogus.md:1: src/discovery/no-such-watcher.ts does not exist', 'docs/bogus.md:4: scripts/no-such.sh does not exist'],
  );
});

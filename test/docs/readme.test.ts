// The README is an operator's five minutes: what it is on the first screen, then the two
// commands a newcomer runs, and no more than 250 lines.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './markdown.js';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const lines = readme.trimEnd().split('\n');

test('the README is at most 250 lines', (t) => {
  t.true(lines.length <= 250, `${lines.length} lines: move details to docs/`);
});

test("the README's first screen says what it is and the metric, then gives the demo and the test command", (t) => {
  const screen = lines.slice(0, 30).join('\n');
  t.regex(screen, /JuiceFS/);
  t.regex(screen, /juicefs_volume_path_health\{volume_id, volume_path, pod_uid/);
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  t.true(readme.indexOf(firstBlock) < screen.length, 'the first shell block is on the first screen');
  const commands = firstBlock.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  t.deepEqual(commands, ['npm ci && npm run demo', 'npm ci && npm test']);
});

test('the readiness rule is stated once, in the README', (t) => {
  t.is(readme.match(/^## Readiness$/gm)?.length, 1);
  for (const cond of ['first full scan of the pods directory', 'first probe cycle has finished', 'pods directory can be listed', 'Kubernetes mode has settled']) {
    t.true(readme.includes(cond), cond);
  }
});

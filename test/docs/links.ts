// Relative links of the README and docs/*.md: the file must exist, and the anchor must be a
// heading of that file (GitHub's slugs).

import fs from 'node:fs';
import path from 'node:path';
import { anchors, links, where, type Doc } from './markdown.js';
import type { Problem } from './names.js';

export function checkLinks(pages: readonly Doc[], read: (file: string) => string | undefined): Problem[] {
  const problems: Problem[] = [];
  for (const doc of pages) {
    for (const link of links(doc)) {
      const t = link.target;
      if (/^[a-z][a-z0-9+.-]*:/i.test(t)) continue; // https:, mailto:
      const [file = '', anchor] = t.split('#', 2);
      const target = file === '' ? doc.file : path.posix.normalize(path.posix.join(path.posix.dirname(doc.file), decodeURIComponent(file)));
      if (target.startsWith('..')) {
        problems.push({ where: where(link), what: `${t} leaves the repository` });
        continue;
      }
      const text = read(target);
      if (text === undefined) {
        problems.push({ where: where(link), what: `${t}: ${target} does not exist` });
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md') && !anchors(text).has(anchor)) {
        problems.push({ where: where(link), what: `${t}: ${target} has no heading #${anchor}` });
      }
    }
  }
  return problems;
}

/** A repository file's text, '' for a directory, undefined when neither exists. */
export function repoReader(root: string): (file: string) => string | undefined {
  return (file) => {
    const p = path.join(root, file.replace(/\/$/, ''));
    if (!fs.existsSync(p)) return undefined;
    return fs.statSync(p).isDirectory() ? '' : fs.readFileSync(p, 'utf8');
  };
}

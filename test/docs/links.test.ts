// Every relative link of the README and docs/*.md reaches a file, and a heading of it when the
// link names one: a page renamed, a heading reworded, a link to a page not written yet fails here.

import test from 'ava';
import { checkLinks, repoReader } from './links.js';
import { docs, ROOT } from './markdown.js';

test('every relative link in the README and docs/*.md reaches a file and its heading', (t) => {
  const pages = docs();
  const problems = checkLinks(pages, repoReader(ROOT));
  t.deepEqual(problems.map((p) => `${p.where}: ${p.what}`), []);
});

test('the link check finds a missing page, a missing heading and a link out of the repository', (t) => {
  const files: Record<string, string> = {
    'README.md': '# Tool\n\n## Install on a cluster\n\nSee [install](docs/install.md#kubelet-root), [gone](docs/kubernetes.md), [up](#install-on-a-cluster), [bad](#readiness), [web](https://example.com/x.md).\n\n```sh\n[not a link](docs/nowhere.md)\n```\n',
    'docs/install.md': '# Install\n\n## Kubelet root\n\n[back](../README.md#install-on-a-cluster), [out](../../etc/passwd), [heading](../README.md#tool-1)\n',
  };
  const found = checkLinks(
    Object.entries(files).map(([file, text]) => ({ file, text })),
    (f) => files[f],
  ).map((p) => `${p.where}: ${p.what}`);
  t.deepEqual(found, [
    'README.md:5: docs/kubernetes.md: docs/kubernetes.md does not exist',
    'README.md:5: #readiness: README.md has no heading #readiness',
    'docs/install.md:5: ../../etc/passwd leaves the repository',
    'docs/install.md:5: ../README.md#tool-1: README.md has no heading #tool-1',
  ]);
});

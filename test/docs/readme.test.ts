// The README is an operator's five minutes: what it is on the first screen, then the two
// commands a newcomer runs, and no more than 250 lines.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { createReadiness, type ConditionName } from '../../src/readiness.js';
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

test('the readiness rule is stated once, in the README, with the conditions src/readiness.ts checks, in its order', (t) => {
  t.is(readme.match(/^## Readiness$/gm)?.length, 1);
  const section = readme.slice(readme.indexOf('## Readiness'), readme.indexOf('\n## ', readme.indexOf('## Readiness') + 1));
  const items = section.split('\n').filter((l) => /^\d+\. /.test(l));
  // What each condition of the code is called in the README.
  const phrase: Record<ConditionName, string> = {
    pods_dir: 'pods directory can be listed',
    first_scan: 'first full scan of the pods directory',
    first_cycle: 'first probe cycle has finished',
    kube_settled: 'Kubernetes mode has settled',
    kube_credentials: 'Kubernetes mode has its credentials',
  };
  const all = createReadiness({ podsDirProblem: () => undefined, scanned: () => true, cycled: () => true, kubeSettled: () => true, kubeAuthError: () => undefined }).conditions();
  t.is(items.length, all.length, 'one numbered item per condition');
  all.forEach((c, i) => t.true(items[i]?.includes(phrase[c.name]), `item ${i + 1} is ${c.name}`));
});

// Every flag and npm script the README and docs/*.md name exists: a flag renamed or dropped in
// the code, or a script renamed in package.json, fails here until the docs follow.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { CLI } from '../fixtures/daemon.js';
import { docs, ROOT } from './markdown.js';
import { checkNames, knownFromRepo, type Known } from './names.js';
import { FLAGS } from '../../src/cli/args.js';

const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
const known: Known = knownFromRepo(ROOT, help.stdout);

test('the built CLI lists its flags in --help, every one of the flag table', (t) => {
  t.is(help.status, 0, help.stderr);
  t.deepEqual([...known.prober].sort(), [...Object.keys(FLAGS), 'help', 'version'].sort());
});

test('every flag and npm script the README and docs name exists', (t) => {
  const pages = docs();
  t.true(pages.length >= 2);
  const problems = checkNames(pages, known);
  t.deepEqual(problems.map((p) => `${p.where}: ${p.what}`), []);
});

test('the check finds a flag, a script flag and an npm script that do not exist', (t) => {
  const page = {
    file: 'docs/bogus.md',
    text: [
      'Set `--bogus-flag` to taste, or `--timeout`, or `--fs-type=fuse.juicefs`.',
      '',
      '```sh',
      'npm ci && npm run demo -- --once --no-such-demo-flag',
      'npm run no-such-script',
      'kubectl exec -n kube-system ds/juicefs-path-prober -- juicefs-path-prober check --kubelet-dirr /x',
      'node dist/bench/run.js --only=scale --bogus-bench',
      'kubectl get pod --field-selector spec.nodeName=n1   # kubectl\'s flags are its own',
      '```',
      '',
      'The daemonset:',
      '',
      '```yaml',
      'args: [serve, --interval=10s, --intervall=10s]',
      '```',
    ].join('\n'),
  };
  const found = checkNames([page], known).map((p) => `${p.where}: ${p.what}`);
  t.deepEqual(found, [
    'docs/bogus.md:1: --bogus-flag is neither a juicefs-path-prober flag, nor taken by any npm script, nor a node option',
    'docs/bogus.md:4: --no-such-demo-flag is not taken by demo (scripts/demo.ts)',
    'docs/bogus.md:5: npm script "no-such-script" is not in package.json',
    'docs/bogus.md:6: --kubelet-dirr is not a juicefs-path-prober flag (see --help)',
    'docs/bogus.md:7: --bogus-bench is not taken by dist/bench/run.js (bench/run.ts)',
    'docs/bogus.md:14: --intervall is neither a juicefs-path-prober flag, nor taken by any npm script, nor a node option',
  ]);
});


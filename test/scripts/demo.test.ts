// `npm run demo` as a newcomer runs it, without a terminal: it must run once,
// say so, and print what it claims (the daemon's grace in check's table too).

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mountTest, requires } from '../fixtures/harness.js';

const DEMO = fileURLToPath(new URL('../../scripts/demo.js', import.meta.url));

/** Runs a script as a newcomer would, without a terminal, to its end. */
async function runScript(file: string, args: string[] = []): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out, err };
}

mountTest('the demo runs once without a terminal, and its check table and log tell the same story as the daemon, readably', async (t) => {
  const { code, out, err } = await runScript(DEMO, ['--port=0']);
  t.is(code, 0, err);
  t.regex(out, /stdin is not a terminal, so the demo ran once and unmounted everything/);

  const table = out.slice(out.indexOf('$ npx juicefs-path-prober check'), out.indexOf('(exit code'));
  t.regex(table, /check --kubelet-dir \S+ --timeout 1s --publish-grace 1m\n/);
  t.regex(table, /pvc-pending .*not mounted yet \(grace 1m\)/, 'the grace the daemon runs with');
  t.notRegex(out, /grace 2m/);
  const rows = table.split('\n').slice(1).filter((l) => l.trim() !== '');
  t.true(rows.length >= 9, table);
  for (const l of rows) t.true(l.length <= 170, `${l.length} characters: ${l}`);
  t.regex(table, /<kubelet>\/pods\/<uid>\/volumes\/kubernetes\.io~csi\/pvc-unmounted\/mount +not_mounted/);

  const log = out.slice(out.indexOf('state changes the daemon logged'));
  t.regex(log, /^ {2}pvc-healthy subPath data\/app\/0: - -> healthy$/m);
  t.regex(log, /^ {2}pvc-healthy: - -> healthy$/m);
  t.regex(log, /^ {2}pvc-hung: timeout -> healthy$/m);
});

const DEMO_ACTIONS = fileURLToPath(new URL('../../scripts/demo-actions.js', import.meta.url));

requires('mounts', { tool: 'kubectl', why: 'the demo renders overlays/evict for the stand-in' })('demo:actions shows a gated pod Ready, NotReady on a dead mount with a dry-run eviction Event, and Ready again', async (t) => {
  const { code, out, err } = await runScript(DEMO_ACTIONS);
  t.is(code, 0, err);
  const pod = out.split('\n').filter((l) => /pod shop\/web-0/.test(l)).map((l) => /(NotReady|Ready) +\(gate \S+: (\w+)/.exec(l)?.slice(1, 3).join(' '));
  t.deepEqual(pod, ['NotReady missing', 'Ready True', 'NotReady False', 'Ready True']);
  t.regex(out, /Event on shop\/web-0: Normal VolumePathPodWouldEvict: would evict \(--evict=dry-run\): .* disconnected for \d+s while mount pod/);
  t.regex(out, /Eviction API calls: 0 \(dry run\)/);
});

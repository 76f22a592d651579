import test, { type ExecutionContext } from 'ava';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI } from '../fixtures/daemon.js';
import { mountTest, sandbox } from '../fixtures/harness.js';
import { startFakeApiServer } from '../fixtures/kube-api-server.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { bindMount, startFuse } from '../fixtures/mounts.js';
import { addNetns } from '../fixtures/netns.js';

const box = sandbox();

const DEMO = fileURLToPath(new URL('../../scripts/demo.js', import.meta.url));

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return cli2(CLI, args, env);
}

function cli2(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 })));
}

test('a bad flag exits 2 with a message naming the flag', async (t) => {
  for (const [args, flag] of [
    [['--interval', 'often'], '--interval'],
    [['check', '--timeout', '5'], '--timeout'],
    [['--no-such-flag'], '--no-such-flag'],
    [['--listen', 'x:y'], '--listen'],
  ] as const) {
    const r = await cli([...args]);
    t.is(r.code, 2, args.join(' '));
    t.true(r.stderr.includes(flag), r.stderr);
    t.false(r.stderr.includes('    at '), 'no stack trace');
  }
});

test('a negative or zero duration exits 2 with the allowed range, not the argument parser’s text', async (t) => {
  for (const args of [['check', '--timeout', '-1s'], ['--interval', '0'], ['--interval', '0s']]) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, new RegExp(`^juicefs-path-prober: ${args.at(-2)}: "${args.at(-1)}" is not a duration from \\d+m?s to about 24 days`), r.stderr);
    t.false(r.stderr.includes('ambiguous'), r.stderr);
  }
});

async function busyPort(t: ExecutionContext): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

test('serve on a port that is taken exits 1 with one line naming the address and --listen', async (t) => {
  const k = box.tree('busy-port');
  const port = await busyPort(t);
  const r = await cli(['serve', '--kubelet-dir', k.kubeletDir, '--listen', `127.0.0.1:${port}`], { JFS_PROBER_KUBE: 'off' });
  t.is(r.code, 1);
  t.is(r.stderr, `juicefs-path-prober: cannot listen on 127.0.0.1:${port}: the address is already in use; choose another with --listen [host]:port\n`);
  t.false(r.stdout.includes('"level":"error"'), r.stdout);
});

test('the demo on a port that is taken says so in one line naming --port, before it mounts anything', async (t) => {
  const port = await busyPort(t);
  const r = await cli2(DEMO, ['--once', `--port=${port}`]);
  t.is(r.code, 2);
  t.is(r.stderr, `demo: cannot listen on 127.0.0.1:${port}: is already in use; choose another with npm run demo -- --port=N\n`);
  t.is(r.stdout, '');
});

test('a bad environment value exits 2 naming its flag', async (t) => {
  const r = await cli(['check'], { JFS_PROBER_PUBLISH_GRACE: 'later' });
  t.is(r.code, 2);
  t.true(r.stderr.includes('--publish-grace'));
});

test('--help and --version exit 0', async (t) => {
  const h = await cli(['--help']);
  t.is(h.code, 0);
  t.regex(h.stdout, /Usage: juicefs-path-prober/);
  const v = await cli(['--version']);
  t.is(v.code, 0);
  t.regex(v.stdout, /^\d+\.\d+\.\d+/);
});

test('check with no published paths says so and exits 0', async (t) => {
  const k = box.tree('check-empty');
  const r = await cli(['check', '--kubelet-dir', k.kubeletDir]);
  t.is(r.code, 0);
  t.regex(r.stdout, /no published volume paths/);
});

test('check exits 1 naming the pods directory when it cannot be listed, instead of reporting no paths', async (t) => {
  const k = box.tree('check-nopods');
  const missing = path.join(k.root, 'no-such-kubelet');
  const r = await cli(['check', '--kubelet-dir', missing]);
  t.is(r.code, 1);
  t.notRegex(r.stdout, /no published volume paths/);
  // One line, the error and what to do about it; nothing about retrying, which a one-shot command does not do.
  t.is(
    r.stderr,
    `the kubelet pods directory ${path.join(missing, 'pods')} does not exist; kubelet creates it before any pod runs, so --kubelet-dir is likely wrong (k0s: /var/lib/k0s/kubelet, MicroK8s: /var/snap/microk8s/common/var/lib/kubelet)\n`,
  );
});

test('check with an API server that cannot be reached waits for it, then answers without it instead of ending early with nothing', async (t) => {
  const k = box.tree('check-noapi');
  const api = await startFakeApiServer();
  const kubeconfig = path.join(k.root, 'kubeconfig');
  fs.copyFileSync(api.kubeconfig, kubeconfig);
  await api.close(); // its address now refuses connections
  const r = await cli(['check', '--kubelet-dir', k.kubeletDir, '--kubeconfig', kubeconfig, '--node-name', 'n1']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /no published volume paths/);
  t.regex(r.stderr, /the Kubernetes API gave no complete answer in time/);
});

test('check exits 1 with only the error when the mount table cannot be read, no daemon talk of keeping states', async (t) => {
  const k = box.tree('check-nomountinfo');
  const missing = path.join(k.root, 'no-mountinfo');
  const r = await cli(['check', '--kubelet-dir', k.kubeletDir, '--mountinfo', missing]);
  t.is(r.code, 1);
  t.is(r.stderr, `${missing}: cannot read the mount table: ENOENT: no such file or directory, open '${missing}'\n`);
  t.is(r.stdout, '');
});

mountTest('check on a node with network namespaces says nothing of the mount table: an nsfs line is not malformed', async (t) => {
  const k = box.tree('check-netns');
  t.teardown(addNetns(`jfs-prober-check-${process.pid}`));
  const r = await cli(['check', '--kubelet-dir', k.kubeletDir]);
  t.is(r.code, 0);
  t.is(r.stderr, '');
  t.regex(r.stdout, /no published volume paths/);
});

mountTest('check prints a table and exits 0 when every path is healthy', async (t) => {
  const k = box.tree('check-ok');
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const uid = newPodUid();
  const v = k.publish(uid, 'pv-ok', { mountFrom: path.join(fuse.mnt, 'pv-ok') });
  const r = await cli(['check', '--kubelet-dir', k.kubeletDir]);
  t.is(r.code, 0, r.stdout + r.stderr);
  const [header, row] = r.stdout.trim().split('\n');
  t.regex(header!, /^POD\s+PV\s+PATH\s+STATE\s+DETAIL\s+LATENCY$/);
  t.true(row!.startsWith(uid));
  t.regex(row!, /pv-ok .* healthy +- +\d/);
});

mountTest('check exits 1 when a path is broken, and returns promptly even when one hangs', async (t) => {
  const k = box.tree('check-bad');
  const uid = newPodUid();
  const dead = await startFuse(path.join(k.root, 'jfs-dead'));
  const hung = await startFuse(path.join(k.root, 'jfs-hung'));
  const vDead = k.publish(uid, 'pv-dead');
  const vHung = k.publish(uid, 'pv-hung');
  bindMount(path.join(dead.mnt, 'pv-dead'), vDead.mountPath);
  bindMount(path.join(hung.mnt, 'pv-hung'), vHung.mountPath);
  await dead.kill();
  await hung.setMode('hungread');
  const r = await cli(['check', '--kubelet-dir', k.kubeletDir, '--timeout', '500ms']);
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(r.stdout, /pv-dead .* disconnected +ENOTCONN: Transport endpoint is not connected/);
  t.regex(r.stdout, /pv-hung .* timeout +no answer to stat within 500ms/);
  // The point is that it exits while the mount still hangs (a stat on it never returns), not how
  // fast: a busy machine takes seconds to start Node twice. Speed lives in the bench.
  t.true(r.ms < 30_000, `check took ${r.ms} ms`);
  t.is((await hung.stats()).held, 1, 'the hung call is still held when check has exited');
});

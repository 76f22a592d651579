// `npm run demo`: the prober against a sandbox kubelet directory with real
// FUSE mounts of type fuse.juicefs in every state, on a machine without
// Kubernetes. Needs root and /dev/fuse. Runs in a private mount namespace, so
// every mount it makes goes away when it exits, Ctrl-C or crash included.
//
//   npm run demo            show the states, then keep serving until Ctrl-C
//   npm run demo -- --once  show the states and exit
//
// Without a terminal on stdin (piped, CI, `ssh host cmd`) it behaves as --once:
// nobody could press Ctrl-C, and the mounts must not outlive the run.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatTable } from '../src/cli/table.js';
import { CLI } from '../test/fixtures/daemon.js';
import { createKubeletTree, newPodUid, type KubeletTree } from '../test/fixtures/kubelet-tree.js';
import { bindMount, cleanupAll, mountPrivileges, reexecInPrivateMountNamespace, startFuse, tmpfsMount, type FuseHandle } from '../test/fixtures/mounts.js';

const args = process.argv.slice(2);
const once = args.includes('--once') || !process.stdin.isTTY;
const port = Number(/^--port=(\d+)$/.exec(args.find((a) => a.startsWith('--port=')) ?? '')?.[1] ?? 9567);

reexecInPrivateMountNamespace(fileURLToPath(import.meta.url), args);

// Found before anything is mounted: a taken port is one line naming the way out, not a stack trace.
const portFree = await new Promise<string | undefined>((resolve) => {
  const probe = net.createServer();
  probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? 'is already in use' : err.message));
  probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(undefined)));
});
if (portFree) {
  process.stderr.write(`demo: cannot listen on 127.0.0.1:${port}: ${portFree}; choose another with npm run demo -- --port=N\n`);
  process.exit(2);
}

const priv = mountPrivileges();
if (!priv.ok) {
  process.stderr.write(`demo ${priv.reason} (root, /dev/fuse, util-linux unshare)\n`);
  process.exit(2);
}

/** A failure the demo explains itself: no stack trace. */
class DemoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoError';
  }
}

const say = (s = '') => process.stdout.write(s + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let tree: KubeletTree | undefined;
let daemon: ReturnType<typeof spawn> | undefined;

function cleanup(): void {
  daemon?.kill('SIGKILL');
  cleanupAll();
  tree?.remove();
}
process.on('SIGINT', () => {
  say('\nstopping: killing the FUSE clients and unmounting everything');
  cleanup();
  process.exit(0);
});
process.on('exit', cleanup);

/** `check`'s table with its cells rewritten (the sandbox's long paths shortened), columns re-padded. */
function shortenTable(text: string, edit: (cell: string) => string): string {
  const [header, ...lines] = text.split('\n').filter((l) => l !== '');
  if (header === undefined) return text;
  const starts = [...header.matchAll(/\S+/g)].map((m) => m.index);
  const cells = (line: string) => starts.map((s, i) => line.slice(s, starts[i + 1]).trimEnd());
  return formatTable(cells(header), lines.map((l) => cells(l).map(edit)));
}

async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

function pathLines(text: string, metric: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(metric + '{'))
    .map((l) => l.replace(/volume_path="[^"]*\/pods\/[^/]+\//, 'volume_path=".../pods/<uid>/').replace(/pod_uid="[^"]*"/, 'pod_uid="<uid>"'))
    .sort();
}

async function main(): Promise<void> {
  tree = createKubeletTree('demo');
  const t = tree;
  const uid = newPodUid();
  say(`sandbox kubelet directory: ${t.kubeletDir}`);
  say(`one pod (<uid> below: ${uid}) with a JuiceFS volume in every state:\n`);

  // Like the CSI driver: a mount pod's JuiceFS client mounts the file system,
  // and each PV's subdirectory is bind-mounted into the pod's target path.
  const client = async (pv: string): Promise<{ fuse: FuseHandle; mountPath: string }> => {
    const fuse = await startFuse(path.join(t.root, 'juicefs-clients', pv));
    const v = t.publish(uid, pv, { mountFrom: path.join(fuse.mnt, pv) });
    return { fuse, mountPath: v.mountPath };
  };
  const healthy = await client('pvc-healthy');
  say('  pvc-healthy     JuiceFS client answering');
  const hung = await client('pvc-hung');
  await hung.fuse.setMode('hungread');
  say('  pvc-hung        client reads requests and never answers (stuck on its metadata engine)');
  const dead = await client('pvc-dead');
  await dead.fuse.kill();
  say('  pvc-dead        client process died: "transport endpoint is not connected"');
  const eio = await client('pvc-eio');
  await eio.fuse.setMode('eio');
  say('  pvc-eio         client answers every request with EIO');
  const unmounted = t.publish(uid, 'pvc-unmounted');
  const old = new Date(Date.now() - 10 * 60_000);
  fs.utimesSync(unmounted.pvDir, old, old);
  say('  pvc-unmounted   published 10 minutes ago, nothing mounted (e.g. lost after a client restart)');
  const pending = t.publish(uid, 'pvc-pending', { mountDir: false });
  say('  pvc-pending     just published, the driver has not mounted it yet (within --publish-grace)');
  const wrong = t.publish(uid, 'pvc-tmpfs');
  tmpfsMount(wrong.mountPath);
  say('  pvc-tmpfs       a tmpfs where a fuse.juicefs mount should be');
  const sub = t.subpathDir(uid, 'data', 'app', 0);
  bindMount(path.join(healthy.fuse.mnt, 'pvc-healthy', 'logs'), sub);
  say('  subPath         volume-subpaths/data/app/0, a subPath of pvc-healthy');
  const other = t.publish(uid, 'pvc-nfs', { driver: 'nfs.csi.k8s.io' });
  tmpfsMount(other.mountPath);
  say('  pvc-nfs         another CSI driver\'s volume: not ours, not probed');

  // check gets the daemon's timeout and grace, so both tell the same story.
  const shared = ['--kubelet-dir', t.kubeletDir, '--timeout', '1s', '--publish-grace', '1m'];
  const flags = [...shared, '--interval', '1s', '--node-name', 'demo-node'];
  say(`\nstarting: npx juicefs-path-prober serve ${flags.join(' ')} --listen 127.0.0.1:${port}`);
  daemon = spawn(process.execPath, [CLI, 'serve', ...flags, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const logs: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: daemon!.stdout! }).on('line', (line) => {
      logs.push(line);
      try {
        const e = JSON.parse(line) as { msg?: string; port?: number };
        if (e.msg === 'listening') resolve(`http://127.0.0.1:${e.port}`);
      } catch {
        // not JSON
      }
    });
    daemon!.once('exit', (code) => reject(new DemoError(`the prober exited (code ${code}) before listening; if port ${port} was taken meanwhile, choose another with npm run demo -- --port=N`)));
  });

  // Wait for the first verdicts, including the hung path's timeout.
  for (let i = 0; i < 50; i++) {
    const text = await scrape(url);
    if (pathLines(text, 'juicefs_volume_path_state').some((l) => l.includes('state="timeout"'))) break;
    await sleep(200);
  }
  const text = await scrape(url);
  say(`\n$ curl -s ${url}/metrics | grep '^juicefs_volume_path_health'`);
  for (const l of pathLines(text, 'juicefs_volume_path_health')) say(l);
  say(`\n$ curl -s ${url}/metrics | grep '^juicefs_volume_path_state'`);
  for (const l of pathLines(text, 'juicefs_volume_path_state')) say(l);
  say('(pvc-healthy and its subPath have no state series: a health of 1 is their state)');

  say(`\n$ npx juicefs-path-prober check ${shared.join(' ')}`);
  const check = spawnSync(process.execPath, [CLI, 'check', ...shared], { encoding: 'utf8' });
  process.stdout.write(shortenTable(check.stdout, (c) => c.replaceAll(t.kubeletDir, '<kubelet>').replaceAll(uid, '<uid>')));
  say(`(exit code ${check.status})`);

  say('\nthe hung client starts answering again...');
  await hung.fuse.setMode('healthy');
  for (let i = 0; i < 30; i++) {
    const lines = pathLines(await scrape(url), 'juicefs_volume_path_health');
    const h = lines.find((l) => l.includes('pvc-hung'));
    if (h?.endsWith(' 1')) {
      say(h);
      break;
    }
    await sleep(200);
  }
  say('\nstate changes the daemon logged (one line each):');
  for (const l of logs) {
    const e = JSON.parse(l) as { msg?: string; pv?: string; path?: string; kind?: string; state?: string; previous?: string; detail?: string };
    if (e.msg !== 'volume path state') continue;
    // A subPath shares its volume's PV: tell them apart by where it is bound.
    const which = e.kind === 'subpath' ? `${e.pv} subPath ${e.path?.split('/volume-subpaths/')[1] ?? ''}` : e.pv;
    say(`  ${which}: ${e.previous ?? '-'} -> ${e.state}${e.detail ? ` (${e.detail})` : ''}`);
  }

  if (once) {
    if (!args.includes('--once')) say('\n(stdin is not a terminal, so the demo ran once and unmounted everything; run it from a terminal to keep the daemon serving)');
    return;
  }
  say(`\nserving at ${url}  (try: curl ${url}/status | head -40)`);
  say('press Ctrl-C to stop and unmount everything');
  await new Promise(() => {});
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof DemoError ? err.message : err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);

// What the DaemonSet's container needs, measured on real mounts: uid 0 with every
// capability dropped reads kubelet's root-owned 0750 tree and stats a root-owned
// FUSE mount; another uid cannot read that tree (so the image cannot run as
// non-root without CAP_DAC_READ_SEARCH, which Kubernetes does not give a non-root
// process). And the container's view of the kubelet directory, a read-only bind
// with HostToContainer (rslave) propagation, shows mounts made after it started.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, type Status } from '../fixtures/daemon.js';
import { eventually, mountTest } from '../fixtures/harness.js';
import { createKubeletTree, newPodUid, type KubeletTree } from '../fixtures/kubelet-tree.js';
import { bindMount, cleanupAll, forceUnmount, startFuse } from '../fixtures/mounts.js';

const NOBODY = 65532;

/** setpriv arguments: this uid, no supplementary groups, no capabilities of any kind, no privilege gain. */
function dropTo(uid: number): string[] {
  return [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];
}

function asUser(uid: number, cmd: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync('setpriv', [...dropTo(uid), cmd, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The modes kubelet gives its directories: root-owned, 0750, down to the volume's `<pv>/` directory. */
function kubeletModes(tree: KubeletTree, podUid: string, pv: string, mode: number): void {
  const pvDir = path.join(tree.podsDir, podUid, 'volumes', 'kubernetes.io~csi', pv);
  for (let d = pvDir; d.startsWith(tree.kubeletDir); d = path.dirname(d)) fs.chmodSync(d, mode);
}

function capEff(status: string): string | undefined {
  return /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
}

mountTest('uid 0 without any capability reads kubelet’s 0750 tree and stats the FUSE mount; another uid cannot', async (t) => {
  t.timeout(120_000);
  const k = createKubeletTree('privileges');
  t.teardown(() => {
    cleanupAll();
    k.remove();
  });
  fs.chmodSync(k.root, 0o755); // mkdtemp makes it 0700; the host's /var/lib is 0755
  const uid = newPodUid();
  // A JuiceFS mount pod's client runs as root and mounts with allow_other.
  const fuse = await startFuse(path.join(k.root, 'jfs', 'pv-a'));
  const vol = k.publish(uid, 'pv-a', { mountFrom: fuse.mnt });
  const check = (u: number) => asUser(u, process.execPath, [CLI, 'check', '--kubelet-dir', k.kubeletDir, '--timeout', '5s']);

  const caps = asUser(0, 'cat', ['/proc/self/status']);
  t.is(capEff(caps.out), '0000000000000000', 'the dropped process has no effective capability');
  t.regex(caps.out, /^Uid:\s+0\s+0\s+0\s+0$/m);

  // Control: with world-traversable directories a non-root process can run check and stat the mount.
  kubeletModes(k, uid, 'pv-a', 0o755);
  const open = check(NOBODY);
  t.is(open.code, 0, open.out + open.err);
  t.regex(open.out, /pv-a\s+\S+\s+healthy/);

  kubeletModes(k, uid, 'pv-a', 0o750);
  const root = check(0);
  t.log(`uid 0, CapEff 0, kubelet modes 0750: exit ${root.code}\n${root.out.trim()}`);
  t.is(root.code, 0, root.out + root.err);
  t.regex(root.out, /pv-a\s+\S+\s+healthy/);

  const other = check(NOBODY);
  t.log(`uid ${NOBODY}, CapEff 0, kubelet modes 0750: exit ${other.code}\n${other.out.trim()}\n${other.err.trim()}`);
  t.notRegex(other.out, /healthy/);
  t.regex(other.err, /EACCES/);
});

interface Spawned {
  pid: number;
  url: string;
  status(): Promise<Status>;
  stop(): Promise<void>;
}

/** The daemon as the container runs it: own mount namespace, the kubelet dir a read-only rslave bind, uid 0, no capabilities. */
async function startContained(kubeletDir: string): Promise<Spawned> {
  const script = [
    'set -e',
    'mount --bind "$K" "$K"',
    'mount -o remount,bind,ro "$K"',
    // readOnlyRootFilesystem: the daemon and its helpers must write nothing.
    'mount -o remount,bind,ro /',
    `exec setpriv ${dropTo(0).join(' ')} "$NODE" "$CLI" serve --kubelet-dir "$K" --listen 127.0.0.1:0 --node-name test-node --interval 300ms --timeout 400ms --resync 2s --publish-grace 0s`,
  ].join('\n');
  const child = spawn('unshare', ['--mount', '--propagation', 'slave', '--', 'sh', '-c', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, K: kubeletDir, NODE: process.execPath, CLI },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const e = JSON.parse(line) as { msg?: string; port?: number };
        if (e.msg === 'listening') resolve(Number(e.port));
      } catch {
        // not a log line
      }
    });
    void exited.then(() => reject(new Error('the contained daemon exited before listening')));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    pid: child.pid!,
    url,
    status: async () => (await (await fetch(`${url}/status`)).json()) as Status,
    async stop() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function waitForStatus(d: Spawned, pred: (s: Status) => boolean, what: string, ms = 30_000): Promise<Status> {
  let last: Status | undefined;
  return eventually(
    what,
    async () => {
      last = await d.status();
      return pred(last) ? last : undefined;
    },
    { timeoutMs: ms, intervalMs: 100 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(last?.paths)}`);
  });
}

mountTest('in the container’s view (read-only root and kubelet dir, HostToContainer, uid 0, no capabilities) mounts made after start show up and are probed', async (t) => {
  t.timeout(120_000);
  const k = createKubeletTree('container');
  let d: Spawned | undefined;
  t.teardown(async () => {
    await d?.stop();
    cleanupAll();
    forceUnmount(k.kubeletDir);
    k.remove();
  });
  // The host side: kubelet's directory is a shared mount, as on a node with systemd.
  bindMountSelf(k.kubeletDir);
  d = await startContained(k.kubeletDir);
  await waitForStatus(d, (s) => s.ready, 'ready');

  const status = fs.readFileSync(`/proc/${d.pid}/status`, 'utf8');
  t.is(capEff(status), '0000000000000000');
  const inside = fs.readFileSync(`/proc/${d.pid}/mountinfo`, 'utf8').split('\n').filter((l) => l.split(' ')[4] === k.kubeletDir);
  const top = inside.at(-1) ?? '';
  t.regex(top, / ro[, ]/, 'the kubelet dir is read-only inside');
  t.regex(top, /master:\d+/, 'and a slave of the host’s mount (HostToContainer)');
  const rootMount = fs.readFileSync(`/proc/${d.pid}/mountinfo`, 'utf8').split('\n').filter((l) => l.split(' ')[4] === '/').at(-1) ?? '';
  t.regex(rootMount, / ro[, ]/, 'the root file system is read-only inside');

  // After the daemon started: a client mounts, kubelet publishes and binds, another client dies.
  const uid = newPodUid();
  const okFuse = await startFuse(path.join(k.root, 'jfs', 'pv-ok'));
  const ok = k.publish(uid, 'pv-ok', { mountFrom: okFuse.mnt });
  const deadFuse = await startFuse(path.join(k.root, 'jfs', 'pv-dead'));
  const dead = k.publish(uid, 'pv-dead', { mountFrom: deadFuse.mnt });
  await deadFuse.kill();

  const s = await waitForStatus(
    d,
    (s) => s.paths.find((p) => p.path === ok.mountPath)?.state === 'healthy' && s.paths.find((p) => p.path === dead.mountPath)?.state === 'disconnected',
    'the new mounts probed inside',
  );
  t.is(s.paths.length, 2);
  t.true(
    fs.readFileSync(`/proc/${d.pid}/mountinfo`, 'utf8').includes(` ${ok.mountPath} `),
    'the bind mount made on the host propagated into the container’s namespace',
  );
});

function bindMountSelf(dir: string): void {
  bindMount(dir, dir);
  const r = spawnSync('mount', ['--make-shared', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount --make-shared ${dir}: ${r.stderr}`);
}

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { nodeDiscoveryFs, type DiscoveryFs } from '../src/discovery/discovery-fs.js';
import { createInventory } from '../src/discovery/inventory.js';
import { createKubeletLayout } from '../src/discovery/kubelet-layout.js';
import { createLogger } from '../src/log/logger.js';
import { byPath, sampleValue, startDaemon, type DaemonProcess } from './fixtures/daemon.js';
import { mountTest } from './fixtures/guard.js';
import { createKubeletTree, newPodUid, volDataJson, type KubeletTree } from './fixtures/kubelet-tree.js';
import { bindMount, cleanupAll, forceUnmount, startFuse } from './fixtures/mounts.js';

const trees: KubeletTree[] = [];
const daemons: DaemonProcess[] = [];
test.after.always(async () => {
  for (const d of daemons) await d.stop('SIGKILL');
  cleanupAll();
  for (const t of trees) t.remove();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A complete published volume outside the kubelet directory, mounted, to lure a prober that follows links. */
function lure(root: string, name: string, fuseMnt: string): string {
  const pvDir = path.join(root, 'outside', name, 'volumes', 'kubernetes.io~csi', 'pv-lure');
  fs.mkdirSync(pvDir, { recursive: true });
  fs.writeFileSync(path.join(pvDir, 'vol_data.json'), volDataJson('csi.juicefs.com', `lure-${name}`, 'pv-lure'));
  bindMount(fuseMnt, path.join(pvDir, 'mount'));
  return path.join(root, 'outside', name);
}

mountTest('symlinks in the kubelet tree are never followed out: a symlinked mount is reported, symlinked pods, plugin and volume directories are skipped and logged', async (t) => {
  const k = createKubeletTree('symlinks');
  trees.push(k);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  // `mount` itself a symlink to a healthy JuiceFS mount elsewhere.
  const linked = k.publish(newPodUid(), 'pv-linked-mount', { mountDir: false });
  fs.symlinkSync(fuse.mnt, linked.mountPath);
  // The pod directory a symlink.
  const podLink = path.join(k.podsDir, newPodUid());
  fs.symlinkSync(lure(k.root, 'pod', fuse.mnt), podLink);
  // kubernetes.io~csi a symlink.
  const csiPod = newPodUid();
  fs.mkdirSync(path.join(k.podsDir, csiPod, 'volumes'), { recursive: true });
  fs.symlinkSync(path.join(lure(k.root, 'csi', fuse.mnt), 'volumes', 'kubernetes.io~csi'), path.join(k.podsDir, csiPod, 'volumes', 'kubernetes.io~csi'));
  // One <pv> directory a symlink, beside a real one.
  const pvPod = newPodUid();
  const real = k.publish(pvPod, 'pv-real', { mountFrom: fuse.mnt });
  fs.symlinkSync(path.join(lure(k.root, 'pv', fuse.mnt), 'volumes', 'kubernetes.io~csi', 'pv-lure'), path.join(k.podsDir, pvPod, 'volumes', 'kubernetes.io~csi', 'pv-lure'));

  const d = await startDaemon(['--kubelet-dir', k.kubeletDir, '--interval', '300ms', '--timeout', '1s', '--publish-grace', '1h']);
  daemons.push(d);
  const s = await d.waitFor((s) => byPath(s, real.mountPath)?.state === 'healthy' && byPath(s, linked.mountPath)?.state === 'not_mounted', 20_000, 'states');
  t.regex(byPath(s, linked.mountPath)!.detail, /symlink/, 'reported as a symlink, even within the publish grace');
  t.is(s.paths.length, 2, `only the two real paths: ${s.paths.map((p) => p.path).join(', ')}`);
  const text = await d.metrics();
  t.false(text.includes('lure-'), 'nothing reached through a link');
  t.false(text.includes('/outside/'));
  await sleep(1000);
  const skipped = d.logs.filter((l) => l.msg === 'skipping unreadable or malformed entry' && l.kind === 'symlink');
  t.is(skipped.length, 3, `each symlinked directory logged once: ${JSON.stringify(skipped)}`);
  t.true(sampleValue(text, 'juicefs_path_prober_discovery_errors_total', { kind: 'symlink' })! >= 3);
});

test('a pod directory deleted in the middle of a scan neither fails the scan nor hides the other pods', async (t) => {
  const k = createKubeletTree('midscan');
  trees.push(k);
  const victim = newPodUid();
  k.publish(victim, 'pv-v');
  const others = Array.from({ length: 20 }, () => k.publish(newPodUid(), 'pv-o').mountPath);
  const layout = createKubeletLayout(k.kubeletDir);
  let deleted = false;
  // Real files; the victim's directory vanishes right after its volume list was read.
  const racing: DiscoveryFs = {
    ...nodeDiscoveryFs,
    async listEntries(dir) {
      const entries = await nodeDiscoveryFs.listEntries(dir);
      if (dir === layout.csiDir(victim)) {
        fs.rmSync(layout.podDir(victim), { recursive: true });
        deleted = true;
      }
      return entries;
    },
  };
  const problems: string[] = [];
  const inventory = createInventory({ layout, drivers: new Set(['csi.juicefs.com']), fs: racing, logger: createLogger({ write: () => {} }), onProblem: (k) => problems.push(k) });
  t.teardown(() => inventory.close());
  await inventory.resync();
  t.true(deleted);
  t.deepEqual(inventory.list().map((v) => v.path).sort(), [...others].sort());
  t.deepEqual(problems, [], 'a pod going away is not a problem');
});

mountTest('a volume torn down and re-published at the same path again and again: no 0, and the old volume id never comes back', async (t) => {
  const k = createKubeletTree('republish-loop');
  trees.push(k);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const uid = newPodUid();
  const first = k.publish(uid, 'pv-same', { volumeHandle: 'handle-0', mountFrom: fuse.mnt });
  const d = await startDaemon(['--kubelet-dir', k.kubeletDir, '--interval', '200ms', '--timeout', '1s', '--resync', '1s', '--publish-grace', '5s']);
  daemons.push(d);
  await d.waitFor((s) => byPath(s, first.mountPath)?.state === 'healthy', 20_000, 'healthy');
  let polling = true;
  const seen: { handle: string; value: number }[] = [];
  const poll = (async () => {
    while (polling) {
      for (const line of (await d.metrics()).split('\n')) {
        if (!line.startsWith('juicefs_volume_path_health{') || !line.includes(first.mountPath)) continue;
        seen.push({ handle: /volume_id="([^"]*)"/.exec(line)![1]!, value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
      }
      await sleep(20);
    }
  })();
  for (let i = 1; i <= 5; i++) {
    // kubelet's teardown, then a new publish of another volume at the same path.
    forceUnmount(first.mountPath);
    fs.rmSync(path.join(k.podsDir, uid, 'volumes', 'kubernetes.io~csi', 'pv-same'), { recursive: true });
    await sleep(100);
    k.publish(uid, 'pv-same', { volumeHandle: `handle-${i}` });
    bindMount(path.join(fuse.mnt), first.mountPath);
    await d.waitFor((s) => byPath(s, first.mountPath)?.volume_id === `handle-${i}` && byPath(s, first.mountPath)?.state === 'healthy', 20_000, `handle-${i}`);
    await sleep(300);
  }
  polling = false;
  await poll;
  t.true(seen.length > 20);
  t.deepEqual(seen.filter((s) => s.value !== 1), [], 'never a 0');
  const order = seen.map((s) => Number(s.handle.split('-')[1]));
  t.true(order.every((n, i) => i === 0 || n >= order[i - 1]!), `a volume id never comes back once replaced: ${[...new Set(order)].join(',')}`);
});

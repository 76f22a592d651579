import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { nodeDiscoveryFs, type DiscoveryFs } from '../src/discovery/discovery-fs.js';
import { createInventory } from '../src/discovery/inventory.js';
import { createKubeletLayout } from '../src/discovery/kubelet-layout.js';
import { createLogger } from '../src/log/logger.js';
import { byPath } from './fixtures/daemon.js';
import { afterCycles, counterAtLeast, mountTest, poll, samples, sampleValue, sandbox } from './fixtures/harness.js';
import { newPodUid, volDataJson } from './fixtures/kubelet-tree.js';
import { bindMount, forceUnmount, startFuse } from './fixtures/mounts.js';

const box = sandbox();

/** A complete published volume outside the kubelet directory, mounted, to lure a prober that follows links. */
function lure(root: string, name: string, fuseMnt: string): string {
  const pvDir = path.join(root, 'outside', name, 'volumes', 'kubernetes.io~csi', 'pv-lure');
  fs.mkdirSync(pvDir, { recursive: true });
  fs.writeFileSync(path.join(pvDir, 'vol_data.json'), volDataJson('csi.juicefs.com', `lure-${name}`, 'pv-lure'));
  bindMount(fuseMnt, path.join(pvDir, 'mount'));
  return path.join(root, 'outside', name);
}

mountTest('symlinks in the kubelet tree are never followed out: a symlinked mount is reported, symlinked pods, plugin and volume directories are skipped and logged', async (t) => {
  const k = box.tree('symlinks');
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

  const d = await box.daemon(['--kubelet-dir', k.kubeletDir, '--interval', '300ms', '--timeout', '1s', '--resync', '1s', '--publish-grace', '1h']);
  const s = await d.waitFor((s) => byPath(s, real.mountPath)?.state === 'healthy' && byPath(s, linked.mountPath)?.state === 'not_mounted', 20_000, 'states');
  t.regex(byPath(s, linked.mountPath)!.detail, /symlink/, 'reported as a symlink, even within the publish grace');
  t.is(s.paths.length, 2, `only the two real paths: ${s.paths.map((p) => p.path).join(', ')}`);
  const text = await d.metrics();
  t.false(text.includes('lure-'), 'nothing reached through a link');
  t.false(text.includes('/outside/'));
  // Counted on every scan: six is each of the three seen twice.
  await counterAtLeast(d, 'juicefs_path_prober_discovery_errors_total', { kind: 'symlink' }, 6);
  const skipped = d.logs.filter((l) => l.msg === 'skipping unreadable or malformed entry' && l.kind === 'symlink');
  t.is(skipped.length, 3, `each symlinked directory logged once: ${JSON.stringify(skipped)}`);
  t.true(sampleValue(text, 'juicefs_path_prober_discovery_errors_total', { kind: 'symlink' })! >= 3, 'counted from the first scan');
});

test('a pod directory deleted in the middle of a scan neither fails the scan nor hides the other pods', async (t) => {
  const k = box.tree('midscan');
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
  const k = box.tree('republish-loop');
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const uid = newPodUid();
  const first = k.publish(uid, 'pv-same', { volumeHandle: 'handle-0', mountFrom: fuse.mnt });
  const d = await box.daemon(['--kubelet-dir', k.kubeletDir, '--interval', '200ms', '--timeout', '1s', '--resync', '1s', '--publish-grace', '5s']);
  await d.waitFor((s) => byPath(s, first.mountPath)?.state === 'healthy', 20_000, 'healthy');
  const scrapes = poll(async () =>
    samples(await d.metrics(), 'juicefs_volume_path_health', { volume_path: first.mountPath }).map((s) => ({ handle: s.labels.volume_id!, value: s.value })),
  );
  for (let i = 1; i <= 5; i++) {
    // kubelet's teardown, then a new publish of another volume at the same path.
    forceUnmount(first.mountPath);
    fs.rmSync(path.join(k.podsDir, uid, 'volumes', 'kubernetes.io~csi', 'pv-same'), { recursive: true });
    await afterCycles(d, 2); // the teardown seen by a whole cycle
    k.publish(uid, 'pv-same', { volumeHandle: `handle-${i}` });
    bindMount(path.join(fuse.mnt), first.mountPath);
    await d.waitFor((s) => byPath(s, first.mountPath)?.volume_id === `handle-${i}` && byPath(s, first.mountPath)?.state === 'healthy', 20_000, `handle-${i}`);
    await afterCycles(d, 2);
  }
  const seen = (await scrapes.stop()).flat();
  t.true(seen.length > 20);
  t.deepEqual(seen.filter((s) => s.value !== 1), [], 'never a 0');
  const order = seen.map((s) => Number(s.handle.split('-')[1]));
  t.true(order.every((n, i) => i === 0 || n >= order[i - 1]!), `a volume id never comes back once replaced: ${[...new Set(order)].join(',')}`);
});

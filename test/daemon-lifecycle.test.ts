import path from 'node:path';
import { byPath, FAST_FLAGS } from './fixtures/daemon.js';
import { afterCycles, cycleCount, eventually, mountTest, poll, sampleValue, sandbox } from './fixtures/harness.js';
import { newPodUid } from './fixtures/kubelet-tree.js';
import { startFuse, unmount } from './fixtures/mounts.js';

const box = sandbox();
const tree = box.tree;
const daemon = (args: string[]) => box.daemon(args);

/** A daemon probing one JuiceFS volume, once it reports it healthy. */
async function healthyVolume(name: string, pv: string, clientDir = 'jfs') {
  const k = tree(name);
  const fuse = await startFuse(path.join(k.root, clientDir));
  const v = k.publish(newPodUid(), pv, { mountFrom: path.join(fuse.mnt, pv) });
  const d = await daemon(['--kubelet-dir', k.kubeletDir, ...FAST_FLAGS]);
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy', 5000, 'healthy');
  return { fuse, v, d };
}

mountTest('a hung mount goes back to 1 when its client answers again', async (t) => {
  const { fuse, v, d } = await healthyVolume('recover', 'pv-r');
  await fuse.setMode('hungread');
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'timeout', 5000, 'timeout');
  t.is(sampleValue(await d.metrics(), 'juicefs_volume_path_health', { volume_path: v.mountPath }), 0);
  await fuse.setMode('healthy');
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy', 5000, 'healthy again');
  t.is(sampleValue(await d.metrics(), 'juicefs_volume_path_health', { volume_path: v.mountPath }), 1);
  t.is((await fuse.stats()).held, 0);
});

mountTest('a new pod’s path appears and a deleted pod’s series vanish without waiting for a resync', async (t) => {
  const k = tree('churn');
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const d = await daemon(['--kubelet-dir', k.kubeletDir, '--interval', '30s', '--timeout', '1s', '--resync', '10m']);
  await d.waitFor((s) => s.ready, 5000, 'ready');
  const uid = newPodUid();
  const t0 = Date.now();
  const v = k.publish(uid, 'pv-new', { mountFrom: path.join(fuse.mnt, 'pv-new') });
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy', 5000, 'the new path');
  t.log(`new path healthy after ${Date.now() - t0} ms`);
  t.true(Date.now() - t0 < 3000);

  // kubelet's teardown: unmount, then remove the volume directory and the pod.
  const t1 = Date.now();
  unmount(v.mountPath);
  k.removePod(uid);
  await d.waitFor((s) => byPath(s, v.mountPath) === undefined, 5000, 'the path to go');
  t.log(`removed path gone after ${Date.now() - t1} ms`);
  t.true(Date.now() - t1 < 3000);
  const text = await d.metrics();
  t.false(text.includes(v.mountPath), 'no series of the removed path is left');
});

mountTest('a normal pod teardown (unmount, then delete) never exports a 0', async (t) => {
  const k = tree('teardown');
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const uid = newPodUid();
  const v = k.publish(uid, 'pv-t', { mountFrom: path.join(fuse.mnt, 'pv-t') });
  const d = await daemon(['--kubelet-dir', k.kubeletDir, '--interval', '100ms', '--timeout', '1s', '--resync', '10m']);
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy', 5000, 'healthy');
  const health = poll(async () => sampleValue(await d.metrics(), 'juicefs_volume_path_health', { volume_path: v.mountPath }));
  const before = health.count;
  unmount(v.mountPath);
  // kubelet takes a moment between unmounting and deleting: cycles see the path unmounted meanwhile, and scrapes read it.
  await afterCycles(d, 4);
  await eventually('scrapes while unmounted', () => health.count >= before + 5);
  k.removePod(uid);
  await d.waitFor((s) => byPath(s, v.mountPath) === undefined, 5000, 'the path to go');
  const seen = await health.stop();
  t.false(seen.includes(0), `health values seen: ${seen.join(',')}`);
});

mountTest('a published path not mounted yet is pending with no 0 during the grace, then 0', async (t) => {
  const k = tree('grace');
  const d = await daemon(['--kubelet-dir', k.kubeletDir, '--interval', '200ms', '--timeout', '1s', '--resync', '10m', '--publish-grace', '4s']);
  await d.waitFor((s) => s.ready, 20_000, 'ready');
  // Published once the daemon runs, so its start-up does not eat into the grace.
  const v = k.publish(newPodUid(), 'pv-slow');
  const s = await d.waitFor((s) => byPath(s, v.mountPath) !== undefined, 5000, 'the path');
  t.is(byPath(s, v.mountPath)!.state, 'pending');
  t.is(byPath(s, v.mountPath)!.health, null);
  const text = await d.metrics();
  t.is(sampleValue(text, 'juicefs_volume_path_health', { volume_path: v.mountPath }), undefined);
  t.is(sampleValue(text, 'juicefs_volume_path_state', { volume_path: v.mountPath, state: 'pending' }), 1);
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'not_mounted', 20_000, 'not_mounted after the grace');
  t.is(sampleValue(await d.metrics(), 'juicefs_volume_path_health', { volume_path: v.mountPath }), 0);
});

mountTest('many pods bound to one volume cost one stat per cycle', async (t) => {
  const k = tree('shared');
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const paths: string[] = [];
  for (let i = 0; i < 20; i++) {
    const v = k.publish(newPodUid(), 'pv-shared', { mountFrom: path.join(fuse.mnt, 'pv-shared') });
    paths.push(v.mountPath);
  }
  const d = await daemon(['--kubelet-dir', k.kubeletDir, '--interval', '200ms', '--timeout', '1s']);
  await d.waitFor((s) => paths.every((p) => byPath(s, p)?.state === 'healthy'), 5000, 'all healthy');
  const g0 = (await fuse.stats()).getattr;
  const c0 = await cycleCount(d);
  await afterCycles(d, 5);
  const g1 = (await fuse.stats()).getattr;
  const c1 = await cycleCount(d);
  t.log(`${c1 - c0} cycles, ${g1 - g0} GETATTRs for ${paths.length} paths`);
  t.true(c1 - c0 >= 4);
  t.true(g1 - g0 <= c1 - c0 + 1, 'at most one stat per cycle for the shared source');
});

mountTest('paths with spaces and tabs in them are matched through the mount table’s escapes', async (t) => {
  const { v, d } = await healthyVolume('esc ape\ttab', 'pv-esc', 'jfs client');
  t.is(sampleValue(await d.metrics(), 'juicefs_volume_path_health', { volume_path: v.mountPath }), 1, 'exported under its real name');
});

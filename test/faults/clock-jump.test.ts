import test from 'ava';
import path from 'node:path';
import { mountTest } from '../fixtures/guard.js';
import { createKubeletTree, newPodUid, type KubeletTree } from '../fixtures/kubelet-tree.js';
import { cleanupAll, startFuse, unmount } from '../fixtures/mounts.js';
import { core, shiftableClock } from './core.js';

const trees: KubeletTree[] = [];
test.after.always(() => {
  cleanupAll();
  for (const t of trees) t.remove();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;

mountTest('after the wall clock jumps back an hour, new verdicts still apply', async (t) => {
  const k = createKubeletTree('clock-back');
  trees.push(k);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const v = k.publish(newPodUid(), 'pv-c', { mountFrom: path.join(fuse.mnt, 'pv-c') });
  const clock = shiftableClock();
  const { core: c } = await core(['--kubelet-dir', k.kubeletDir, '--timeout', '2s', '--publish-grace', '0s'], clock);
  t.teardown(() => c.close());
  await c.inventory.resync();
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'healthy');

  clock.jump(-HOUR);
  await fuse.setMode('eio');
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'io_error', 'a broken mount is reported after the jump');
  await fuse.setMode('healthy');
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'healthy');

  clock.jump(2 * HOUR);
  await fuse.setMode('estale');
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'stale', 'and after a jump forward');
});

mountTest('an unmount seen just before the clock jumps back is confirmed after the usual hold, not an hour later', async (t) => {
  const k = createKubeletTree('clock-unmount');
  trees.push(k);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const v = k.publish(newPodUid(), 'pv-u', { mountFrom: path.join(fuse.mnt, 'pv-u') });
  const clock = shiftableClock();
  const { core: c } = await core(['--kubelet-dir', k.kubeletDir, '--timeout', '2s', '--publish-grace', '0s'], clock);
  t.teardown(() => c.close());
  await c.inventory.resync();
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'healthy');
  unmount(v.mountPath);
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'healthy', 'held while kubelet may be tearing down');
  clock.jump(-HOUR);
  const deadline = Date.now() + 15_000;
  while (c.tracker.get(v.mountPath)?.state !== 'not_mounted' && Date.now() < deadline) {
    await sleep(500);
    await c.runCycle();
  }
  t.is(c.tracker.get(v.mountPath)?.state, 'not_mounted');
});

mountTest('a path never mounted leaves pending once the grace has passed on the monotonic clock, whatever the wall clock says', async (t) => {
  const k = createKubeletTree('clock-grace');
  trees.push(k);
  const v = k.publish(newPodUid(), 'pv-g');
  const clock = shiftableClock();
  const { core: c } = await core(['--kubelet-dir', k.kubeletDir, '--timeout', '2s', '--publish-grace', '1s'], clock);
  t.teardown(() => c.close());
  await c.inventory.resync();
  clock.jump(-HOUR); // the directory's mtime now lies an hour in the future
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'pending');
  const deadline = Date.now() + 15_000;
  while (c.tracker.get(v.mountPath)?.state === 'pending' && Date.now() < deadline) {
    await sleep(300);
    await c.runCycle();
  }
  t.is(c.tracker.get(v.mountPath)?.state, 'not_mounted');
});

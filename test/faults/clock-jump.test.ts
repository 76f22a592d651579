import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { mountTest, sandbox } from '../fixtures/harness.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { startFuse, unmount } from '../fixtures/mounts.js';
import { core, steerableClock } from './core.js';

const box = sandbox();
const HOUR = 3_600_000;

/** A healthy mounted volume, and the daemon's core on a clock the test can move, one cycle run. */
async function mountedVolume(t: ExecutionContext, name: string) {
  const k = box.tree(name);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const v = k.publish(newPodUid(), 'pv-c', { mountFrom: path.join(fuse.mnt, 'pv-c') });
  const clock = steerableClock();
  const { core: c } = await core(['--kubelet-dir', k.kubeletDir, '--timeout', '2s', '--publish-grace', '0s'], clock);
  t.teardown(() => c.close());
  await c.inventory.resync();
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'healthy');
  return { fuse, v, clock, c, state: () => c.tracker.get(v.mountPath)?.state };
}

mountTest('after the wall clock jumps back an hour, new verdicts still apply', async (t) => {
  const { fuse, clock, c, state } = await mountedVolume(t, 'clock-back');
  clock.jump(-HOUR);
  await fuse.setMode('eio');
  await c.runCycle();
  t.is(state(), 'io_error', 'a broken mount is reported after the jump');
  await fuse.setMode('healthy');
  await c.runCycle();
  t.is(state(), 'healthy');

  clock.jump(2 * HOUR);
  await fuse.setMode('estale');
  await c.runCycle();
  t.is(state(), 'stale', 'and after a jump forward');
});

mountTest('an unmount seen just before the clock jumps back is confirmed after the usual hold, not an hour later', async (t) => {
  const { v, clock, c, state } = await mountedVolume(t, 'clock-unmount');
  unmount(v.mountPath);
  await c.runCycle();
  t.is(state(), 'healthy', 'held while kubelet may be tearing down');
  clock.jump(-HOUR);
  // The hold is on the monotonic clock (2 s): over once 2 s have passed, not an hour.
  clock.pass(2000);
  await c.runCycle();
  t.is(state(), 'not_mounted', 'confirmed once the hold has passed');
});

mountTest('a path never mounted leaves pending once the grace has passed on the monotonic clock, whatever the wall clock says', async (t) => {
  const k = box.tree('clock-grace');
  const v = k.publish(newPodUid(), 'pv-g');
  const clock = steerableClock();
  const { core: c } = await core(['--kubelet-dir', k.kubeletDir, '--timeout', '2s', '--publish-grace', '10s'], clock);
  t.teardown(() => c.close());
  await c.inventory.resync();
  clock.jump(-HOUR); // the directory's mtime now lies an hour in the future
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'pending');
  clock.pass(5000);
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'pending', 'within the grace as this prober watched it');
  clock.pass(5000);
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'not_mounted', 'past the grace, though the mtime says it is yet to come');
});

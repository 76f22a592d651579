import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { eventually, mountTest, sandbox } from '../fixtures/harness.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { startFuse, unmount } from '../fixtures/mounts.js';
import { core, shiftableClock } from './core.js';

const box = sandbox();
const HOUR = 3_600_000;

/** A healthy mounted volume, and the daemon's core on a clock the test can move, one cycle run. */
async function mountedVolume(t: ExecutionContext, name: string) {
  const k = box.tree(name);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const v = k.publish(newPodUid(), 'pv-c', { mountFrom: path.join(fuse.mnt, 'pv-c') });
  const clock = shiftableClock();
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
  // The hold is on the monotonic clock (2 s): cycles run until it is over, well before an hour.
  await eventually('not_mounted after the hold', async () => (await c.runCycle(), state() === 'not_mounted'), { timeoutMs: 15_000, intervalMs: 300 });
});

mountTest('a path never mounted leaves pending once the grace has passed on the monotonic clock, whatever the wall clock says', async (t) => {
  const k = box.tree('clock-grace');
  const v = k.publish(newPodUid(), 'pv-g');
  const clock = shiftableClock();
  const { core: c } = await core(['--kubelet-dir', k.kubeletDir, '--timeout', '2s', '--publish-grace', '1s'], clock);
  t.teardown(() => c.close());
  await c.inventory.resync();
  clock.jump(-HOUR); // the directory's mtime now lies an hour in the future
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'pending');
  await eventually('not_mounted after the grace', async () => (await c.runCycle(), c.tracker.get(v.mountPath)?.state === 'not_mounted'), { timeoutMs: 15_000, intervalMs: 300 });
});

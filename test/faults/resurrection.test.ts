import path from 'node:path';
import { eventually, mountTest, sandbox } from '../fixtures/harness.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { scrapeText } from '../fixtures/metrics.js';
import { bindMount, startFuse } from '../fixtures/mounts.js';
import { core } from './core.js';

const box = sandbox();

mountTest('a pod removed while its hung probe is waiting out the timeout gets no series back when the timeout fires', async (t) => {
  const k = box.tree('resurrect');
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const uid = newPodUid();
  const v = k.publish(uid, 'pv-h', { mountFrom: path.join(fuse.mnt, 'pv-h') });
  await fuse.setMode('hung');
  const { core: c } = await core(['--kubelet-dir', k.kubeletDir, '--timeout', '1500ms', '--publish-grace', '0s']);
  t.teardown(() => c.close());
  await c.inventory.resync();
  t.is(c.inventory.list().length, 1);
  const cycle = c.runCycle();
  await eventually('the hung probe sent', () => c.runner.inFlight() === 1);
  k.removePod(uid); // unmounts (lazily) and deletes, as kubelet's teardown ends
  await c.inventory.rescanPod(uid);
  t.is(c.inventory.list().length, 0);
  await cycle;
  t.is(c.tracker.get(v.mountPath), undefined, 'the late timeout verdict is dropped');
  const text = await scrapeText(c.metrics);
  t.false(text.includes(v.mountPath), 'no series of the removed path');
});

mountTest('a volume re-published at the same path mid-cycle is reported with its new volume id only', async (t) => {
  const k = box.tree('republish');
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const uid = newPodUid();
  const v = k.publish(uid, 'pv-r', { volumeHandle: 'old-handle', mountFrom: path.join(fuse.mnt, 'pv-r') });
  await fuse.setMode('hung');
  const { core: c } = await core(['--kubelet-dir', k.kubeletDir, '--timeout', '1500ms', '--publish-grace', '0s']);
  t.teardown(() => c.close());
  await c.inventory.resync();
  const cycle = c.runCycle();
  await eventually('the hung probe sent', () => c.runner.inFlight() === 1);
  k.removePod(uid);
  await c.inventory.rescanPod(uid);
  const fresh = await startFuse(path.join(k.root, 'jfs2'));
  k.publish(uid, 'pv-r', { volumeHandle: 'new-handle' });
  bindMount(path.join(fresh.mnt, 'pv-r'), v.mountPath);
  await c.inventory.rescanPod(uid);
  await cycle;
  // The cycle began before the removal: its late verdict is dropped, for the old volume and the new one alike.
  t.is(c.tracker.get(v.mountPath), undefined, 'the old volume is not resurrected');
  t.false((await scrapeText(c.metrics)).includes('old-handle'));
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'healthy');
  t.is(c.tracker.get(v.mountPath)?.volume.volumeId, 'new-handle');
  const text = await scrapeText(c.metrics);
  t.false(text.includes('old-handle'));
  t.true(text.includes('volume_id="new-handle"'));
});

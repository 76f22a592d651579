import test from 'ava';
import path from 'node:path';
import { mountTest } from '../fixtures/guard.js';
import { createKubeletTree, newPodUid, type KubeletTree } from '../fixtures/kubelet-tree.js';
import { bindMount, cleanupAll, startFuse } from '../fixtures/mounts.js';
import { core } from './core.js';

const trees: KubeletTree[] = [];
test.after.always(() => {
  cleanupAll();
  for (const t of trees) t.remove();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

mountTest('a pod removed while its hung probe is waiting out the timeout gets no series back when the timeout fires', async (t) => {
  const k = createKubeletTree('resurrect');
  trees.push(k);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const uid = newPodUid();
  const v = k.publish(uid, 'pv-h', { mountFrom: path.join(fuse.mnt, 'pv-h') });
  await fuse.setMode('hung');
  const { core: c } = await core(['--kubelet-dir', k.kubeletDir, '--timeout', '1500ms', '--publish-grace', '0s']);
  t.teardown(() => c.close());
  await c.inventory.resync();
  t.is(c.inventory.list().length, 1);
  const cycle = c.runCycle();
  await sleep(300);
  k.removePod(uid); // unmounts (lazily) and deletes, as kubelet's teardown ends
  await c.inventory.rescanPod(uid);
  t.is(c.inventory.list().length, 0);
  await cycle;
  t.is(c.tracker.get(v.mountPath), undefined, 'the late timeout verdict is dropped');
  const text = await c.metrics.render('prometheus');
  t.false(text.includes(v.mountPath), 'no series of the removed path');
});

mountTest('a volume re-published at the same path mid-cycle is reported with its new volume id only', async (t) => {
  const k = createKubeletTree('republish');
  trees.push(k);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const uid = newPodUid();
  const v = k.publish(uid, 'pv-r', { volumeHandle: 'old-handle', mountFrom: path.join(fuse.mnt, 'pv-r') });
  await fuse.setMode('hung');
  const { core: c } = await core(['--kubelet-dir', k.kubeletDir, '--timeout', '1500ms', '--publish-grace', '0s']);
  t.teardown(() => c.close());
  await c.inventory.resync();
  const cycle = c.runCycle();
  await sleep(300);
  k.removePod(uid);
  await c.inventory.rescanPod(uid);
  const fresh = await startFuse(path.join(k.root, 'jfs2'));
  k.publish(uid, 'pv-r', { volumeHandle: 'new-handle' });
  bindMount(path.join(fresh.mnt, 'pv-r'), v.mountPath);
  await c.inventory.rescanPod(uid);
  await cycle;
  t.not(c.tracker.get(v.mountPath)?.volume.volumeId, 'old-handle', 'the old volume is not resurrected');
  await c.runCycle();
  t.is(c.tracker.get(v.mountPath)?.state, 'healthy');
  t.is(c.tracker.get(v.mountPath)?.volume.volumeId, 'new-handle');
  const text = await c.metrics.render('prometheus');
  t.false(text.includes('old-handle'));
  t.true(text.includes('volume_id="new-handle"'));
});

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { nodeDiscoveryFs, type DiscoveryFs } from '../../src/discovery/discovery-fs.js';
import { createInventory } from '../../src/discovery/inventory.js';
import { createKubeletLayout } from '../../src/discovery/kubelet-layout.js';
import { createLogger } from '../../src/log/logger.js';
import { eventually } from '../fixtures/harness.js';
import { createKubeletTree, volDataJson } from '../fixtures/kubelet-tree.js';
import { manualTime } from '../fixtures/manual-time.js';

/** An inventory of a fresh tree, its retries on the manual clock. */
function setup(name: string, fs: DiscoveryFs = nodeDiscoveryFs) {
  const tree = createKubeletTree(name);
  const time = manualTime();
  const lines: Record<string, unknown>[] = [];
  const problems: string[] = [];
  const inventory = createInventory({
    layout: createKubeletLayout(tree.kubeletDir),
    drivers: new Set(['csi.juicefs.com']),
    fs,
    logger: createLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    onProblem: (k) => problems.push(k),
    clock: time.clock,
  });
  return { tree, inventory, lines, problems, time };
}

test('finds the configured driver’s volumes and nothing else', async (t) => {
  const { tree, inventory } = setup('inv-drivers');
  t.teardown(() => tree.remove());
  const a = tree.publish('u1', 'pvc-a', { volumeHandle: 'handle-a' });
  tree.publish('u1', 'pvc-nfs', { driver: 'nfs.csi.k8s.io' });
  tree.publish('u2', 'pvc-b');
  fs.mkdirSync(path.join(tree.podsDir, 'u3', 'volumes', 'kubernetes.io~secret', 's'), { recursive: true });
  await inventory.resync();
  const paths = inventory.list().map((v) => v.path).sort();
  t.is(paths.length, 2);
  t.deepEqual(inventory.get(a.mountPath), { path: a.mountPath, kind: 'volume', podUid: 'u1', pv: 'pvc-a', volumeId: 'handle-a', driver: 'csi.juicefs.com' });
});

test('a malformed vol_data.json is logged once, counted and skipped; its neighbours are found', async (t) => {
  const { tree, inventory, lines, problems } = setup('inv-malformed');
  t.teardown(() => tree.remove());
  tree.publish('u1', 'pvc-bad', { volData: '{"driverName": "csi.juicefs.com", ' });
  tree.publish('u1', 'pvc-array', { volData: '[1,2]' });
  const good = tree.publish('u1', 'pvc-good');
  for (let i = 0; i < 3; i++) await inventory.resync();
  t.deepEqual(inventory.list().map((v) => v.path), [good.mountPath]);
  const warned = lines.filter((l) => l.msg === 'skipping unreadable or malformed entry');
  t.is(warned.length, 2, 'each bad file is logged once across scans');
  t.true(problems.length >= 2);
  t.true(problems.every((p) => p === 'vol_data'));
});

test('a vol_data.json that is a symlink is not followed', async (t) => {
  const { tree, inventory } = setup('inv-symlink');
  t.teardown(() => tree.remove());
  const outside = path.join(tree.root, 'outside.json');
  fs.writeFileSync(outside, volDataJson('csi.juicefs.com', 'stolen', 'x'));
  const v = tree.publish('u1', 'pvc-link');
  fs.rmSync(path.join(v.pvDir, 'vol_data.json'));
  fs.symlinkSync(outside, path.join(v.pvDir, 'vol_data.json'));
  await inventory.resync();
  t.deepEqual(inventory.list(), []);
});

test('a PV directory whose vol_data.json arrives a moment later is picked up by the retry', async (t) => {
  const { tree, inventory, time } = setup('inv-retry');
  t.teardown(() => tree.remove());
  const pvDir = path.join(tree.podsDir, 'u1', 'volumes', 'kubernetes.io~csi', 'pvc-late');
  fs.mkdirSync(pvDir, { recursive: true });
  const added = new Promise<string[]>((resolve) => inventory.onChange((c) => resolve(c.added.map((v) => v.pv))));
  await inventory.rescanPod('u1');
  t.deepEqual(inventory.list(), []);
  fs.writeFileSync(path.join(pvDir, 'vol_data.json'), volDataJson('csi.juicefs.com', 'pvc-late', 'pvc-late'));
  time.advance(100);
  t.deepEqual(await added, ['pvc-late']);
  inventory.close();
});

test('a PV directory that never gets its vol_data.json is read again after 100 ms, 300 ms, 900 ms and 2.7 s, then left to the resync', async (t) => {
  let started = 0;
  let ended = 0;
  const counting: DiscoveryFs = {
    ...nodeDiscoveryFs,
    readSmallFile: (file, max) => (started++, nodeDiscoveryFs.readSmallFile(file, max).finally(() => ended++)),
  };
  const { tree, inventory, time } = setup('inv-ladder', counting);
  t.teardown(() => tree.remove());
  fs.mkdirSync(path.join(tree.podsDir, 'u1', 'volumes', 'kubernetes.io~csi', 'pvc-never'), { recursive: true });
  await inventory.rescanPod('u1');
  for (const [i, delay] of [100, 300, 900, 2700].entries()) {
    t.is(time.armed(), 1, `a read again armed after read ${i + 1}`);
    time.advance(delay - 1);
    t.is(started, i + 1, `not before ${delay} ms`);
    time.advance(1);
    await eventually(`read ${i + 2} done`, () => ended === i + 2);
    await time.settle(0);
  }
  t.is(time.armed(), 0, 'no more: the periodic resync takes it from here');
  t.is(started, 5);
  inventory.close();
});

test('a vol_data.json caught empty or half-written (kubelet writes it in place) is read again soon, and an empty one is no warning', async (t) => {
  const { tree, inventory, lines, time } = setup('inv-midwrite');
  t.teardown(() => tree.remove());
  const empty = tree.publish('u1', 'pvc-empty', { volData: '' });
  const half = tree.publish('u1', 'pvc-half', { volData: '{"driverName": "csi.juicefs.com", ' });
  const added: string[] = [];
  const both = new Promise<void>((resolve) =>
    inventory.onChange((c) => {
      added.push(...c.added.map((v) => v.pv));
      if (added.length === 2) resolve();
    }),
  );
  await inventory.rescanPod('u1');
  t.deepEqual(inventory.list(), []);
  fs.writeFileSync(path.join(empty.pvDir, 'vol_data.json'), volDataJson('csi.juicefs.com', 'pvc-empty', 'pvc-empty'));
  fs.writeFileSync(path.join(half.pvDir, 'vol_data.json'), volDataJson('csi.juicefs.com', 'pvc-half', 'pvc-half'));
  time.advance(100);
  await both;
  t.deepEqual(added.sort(), ['pvc-empty', 'pvc-half']);
  const warned = lines.filter((l) => l.msg === 'skipping unreadable or malformed entry').map((l) => l.file);
  t.deepEqual(warned, [path.join(half.pvDir, 'vol_data.json')], 'only the half-written one looked malformed');
  inventory.close();
});

test('a removed pod’s volumes are reported removed; an unlistable pods dir removes nothing', async (t) => {
  const { tree, inventory, problems } = setup('inv-remove');
  t.teardown(() => tree.remove());
  tree.publish('u1', 'pvc-a');
  await inventory.resync();
  const changes: string[] = [];
  inventory.onChange((c) => changes.push(...c.removed.map((v) => v.pv)));
  fs.renameSync(tree.podsDir, tree.podsDir + '.away');
  await inventory.resync();
  t.is(inventory.list().length, 1, 'an unreadable pods directory is not proof the pods are gone');
  t.true(problems.includes('pods_dir'));
  fs.renameSync(tree.podsDir + '.away', tree.podsDir);
  tree.removePod('u1');
  await inventory.resync();
  t.deepEqual(changes, ['pvc-a']);
  t.deepEqual(inventory.list(), []);
});

test('a pod directory that is a symlink is one problem, logged once, whether the full scan or a rescan of that pod finds it', async (t) => {
  const { tree, inventory, lines } = setup('inv-podlink');
  t.teardown(() => tree.remove());
  const elsewhere = path.join(tree.root, 'elsewhere');
  fs.mkdirSync(path.join(elsewhere, 'volumes', 'kubernetes.io~csi', 'pv-x'), { recursive: true });
  fs.writeFileSync(path.join(elsewhere, 'volumes', 'kubernetes.io~csi', 'pv-x', 'vol_data.json'), volDataJson('csi.juicefs.com', 'lure', 'pv-x'));
  fs.symlinkSync(elsewhere, path.join(tree.podsDir, 'u-link'));
  await inventory.resync();
  await inventory.rescanPod('u-link');
  await inventory.resync();
  t.deepEqual(inventory.list(), []);
  const logged = lines.filter((l) => l.msg === 'skipping unreadable or malformed entry');
  t.deepEqual(logged.map((l) => l.file), [path.join(tree.podsDir, 'u-link')]);
});

// Which mount pod serves which path, as pods come, change and go.

import test from 'ava';
import { createMountPodIndex } from '../../src/kube/mount-pods.js';
import type { PodRecord } from '../../src/kube/types.js';

const target = (uid: string, pv: string) => `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/${pv}/mount`;

function mountPod(uid: string, targets: string[], o: { running?: boolean; why?: string; phase?: string } = {}): PodRecord {
  return {
    uid,
    namespace: 'kube-system',
    name: `juicefs-${uid}`,
    phase: o.phase ?? 'Running',
    deleting: false,
    claims: new Map(),
    inline: new Set(),
    controllerKind: '',
    conditions: new Map(),
    mount: { targets, running: o.running ?? true, why: o.why ?? '' },
  };
}

test('a mount pod serves each of its targets', (t) => {
  const idx = createMountPodIndex();
  idx.upsert(mountPod('m1', [target('a1', 'pv-a'), target('a2', 'pv-a')]));
  t.deepEqual(idx.lookup('a1', 'pv-a'), { namespace: 'kube-system', name: 'juicefs-m1', phase: 'Running', running: true, why: '' });
  t.is(idx.lookup('a2', 'pv-a')?.name, 'juicefs-m1');
  t.is(idx.lookup('a1', 'pv-b'), undefined);
  t.is(idx.size(), 1);
});

test('an update carries the new state, and targets it no longer lists are no longer its own', (t) => {
  const idx = createMountPodIndex();
  idx.upsert(mountPod('m1', [target('a1', 'pv-a'), target('a2', 'pv-a')]));
  idx.upsert(mountPod('m1', [target('a1', 'pv-a')], { running: false, why: 'container jfs-mount waiting: CrashLoopBackOff' }));
  t.like(idx.lookup('a1', 'pv-a'), { running: false, why: 'container jfs-mount waiting: CrashLoopBackOff' });
  t.is(idx.lookup('a2', 'pv-a'), undefined);
});

test('a deleted mount pod is remembered as Deleted for the paths it served, until another takes them over', (t) => {
  const idx = createMountPodIndex();
  const m1 = mountPod('m1', [target('a1', 'pv-a')]);
  idx.upsert(m1);
  idx.remove(m1);
  t.deepEqual(idx.lookup('a1', 'pv-a'), { namespace: 'kube-system', name: 'juicefs-m1', phase: 'Deleted', running: false, why: '' });
  idx.upsert(mountPod('m2', [target('a1', 'pv-a')]));
  t.like(idx.lookup('a1', 'pv-a'), { name: 'juicefs-m2', running: true });
  // The old pod going again does not take the path from its successor.
  idx.remove(m1);
  t.is(idx.lookup('a1', 'pv-a')?.name, 'juicefs-m2');
});

test('a path taken over by another mount pod is not lost when the first one changes or goes', (t) => {
  const idx = createMountPodIndex();
  idx.upsert(mountPod('m1', [target('a1', 'pv-a')]));
  idx.upsert(mountPod('m2', [target('a1', 'pv-a')]));
  idx.upsert(mountPod('m1', [])); // m1 drops the target m2 now serves
  t.is(idx.lookup('a1', 'pv-a')?.name, 'juicefs-m2');
});

test('an application pod that is gone takes its paths out, Deleted ones included', (t) => {
  const idx = createMountPodIndex();
  const m1 = mountPod('m1', [target('a1', 'pv-a'), target('a2', 'pv-a')]);
  idx.upsert(m1);
  idx.remove(m1);
  idx.forgetApp('a1');
  t.is(idx.lookup('a1', 'pv-a'), undefined);
  t.is(idx.lookup('a2', 'pv-a')?.phase, 'Deleted', 'another pod’s path stays');
});

test('a reset replaces everything, forgetting Deleted entries; targets that are no CSI target paths are ignored', (t) => {
  const idx = createMountPodIndex();
  const m1 = mountPod('m1', [target('a1', 'pv-a')]);
  idx.upsert(m1);
  idx.remove(m1);
  idx.reset([mountPod('m3', [target('a3', 'pv-c'), '/not/a/target'])]);
  t.is(idx.lookup('a1', 'pv-a'), undefined);
  t.is(idx.lookup('a3', 'pv-c')?.name, 'juicefs-m3');
  t.is(idx.size(), 1);
});

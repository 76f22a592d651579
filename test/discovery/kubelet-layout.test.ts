import test from 'ava';
import { createKubeletLayout, isPlainName, podWatchChain } from '../../src/discovery/kubelet-layout.js';

const layout = createKubeletLayout('/var/lib/kubelet/');

test('builds the CSI target and vol_data.json paths kubelet uses', (t) => {
  t.is(layout.mountPath('u1', 'pvc-1'), '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pvc-1/mount');
  t.is(layout.volDataPath('u1', 'pvc-1'), '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pvc-1/vol_data.json');
});

test('classifies pod, CSI dir, PV dir and subPath positions', (t) => {
  t.deepEqual(layout.classify('/var/lib/kubelet/pods/u1'), { kind: 'pod', podUid: 'u1' });
  t.deepEqual(layout.classify('/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi'), { kind: 'csi-dir', podUid: 'u1' });
  t.deepEqual(layout.classify('/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pvc-1'), { kind: 'pv-dir', podUid: 'u1', pv: 'pvc-1' });
  t.deepEqual(layout.classify('/var/lib/kubelet/pods/u1/volume-subpaths/data/app/0'), {
    kind: 'subpath',
    podUid: 'u1',
    volumeName: 'data',
    container: 'app',
    index: '0',
  });
});

test('anything else, or outside the pods dir, is not classified', (t) => {
  t.is(layout.classify('/var/lib/kubelet/pods/u1/volumes/kubernetes.io~nfs/x'), undefined);
  t.is(layout.classify('/var/lib/kubelet/pods/u1/volume-subpaths/data/app'), undefined);
  t.is(layout.classify('/var/lib/kubelet/plugins/x'), undefined);
  t.is(layout.classify('/var/lib/kubelet/pods/../pods/u1'), undefined);
  t.is(layout.classify('/var/lib/kubelet/podsX/u1'), undefined);
});

test('plain names exclude separators, dot entries and NUL', (t) => {
  t.true(isPlainName('pvc-1 with space'));
  for (const bad of ['', '.', '..', 'a/b', 'a\0b']) t.false(isPlainName(bad), bad);
});

test('a pod is watched through its own directory, volumes/ and the CSI plugin directory, never a <pv>/ directory', (t) => {
  t.deepEqual(podWatchChain(layout, 'u1'), [
    '/var/lib/kubelet/pods/u1',
    '/var/lib/kubelet/pods/u1/volumes',
    '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi',
  ]);
});

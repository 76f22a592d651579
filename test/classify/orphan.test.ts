import test from 'ava';
import { createMountPodFold } from '../../src/classify/mount-pod.js';
import { createOrphanFold } from '../../src/classify/orphan.js';
import { healthValue, type VolumePath } from '../../src/types.js';

const v: VolumePath = { path: '/k/pods/u1/volumes/kubernetes.io~csi/pv/mount', kind: 'volume', podUid: 'u1', pv: 'pv', volumeId: 'pv', driver: 'csi.juicefs.com' };

test('a path of a pod the API reports gone is orphaned, with no health, and keeps what was found in its detail', (t) => {
  const fold = createOrphanFold((uid) => uid === 'u1', createMountPodFold(() => ({ namespace: 'kube-system', name: 'mp', phase: 'Deleted', running: false, why: '' })));
  const r = fold(v, { state: 'disconnected', detail: 'ENOTCONN: Transport endpoint is not connected' });
  t.deepEqual(r, {
    state: 'orphaned',
    detail: 'pod u1 is gone from the Kubernetes API; kubelet has not cleaned up this path (found: mount_pod_not_running, mount pod kube-system/mp is not running (Deleted); ENOTCONN: Transport endpoint is not connected)',
  });
  t.is(healthValue(r.state), undefined);
  t.is(fold(v, { state: 'healthy', detail: '' }).detail, 'pod u1 is gone from the Kubernetes API; kubelet has not cleaned up this path (found: healthy)');
  t.deepEqual(fold({ ...v, podUid: 'u2' }, { state: 'not_mounted', detail: 'nothing is mounted here' }), { state: 'not_mounted', detail: 'nothing is mounted here' });
});

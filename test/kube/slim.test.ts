// From API pod objects to the records the prober keeps: what a pod's claims
// are, whether it is a JuiceFS mount pod, which targets it serves, and whether
// it runs.

import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { MOUNT_POD_LABEL, MOUNT_POD_LABEL_VALUE, referenceKey, slimPod, targetKey } from '../../src/kube/slim.js';

const TARGET_A = '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-a/mount';
const TARGET_B = '/var/lib/kubelet/pods/u2/volumes/kubernetes.io~csi/pv-a/mount';

function mountPodObject(o: { annotations?: Record<string, string>; phase?: string; containers?: NonNullable<V1Pod['status']>['containerStatuses']; deleting?: boolean } = {}): V1Pod {
  return {
    metadata: {
      uid: 'm1',
      name: 'juicefs-n1-pv-a-x',
      namespace: 'kube-system',
      labels: { [MOUNT_POD_LABEL]: MOUNT_POD_LABEL_VALUE },
      annotations: o.annotations ?? { [referenceKey(TARGET_A)]: TARGET_A },
      ...(o.deleting ? { deletionTimestamp: new Date(0) } : {}),
    },
    status: { phase: o.phase ?? 'Running', containerStatuses: o.containers ?? [{ name: 'jfs-mount', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] },
  };
}

test('an application pod keeps its claims by pod volume name, and is no mount pod', (t) => {
  const r = slimPod({
    metadata: { uid: 'u1', name: 'web-0', namespace: 'shop' },
    spec: { containers: [], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }, { name: 'tmp', emptyDir: {} }] },
    status: { phase: 'Pending' },
  });
  t.deepEqual(r && { ...r, claims: [...r.claims], inline: [...r.inline] }, { uid: 'u1', name: 'web-0', namespace: 'shop', phase: 'Pending', deleting: false, claims: [['data', 'data-web-0']], inline: [], controllerKind: '', conditions: new Map() });
  t.is(r!.mount, undefined);
});

test('an object without uid or name is not kept', (t) => {
  t.is(slimPod({ metadata: { name: 'x' } }), undefined);
  t.is(slimPod({ metadata: { uid: 'x' } }), undefined);
});

test('a running mount pod serves the targets its annotations name, sorted; other juicefs- annotations are not targets', (t) => {
  const r = slimPod(mountPodObject({ annotations: { [referenceKey(TARGET_B)]: TARGET_B, [referenceKey(TARGET_A)]: TARGET_A, 'juicefs-uniqueid': 'pv-a', 'juicefs-abc': TARGET_A } }));
  t.deepEqual(r!.mount, { targets: [TARGET_A, TARGET_B], running: true, why: '' });
});

test('a mount pod whose container waits or has terminated is not running, and says why', (t) => {
  const waiting = slimPod(mountPodObject({ containers: [{ name: 'jfs-mount', image: 'x', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }));
  t.deepEqual(waiting!.mount, { targets: [TARGET_A], running: false, why: 'container jfs-mount waiting: CrashLoopBackOff' });
  const ended = slimPod(mountPodObject({ containers: [{ name: 'jfs-mount', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137 } } }] }));
  t.is(ended!.mount!.why, 'container jfs-mount terminated: exit code 137');
  t.false(ended!.mount!.running);
});

test('a mount pod not in phase Running, or being deleted, is not running', (t) => {
  const pending = slimPod(mountPodObject({ phase: 'Pending', containers: [] }))!;
  t.like(pending.mount, { running: false, why: '' });
  t.is(pending.phase, 'Pending');
  const deleting = slimPod(mountPodObject({ deleting: true }))!;
  t.like(deleting.mount, { running: false, why: 'being deleted' });
  t.true(deleting.deleting);
});

test('a target path maps to `<pod uid>/<pv>` wherever the kubelet root is; anything else to nothing', (t) => {
  t.is(targetKey(TARGET_A), 'u1/pv-a');
  t.is(targetKey('/data/kubelet/pods/u9/volumes/kubernetes.io~csi/pvc-1/mount/'), 'u9/pvc-1');
  t.is(targetKey('/var/lib/kubelet/pods/u1/volumes/kubernetes.io~nfs/share/mount'), undefined);
  t.is(targetKey('/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-a/mount/sub'), undefined);
});

test('a reference key is `juicefs-` and the SHA-256 of the target, cut to 63 characters', (t) => {
  const k = referenceKey(TARGET_A);
  t.is(k.length, 63);
  t.regex(k, /^juicefs-[0-9a-f]{55}$/);
  t.not(referenceKey(TARGET_B), k);
});

test('a generic ephemeral volume’s claim is `<pod>-<volume>`; an inline CSI volume is published under its own name, with no claim', (t) => {
  const r = slimPod({
    metadata: { uid: 'u1', name: 'job-1', namespace: 'batch' },
    spec: { containers: [], volumes: [{ name: 'scratch', ephemeral: {} }, { name: 'cache', csi: { driver: 'csi.juicefs.com' } }, { name: 'tmp', emptyDir: {} }] },
  })!;
  t.deepEqual([...r.claims], [['scratch', 'job-1-scratch']]);
  t.deepEqual([...r.inline], ['cache']);
});

test('a mount pod that runs but is not Ready is not running, with the reason', (t) => {
  const pod = mountPodObject();
  pod.status!.conditions = [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'probe failed' }];
  t.like(slimPod(pod)!.mount, { running: false, why: 'not Ready (ContainersNotReady: probe failed)' });
});

test('the CSI node pod is told apart, and whether it runs the clients itself (--by-process)', (t) => {
  const node = (args: string[]): V1Pod => ({
    metadata: { uid: 'c1', name: 'juicefs-csi-node-x', namespace: 'kube-system', labels: { 'app.kubernetes.io/name': 'juicefs-csi-driver', app: 'juicefs-csi-node' } },
    spec: { containers: [{ name: 'juicefs-plugin', args }] },
    status: { phase: 'Running' },
  });
  t.deepEqual(slimPod(node(['--endpoint=x', '--by-process=true']))!.csiNode, { byProcess: true, running: true, why: '' });
  t.false(slimPod(node(['--endpoint=x']))!.csiNode!.byProcess);
  t.is(slimPod(mountPodObject())!.csiNode, undefined);
});

test('an application pod keeps its controller\'s kind and its conditions of qualified types, not kubelet\'s', (t) => {
  const r = slimPod({
    metadata: { uid: 'u1', name: 'web-0', namespace: 'shop', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'x' }, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'y', controller: true }] },
    spec: { containers: [] },
    status: {
      phase: 'Running',
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'juicefs-path-prober.io/volumes-healthy', status: 'False', reason: 'Disconnected', message: 'm' },
      ],
    },
  });
  t.is(r!.controllerKind, 'StatefulSet');
  t.deepEqual([...r!.conditions], [['juicefs-path-prober.io/volumes-healthy', { status: 'False', reason: 'Disconnected', message: 'm' }]]);
  t.is(slimPod({ metadata: { uid: 'u2', name: 'bare' }, spec: { containers: [] } })!.controllerKind, '', 'a bare pod has no controller');
});

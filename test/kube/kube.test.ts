// The Kubernetes adapter on its own, against the list/watch server over real HTTP.

import test from 'ava';
import { createKube } from '../../src/kube/kube.js';
import { openKube } from '../../src/kube/open.js';
import { createLogger } from '../../src/log/logger.js';
import { eventually as until } from '../fixtures/harness.js';
import { manualTime } from '../fixtures/manual-time.js';
import { appPod, csiNodePod, mountPod, startFakeApiServer } from '../fixtures/kube-api-server.js';
import type { VolumePath } from '../../src/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = createLogger({ write: () => {} });
const volume = (podUid: string, pv: string, extra: Partial<VolumePath> = {}): VolumePath => ({
  path: `/k/pods/${podUid}/volumes/kubernetes.io~csi/${pv}/mount`,
  kind: 'volume',
  podUid,
  pv,
  volumeId: pv,
  driver: 'csi.juicefs.com',
  ...extra,
});

test('an unreachable API server is retried with growing, capped backoff, which starts over once it is back', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  const time = manualTime();
  const delays: number[] = [];
  // The backoff's waits are recorded and pass in a moment; the manual clock measures how long a watch held.
  const clock = { ...time.clock, sleep: async (ms: number) => void (delays.push(ms), await sleep(5)) };
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source, { clock }), source, nodeName: 'n1', logger: quiet, backoff: { initialMs: 100, maxMs: 1600 }, clock });
  t.teardown(() => kube.stop());
  kube.start();
  await until('synced', () => kube.status().synced === true && !kube.isStale());
  await api.down();
  await until('eight retries', () => delays.length >= 8);
  t.true(kube.isStale());
  // Each wait is jittered within [half, all] of min(max, initial·2^n).
  delays.slice(0, 8).forEach((ms, i) => {
    const cap = Math.min(1600, 100 * 2 ** i);
    t.true(ms >= cap / 2 && ms <= cap, `retry ${i + 1}: ${ms} ms, want ${cap / 2}–${cap}`);
  });
  await api.up();
  await until('current again', () => !kube.isStale() && api.openWatches() === 1);
  // A watch that ends after holding over a second resets the backoff.
  time.advance(1100);
  const after = delays.length;
  await api.down();
  await until('a retry after the outage', () => delays.length > after);
  t.true(delays[after]! <= 100, `backoff starts over: ${delays[after]} ms`);
  t.true(kube.counters().watchFailures >= 9);
});

test('paths map to their pod, claim and mount pod; a subPath maps through its pod volume; a deleted mount pod reads as Deleted', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  api.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1', claims: { data: 'data-web-0', cache: 'cache-web-0' } }));
  api.setClaim('default', 'data-web-0', 'pv-data');
  api.setClaim('default', 'cache-web-0', 'pv-cache');
  // A shared mount pod (volume-id names the StorageClass) serving two targets.
  const shared = mountPod({
    uid: 'm1',
    name: 'juicefs-n1-sc-shared',
    node: 'n1',
    volumeId: 'juicefs-sc',
    targets: ['/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-data/mount', '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-cache/mount'],
  });
  // An annotation that is not a target reference (its key is not the path's hash) is ignored.
  shared.metadata.annotations['juicefs-not-a-hash'] = '/var/lib/kubelet/pods/u9/volumes/kubernetes.io~csi/pv-x/mount';
  api.putPod(shared);
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source), source, nodeName: 'n1', logger: quiet });
  t.teardown(() => kube.stop());
  kube.start();
  await until('claims read', () => kube.owner(volume('u1', 'pv-cache'))?.pvc === 'cache-web-0' && kube.owner(volume('u1', 'pv-data'))?.pvc === 'data-web-0');
  t.like(kube.owner(volume('u1', 'pv-data')), { namespace: 'default', pod: 'web-0', pvc: 'data-web-0', mountPod: { name: 'juicefs-n1-sc-shared', running: true, phase: 'Running' } });
  t.is(kube.owner(volume('u1', 'pv-cache'))?.mountPod?.name, 'juicefs-n1-sc-shared');
  const sub = volume('u1', 'pv-data', { kind: 'subpath', path: '/k/pods/u1/volume-subpaths/data/app/0', subpath: { volumeName: 'data', container: 'app', index: '0' } });
  t.is(kube.owner(sub)?.pvc, 'data-web-0');
  t.is(kube.owner(volume('u9', 'pv-x')), undefined);

  api.deletePod('m1');
  await until('the mount pod gone', () => kube.mountPodOf(volume('u1', 'pv-data'))?.phase === 'Deleted');
  t.like(kube.mountPodOf(volume('u1', 'pv-data')), { name: 'juicefs-n1-sc-shared', running: false, phase: 'Deleted' });
  // The application pod is gone too: nothing is remembered for it.
  api.deletePod('u1');
  await until('the app pod gone', () => kube.owner(volume('u1', 'pv-data')) === undefined);
  t.is(kube.status().pods, 0);
});

test('in process mount mode the CSI node pod stands in for the mount pod; in mount pod mode, or for the controller, it does not', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  api.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1', claims: { data: 'data-web-0' } }));
  api.setClaim('default', 'data-web-0', 'pv-data');
  // The controller may share the node and carries --by-process too: it runs no client of this node.
  api.putPod(csiNodePod({ uid: 'ctl', name: 'juicefs-csi-controller-0', node: 'n1', byProcess: true, app: 'juicefs-csi-controller' }));
  api.putPod(csiNodePod({ uid: 'c1', name: 'juicefs-csi-node-abcde', node: 'n1', byProcess: true }));
  // A mount pod, where there is one, still names its own path.
  api.putPod(mountPod({ uid: 'm1', name: 'juicefs-n1-pv-other', node: 'n1', targets: ['/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-other/mount'] }));
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source), source, nodeName: 'n1', logger: quiet });
  t.teardown(() => kube.stop());
  let changes = 0;
  kube.onMountPodChange(() => changes++);
  kube.start();
  const data = volume('u1', 'pv-data');
  await until('the CSI node pod known', () => kube.mountPodOf(data) !== undefined);
  t.deepEqual(kube.mountPodOf(data), { namespace: 'kube-system', name: 'juicefs-csi-node-abcde', phase: 'Running', running: true, why: '', csiNode: true });
  t.like(kube.owner(data), { pod: 'web-0', mountPod: { name: 'juicefs-csi-node-abcde', csiNode: true } });
  t.like(kube.mountPodOf(volume('u1', 'pv-other')), { name: 'juicefs-n1-pv-other' });
  t.falsy(kube.mountPodOf(volume('u1', 'pv-other'))?.csiNode);

  const before = changes;
  api.putPod(csiNodePod({ uid: 'c1', name: 'juicefs-csi-node-abcde', node: 'n1', byProcess: true, waiting: 'CrashLoopBackOff' }));
  await until('the CSI node pod seen crashing', () => kube.mountPodOf(data)?.running === false);
  t.like(kube.mountPodOf(data), { running: false, why: 'container juicefs-plugin waiting: CrashLoopBackOff', csiNode: true });
  t.true(changes > before, 'verdicts are looked at again');

  api.deletePod('c1');
  await until('the CSI node pod gone', () => kube.mountPodOf(data)?.phase === 'Deleted');
  t.like(kube.mountPodOf(data), { name: 'juicefs-csi-node-abcde', running: false, csiNode: true });

  // The driver moved to mount pod mode: its CSI node pod runs no clients, nothing stands in.
  api.putPod(csiNodePod({ uid: 'c2', name: 'juicefs-csi-node-fghij', node: 'n1', byProcess: false }));
  await until('mount pod mode seen', () => kube.mountPodOf(data) === undefined);
  t.like(kube.mountPodOf(volume('u1', 'pv-other')), { name: 'juicefs-n1-pv-other' });
});

test('a generic ephemeral volume’s claim is <pod>-<volume>; subPaths map through pod volumes to their PV, or to nothing for a non-claim volume', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  const pod = appPod({ uid: 'u1', name: 'job-0', node: 'n1', claims: { data: 'data-job-0' } });
  pod.spec.volumes.push(
    { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { storageClassName: 'juicefs-sc', accessModes: ['ReadWriteOnce'] } } } },
    { name: 'inline', csi: { driver: 'csi.juicefs.com', volumeAttributes: {} } },
    { name: 'tmp', emptyDir: {} },
    { name: 'fluid', persistentVolumeClaim: { claimName: 'fluid-dataset' } },
  );
  api.putPod(pod);
  api.setClaim('default', 'data-job-0', 'pv-data');
  api.setClaim('default', 'job-0-scratch', 'pvc-0e1b');
  api.setClaim('default', 'fluid-dataset', 'default-fluid-dataset');
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source), source, nodeName: 'n1', logger: quiet });
  t.teardown(() => kube.stop());
  t.is(kube.publishedAs('u1', 'data'), undefined, 'unknown before the first list');
  kube.start();
  await until('settled', () => kube.settled());
  t.like(kube.owner(volume('u1', 'pvc-0e1b')), { namespace: 'default', pod: 'job-0', pvc: 'job-0-scratch' });
  t.is(kube.publishedAs('u1', 'scratch'), 'pvc-0e1b');
  t.is(kube.publishedAs('u1', 'data'), 'pv-data');
  t.is(kube.publishedAs('u1', 'inline'), 'inline');
  t.is(kube.publishedAs('u1', 'fluid'), 'default-fluid-dataset');
  t.is(kube.publishedAs('u1', 'tmp'), null);
  t.is(kube.publishedAs('u-unknown', 'data'), undefined);
});

test('a mount pod whose Ready condition is False is not running, with the condition in its reason', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  const target = '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-a/mount';
  const m = mountPod({ uid: 'm1', name: 'juicefs-n1-pv-a', node: 'n1', targets: [target] });
  m.status.conditions = [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [jfs-mount]' }];
  api.putPod(m);
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source), source, nodeName: 'n1', logger: quiet });
  t.teardown(() => kube.stop());
  kube.start();
  await until('the mount pod', () => kube.mountPodOf(volume('u1', 'pv-a')) !== undefined);
  t.like(kube.mountPodOf(volume('u1', 'pv-a')), { phase: 'Running', running: false, why: 'not Ready (ContainersNotReady: containers with unready status: [jfs-mount])' });
  m.status.conditions = [{ type: 'Ready', status: 'True' }];
  api.putPod(m);
  await until('ready again', () => kube.mountPodOf(volume('u1', 'pv-a'))?.running === true);
});

test('a pod is gone when the watch saw it deleted, or after it has been missing from a current cache a while; never on an empty or stale cache', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  const time = manualTime();
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source, { clock: time.clock }), source, nodeName: 'n1', logger: quiet, orphanAfterMs: 5000, clock: time.clock });
  t.teardown(() => kube.stop());
  t.false(kube.podGone('u-old'), 'not before the first list');
  kube.start();
  await until('synced', () => kube.status().synced === true);
  // No pod at all on the node: the node name is wrong, not every pod gone.
  time.advance(60_000);
  t.false(kube.podGone('u-old'));
  t.false(kube.podGone('u-old'));

  api.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1' }));
  api.putPod(appPod({ uid: 'u2', name: 'web-1', node: 'n1' }));
  await until('both pods', () => kube.status().pods === 2);
  t.false(kube.podGone('u1'));
  t.false(kube.podGone('u-old'), 'missing: the clock starts');
  time.advance(4999);
  t.false(kube.podGone('u-old'));
  time.advance(1);
  t.true(kube.podGone('u-old'), 'missing for the whole window');

  api.deletePod('u2');
  await until('u2 deleted', () => kube.status().pods === 1);
  t.true(kube.podGone('u2'), 'a deleted pod is gone at once');

  await api.down();
  await until('stale', () => kube.isStale());
  t.false(kube.podGone('u2'), 'a stale cache tells nothing');
  t.false(kube.podGone('u-old'));
});

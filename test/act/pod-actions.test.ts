// The opt-in actions against the API stand-in over real HTTP, with the RBAC
// each overlay renders: the real Kubernetes adapter reads the pods and makes
// the writes; the paths' states are set by the test, and the actions' own
// clock (how long a path has been dead) moves only when the test moves it.

import path from 'node:path';
import { CONDITION_CONCURRENCY } from '../../src/act/condition-writer.js';
import { createPodActions, REASON_EVICTED, REASON_WOULD_EVICT, type EvictOptions } from '../../src/act/pod-actions.js';
import { createKube } from '../../src/kube/kube.js';
import { openKube } from '../../src/kube/open.js';
import { createLogger } from '../../src/log/logger.js';
import { systemClock } from '../../src/shared/clock.js';
import type { PathState, PathStatus, VolumePath } from '../../src/types.js';
import { eventually as until, requires } from '../fixtures/harness.js';
import { appPod, mountPod, podCondition, readyWithGates, startFakeApiServer, type FakeApiServer, type Json } from '../fixtures/kube-api-server.js';
import { ROOT } from '../fixtures/kube-api/rbac.js';

const NODE = 'n1';
/** The stand-in enforces the RBAC `kubectl kustomize` renders from each overlay. */
const kubeTest = requires({ tool: 'kubectl', why: 'renders the overlays whose RBAC the stand-in enforces' });
const TYPE = 'juicefs-path-prober.io/volumes-healthy';
const OVERLAY = { condition: path.join(ROOT, 'overlays/pod-condition'), evict: path.join(ROOT, 'overlays/evict'), base: path.join(ROOT, 'manifests') };
const MINUTE = 60_000;
const EVICT: EvictOptions = { mode: 'on', afterMs: MINUTE, max: 2, windowMs: 10 * MINUTE, jobs: false, kubeSystem: false };

const target = (uid: string, pv: string) => `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/${pv}/mount`;
const volume = (podUid: string, pv: string): VolumePath => ({ path: target(podUid, pv), kind: 'volume', podUid, pv, volumeId: pv, driver: 'csi.juicefs.com' });
const conditionOf = (a: FakeApiServer, uid: string): Json | undefined => podCondition(a.getPod(uid), TYPE);
/** The overlays' own rules (pods/status, pods/eviction) no request needed; the base's are the daemon's, proved elsewhere. */
const unusedOverlayRules = (a: FakeApiServer) => a.unusedRules().filter((r) => r.includes('pods/'));
const evictions = (a: FakeApiServer) => a.calls.filter((c) => c.resource === 'pods/eviction');

async function setup(t: { teardown(fn: () => unknown): void }, o: { manifests: string; condition?: boolean; evict?: Partial<EvictOptions> }) {
  const api = await startFakeApiServer({ manifests: o.manifests });
  t.teardown(() => api.close());
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ write: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>), level: 'debug' });
  const kube = createKube({ client: openKube(source), source, nodeName: NODE, logger, backoff: { initialMs: 50, maxMs: 200 } });
  t.teardown(() => kube.stop());
  let now = 0;
  const clock = { ...systemClock, monotonic: () => now };
  const paths = new Map<string, PathStatus>();
  const actions = createPodActions({
    api: kube,
    paths: () => [...paths.values()],
    clock,
    logger,
    ...(o.condition === false ? {} : { condition: { type: TYPE, timeoutGraceMs: MINUTE } }),
    ...(o.evict ? { evict: { ...EVICT, ...o.evict } } : {}),
  });
  t.teardown(() => actions.stop());
  kube.start();
  await until('synced', () => kube.current());
  return {
    api,
    kube,
    actions,
    lines,
    set(v: VolumePath, state: PathState, detail = 'as the test set it') {
      const from = paths.get(v.path)?.state;
      paths.set(v.path, { volume: v, state, detail, since: 0 });
      actions.transition({ volume: v, from, to: state, detail, at: 0 });
    },
    advance(ms: number) {
      now += ms;
    },
    /** A look once the pod cache has heard of every write so far, and until its writes are answered. */
    async settle() {
      await until('the watch is open', () => api.openWatches() > 0);
      const rv = api.bookmark();
      await until('the watch caught up', () => Number(kube.status().resource_version) >= Number(rv));
      actions.reconcile();
      await until('writes answered', () => actions.pending() === 0);
    },
  };
}

kubeTest('with the overlay, a healthy pod gets its gate condition True at once, once, and kubelet\'s own conditions stay', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.condition });
  const uid = 'a0000000-0000-4000-8000-000000000001';
  s.api.putPod(appPod({ uid, name: 'web-0', node: NODE, owner: 'ReplicaSet/web', gates: [TYPE] }));
  await until('pod cached', () => s.kube.podFacts(uid));
  t.false(readyWithGates(s.api.getPod(uid)!), 'a pod whose gate has no condition is not Ready');
  s.set(volume(uid, 'pv-a'), 'pending');
  await s.settle();
  t.is(conditionOf(s.api, uid), undefined, 'pending sets nothing');
  s.set(volume(uid, 'pv-a'), 'healthy');
  await until('condition True', () => conditionOf(s.api, uid)?.status === 'True');
  t.like(conditionOf(s.api, uid), { reason: 'VolumesHealthy', lastProbeTime: null });
  t.true(readyWithGates(s.api.getPod(uid)!));
  t.deepEqual(
    (s.api.getPod(uid)!.status.conditions as Json[]).map((c) => c.type),
    ['Initialized', 'ContainersReady', 'PodScheduled', TYPE],
    'a strategic merge by type: kubelet\'s conditions are untouched',
  );
  for (let i = 0; i < 3; i++) await s.settle();
  t.is(s.api.podWrites.length, 1, 'written on a change only');
  t.like(s.api.podWrites[0], { method: 'PATCH', status: 200, body: { contentType: 'application/strategic-merge-patch+json', metadata: { uid } } });
  t.deepEqual(unusedOverlayRules(s.api), [], 'the overlay adds one rule, and it is used');
});

kubeTest('a dead mount turns the condition False with the worst path\'s state, recovery turns it True; only a status change moves lastTransitionTime', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.condition });
  const uid = 'a0000000-0000-4000-8000-000000000002';
  s.api.putPod(appPod({ uid, name: 'web-1', node: NODE, owner: 'StatefulSet/web', gates: [TYPE] }));
  await until('pod cached', () => s.kube.podFacts(uid));
  const a = volume(uid, 'pv-a');
  const b = volume(uid, 'pv-b');
  s.set(a, 'healthy');
  s.set(b, 'healthy');
  await until('True', () => conditionOf(s.api, uid)?.status === 'True');
  s.set(b, 'disconnected', 'ENOTCONN: Transport endpoint is not connected');
  await until('False', () => conditionOf(s.api, uid)?.status === 'False');
  const down = conditionOf(s.api, uid)!;
  t.like(down, { reason: 'Disconnected', message: `volume pv-b at ${b.path}: disconnected (ENOTCONN: Transport endpoint is not connected)` });
  t.false(readyWithGates(s.api.getPod(uid)!));
  s.set(a, 'not_mounted', 'nothing mounted');
  await until('worse reason', () => conditionOf(s.api, uid)?.reason === 'NotMounted');
  t.is(conditionOf(s.api, uid)!.lastTransitionTime, down.lastTransitionTime, 'False to False keeps the transition time');
  s.set(a, 'healthy');
  s.set(b, 'healthy');
  await until('True again', () => conditionOf(s.api, uid)?.status === 'True');
  t.true(readyWithGates(s.api.getPod(uid)!));
});

kubeTest('a timeout turns the condition False only after the grace', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.condition });
  const uid = 'a0000000-0000-4000-8000-000000000003';
  s.api.putPod(appPod({ uid, name: 'web-2', node: NODE, owner: 'ReplicaSet/web', gates: [TYPE] }));
  await until('pod cached', () => s.kube.podFacts(uid));
  s.set(volume(uid, 'pv-a'), 'healthy');
  await until('True', () => conditionOf(s.api, uid)?.status === 'True');
  s.set(volume(uid, 'pv-a'), 'timeout', 'stat blocked for 5s');
  s.advance(MINUTE - 1);
  await s.settle();
  t.is(conditionOf(s.api, uid)?.status, 'True', 'a slow client within the grace keeps the pod in');
  s.advance(1);
  await s.settle();
  t.like(conditionOf(s.api, uid), { status: 'False', reason: 'Timeout' });
});

kubeTest('after a restart the condition is re-asserted: a pod left False by the last run is set True by one that remembers nothing', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.condition });
  const uid = 'a0000000-0000-4000-8000-000000000004';
  const pod = appPod({ uid, name: 'web-3', node: NODE, owner: 'ReplicaSet/web', gates: [TYPE] });
  pod.status.conditions.push({ type: TYPE, status: 'False', reason: 'Disconnected', message: 'from the last run', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' });
  s.api.putPod(pod);
  await until('pod cached', () => s.kube.podFacts(uid));
  s.set(volume(uid, 'pv-a'), 'healthy');
  await until('True', () => conditionOf(s.api, uid)?.status === 'True');
  t.not(conditionOf(s.api, uid)!.lastTransitionTime, '2026-01-01T00:00:00Z');
});

kubeTest('the default install is read-only: both writes get 403, are counted failed and tried again later, and nothing throws', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.base, evict: {} });
  const uid = 'a0000000-0000-4000-8000-000000000005';
  s.api.putPod(appPod({ uid, name: 'web-4', node: NODE, owner: 'ReplicaSet/web', gates: [TYPE] }));
  s.api.putPod(mountPod({ uid: 'm0000000-0000-4000-8000-000000000005', name: 'juicefs-n1-pv-a', node: NODE, targets: [target(uid, 'pv-a')] }));
  await until('pod cached', () => s.kube.podFacts(uid));
  s.set(volume(uid, 'pv-a'), 'disconnected');
  s.advance(MINUTE);
  await until('both refused', () => s.actions.counters().conditions.get('failed') === 1 && s.actions.counters().evictions.get('failed\u0000disconnected') === 1);
  const refused = s.api.takeProblems();
  t.true(refused.some((p) => p.startsWith('403 PATCH /api/v1/namespaces/default/pods/web-4/status')), refused.join('\n'));
  t.true(refused.some((p) => p.startsWith('403 POST /api/v1/namespaces/default/pods/web-4/eviction')), refused.join('\n'));
  await s.settle();
  t.is(s.api.calls.filter((c) => c.status === 403).length, 2, 'not again before the backoff');
  t.true(s.lines.some((l) => l.msg === 'cannot set the pod condition; tried again later (logged once until one succeeds)'));
});

kubeTest('a disruption budget\'s 429 is retried later and never escalated to a delete; once it allows, the pod is evicted with an Event', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.evict, evict: {} });
  const uid = 'a0000000-0000-4000-8000-000000000006';
  s.api.putPod(appPod({ uid, name: 'web-5', node: NODE, owner: 'ReplicaSet/web' }));
  s.api.putPod(mountPod({ uid: 'm0000000-0000-4000-8000-000000000006', name: 'juicefs-n1-pv-a', node: NODE, targets: [target(uid, 'pv-a')] }));
  s.api.budget(uid, 'web-pdb');
  await until('pod cached', () => s.kube.podFacts(uid));
  s.set(volume(uid, 'pv-a'), 'disconnected');
  s.advance(MINUTE - 1);
  await s.settle();
  t.is(evictions(s.api).length, 0, 'not before --evict-after');
  s.advance(1);
  await s.settle();
  await until('refused', () => s.actions.counters().evictions.get('refused\u0000disconnected') === 1);
  s.advance(1000);
  await s.settle();
  t.is(evictions(s.api).length, 1, 'not again at once');
  s.advance(5 * MINUTE);
  await s.settle();
  await until('tried again', () => evictions(s.api).length === 2);
  s.api.budget(uid, undefined);
  s.advance(10 * MINUTE);
  await s.settle();
  await until('evicted', () => s.actions.counters().evictions.get('evicted\u0000disconnected') === 1);
  t.truthy(s.api.getPod(uid)!.metadata.deletionTimestamp);
  t.deepEqual(
    s.api.calls.filter((c) => c.verb === 'delete' || c.verb === 'deletecollection'),
    [],
    'never a delete',
  );
  t.like(s.api.podWrites.find((w) => w.path.endsWith('/eviction') && w.status === 201)?.body, { kind: 'Eviction', apiVersion: 'policy/v1', deleteOptions: { preconditions: { uid } } });
  const ev = await until('event', () => s.api.events.find((e) => e.body.reason === REASON_EVICTED));
  t.like(ev.body, { type: 'Warning', involvedObject: { uid } });
  t.regex(String(ev.body.message), /disconnected for \d+s while mount pod kube-system\/juicefs-n1-pv-a is Running and Ready/);
  t.deepEqual(unusedOverlayRules(s.api), [], 'both of the overlays\' rules are used');
});

kubeTest('a bare pod, a DaemonSet pod and a pod whose volume has no healthy mount on the node are never evicted', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.evict, evict: {}, condition: false });
  const bare = 'b0000000-0000-4000-8000-000000000001';
  const ds = 'b0000000-0000-4000-8000-000000000002';
  const alone = 'b0000000-0000-4000-8000-000000000003';
  s.api.putPod(appPod({ uid: bare, name: 'bare', node: NODE }));
  s.api.putPod(appPod({ uid: ds, name: 'agent', node: NODE, owner: 'DaemonSet/agent' }));
  s.api.putPod(appPod({ uid: alone, name: 'alone', node: NODE, owner: 'ReplicaSet/alone' }));
  // The bare and DaemonSet pods' volume is healthy elsewhere; the last one's has no mount pod and no other path.
  s.api.putPod(mountPod({ uid: 'm0000000-0000-4000-8000-00000000000b', name: 'juicefs-n1-pv-a', node: NODE, targets: [target(bare, 'pv-a'), target(ds, 'pv-a')] }));
  s.set(volume(alone, 'pv-z'), 'not_mounted');
  await until('pods cached', () => s.kube.podFacts(bare) && s.kube.podFacts(ds) && s.kube.podFacts(alone));
  s.set(volume(bare, 'pv-a'), 'disconnected');
  s.set(volume(ds, 'pv-a'), 'io_error');
  s.advance(60 * MINUTE);
  await s.settle();
  await s.settle();
  t.deepEqual(evictions(s.api), []);
  const why = s.lines.filter((l) => l.msg === 'not evicting a pod on a dead JuiceFS mount').map((l) => `${String(l.pod)}: ${String(l.why)}`).sort();
  t.deepEqual(why, [
    'default/agent: a DaemonSet pod',
    'default/alone: no mount of its volume is healthy on this node: a new pod would not fare better',
    'default/bare: a bare pod: nothing would recreate it',
  ]);
  // Another pod's healthy path of the same volume is a healthy mount too.
  s.set(volume('c0000000-0000-4000-8000-000000000009', 'pv-z'), 'healthy');
  await s.settle();
  await until('evicted once the volume mounts again', () => evictions(s.api).length === 1);
});

kubeTest('dry-run never calls the Eviction API: a Normal Event "would evict" and the dry_run counter, once per bad spell', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.evict, evict: { mode: 'dry-run' }, condition: false });
  const uid = 'd0000000-0000-4000-8000-000000000001';
  s.api.putPod(appPod({ uid, name: 'web-6', node: NODE, owner: 'ReplicaSet/web' }));
  s.api.putPod(mountPod({ uid: 'm0000000-0000-4000-8000-00000000000d', name: 'juicefs-n1-pv-a', node: NODE, targets: [target(uid, 'pv-a')] }));
  await until('pod cached', () => s.kube.podFacts(uid));
  s.set(volume(uid, 'pv-a'), 'disconnected');
  s.advance(MINUTE);
  await s.settle();
  const ev = await until('event', () => s.api.events.find((e) => e.body.reason === REASON_WOULD_EVICT));
  t.like(ev.body, { type: 'Normal', involvedObject: { uid } });
  t.regex(String(ev.body.message), /^would evict \(--evict=dry-run\): volume pv-a at .*: disconnected for 60s while mount pod/);
  for (let i = 0; i < 3; i++) {
    s.advance(MINUTE);
    await s.settle();
  }
  t.is(s.actions.counters().evictions.get('dry_run\u0000disconnected'), 1);
  t.deepEqual(evictions(s.api), [], 'the Eviction API is never called');
  t.is(s.api.getPod(uid)!.metadata.deletionTimestamp, undefined);
  // In a dry run the eviction rule goes unused (and the condition is off here).
  t.deepEqual(unusedOverlayRules(s.api).sort(), ['create pods/eviction', 'patch pods/status']);
});

kubeTest('a flapping path never reaches --evict-after: one healthy moment starts the count again', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.evict, evict: {}, condition: false });
  const uid = 'f0000000-0000-4000-8000-000000000001';
  s.api.putPod(appPod({ uid, name: 'web-7', node: NODE, owner: 'ReplicaSet/web' }));
  s.api.putPod(mountPod({ uid: 'm0000000-0000-4000-8000-00000000000f', name: 'juicefs-n1-pv-a', node: NODE, targets: [target(uid, 'pv-a')] }));
  await until('pod cached', () => s.kube.podFacts(uid));
  const v = volume(uid, 'pv-a');
  for (let i = 0; i < 10; i++) {
    s.set(v, 'disconnected');
    s.advance(MINUTE * 0.9);
    await s.settle();
    s.set(v, 'healthy');
    s.advance(1000);
    await s.settle();
  }
  t.deepEqual(evictions(s.api), [], 'nine minutes of mostly dead, never a minute on end');
  // Moving between evictable states is one spell.
  s.set(v, 'disconnected');
  s.advance(MINUTE / 2);
  s.set(v, 'io_error');
  s.advance(MINUTE / 2);
  await s.settle();
  await until('evicted', () => evictions(s.api).length === 1);
});

kubeTest('at most --evict-max evictions per window on the node; the rest wait for the window', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.evict, evict: { max: 2, windowMs: 10 * MINUTE }, condition: false });
  const uids = ['e0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000003'];
  uids.forEach((uid, i) => s.api.putPod(appPod({ uid, name: `web-${10 + i}`, node: NODE, owner: 'ReplicaSet/web' })));
  s.api.putPod(mountPod({ uid: 'm0000000-0000-4000-8000-0000000000e0', name: 'juicefs-n1-pv-a', node: NODE, targets: uids.map((u) => target(u, 'pv-a')) }));
  await until('pods cached', () => uids.every((u) => s.kube.podFacts(u)));
  for (const u of uids) s.set(volume(u, 'pv-a'), 'disconnected');
  s.advance(MINUTE);
  await s.settle();
  await until('two evicted', () => s.actions.counters().evictions.get('evicted\u0000disconnected') === 2);
  await s.settle();
  t.is(evictions(s.api).length, 2);
  t.is(s.actions.counters().evictions.get('limited\u0000disconnected'), 1);
  t.true(s.lines.some((l) => l.msg === 'eviction limit reached on this node; the rest wait for the window'));
  s.advance(10 * MINUTE);
  await s.settle();
  await until('the third after the window', () => evictions(s.api).length === 3);
});

kubeTest('nothing is acted on while the pod cache is stale; once current again, the due eviction goes', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.evict, evict: {} });
  const uid = 'f0000000-0000-4000-8000-000000000011';
  s.api.putPod(appPod({ uid, name: 'web-20', node: NODE, owner: 'ReplicaSet/web' }));
  s.api.putPod(mountPod({ uid: 'm0000000-0000-4000-8000-000000000011', name: 'juicefs-n1-pv-a', node: NODE, targets: [target(uid, 'pv-a')] }));
  await until('pod cached', () => s.kube.podFacts(uid));
  await s.api.down();
  await until('stale', () => !s.kube.current());
  s.set(volume(uid, 'pv-a'), 'disconnected');
  s.advance(10 * MINUTE);
  s.actions.reconcile();
  t.is(s.actions.pending(), 0, 'no write was even tried');
  t.deepEqual([...s.actions.counters().evictions], []);
  t.deepEqual([...s.actions.counters().conditions], []);
  await s.api.up();
  await until('current', () => s.kube.current());
  await s.settle();
  await until('evicted', () => s.actions.counters().evictions.get('evicted\u0000disconnected') === 1);
  t.is(s.actions.counters().conditions.get('written'), 1);
});

kubeTest('a pod the cache hears of after its path turned healthy gets its condition then, without waiting for a cycle', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.condition });
  const uid = 'f0000000-0000-4000-8000-000000000012';
  s.set(volume(uid, 'pv-a'), 'healthy');
  await s.settle();
  t.is(s.actions.counters().conditions.size, 0, 'no pod to write to yet');
  s.api.putPod(appPod({ uid, name: 'web-21', node: NODE, owner: 'ReplicaSet/web', gates: [TYPE] }));
  // No reconcile is called here: the pod's arrival in the cache is what asks for one.
  const c = await until('condition True', () => conditionOf(s.api, uid));
  t.like(c, { status: 'True', reason: 'VolumesHealthy' });
});

kubeTest('a node whose pods all need the condition at once writes a few at a time, and every pod gets it', async (t) => {
  const s = await setup(t, { manifests: OVERLAY.condition });
  const uids = Array.from({ length: 10 }, (_, i) => `f0000000-0000-4000-8000-0000000001${String(i).padStart(2, '0')}`);
  uids.forEach((uid, i) => s.api.putPod(appPod({ uid, name: `batch-${i}`, node: NODE, owner: 'ReplicaSet/batch', gates: [TYPE] })));
  await until('pods cached', () => uids.every((u) => s.kube.podFacts(u)));
  for (const uid of uids) s.set(volume(uid, 'pv-a'), 'healthy');
  s.actions.reconcile();
  t.is(s.actions.pending(), CONDITION_CONCURRENCY, 'a few out at once');
  await until('every pod True', () => uids.every((u) => conditionOf(s.api, u)?.status === 'True'));
  t.is(s.api.podWrites.length, uids.length, 'each once');
});

// Kubernetes mode end to end: the real daemon, real FUSE mounts, and an HTTP
// server speaking the API's list/watch protocol on 127.0.0.1.

import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { byPath, CLI, FAST_FLAGS, startDaemon, type DaemonProcess, type Status, type StatusPath } from './fixtures/daemon.js';
import { afterCycles, eventually as until, mountTest, pathStates, sampleValue as scalar, samples, sandbox } from './fixtures/harness.js';
import { execPlugin, serviceAccountVolume } from './fixtures/kube-api/credentials.js';
import { appPod, mountPod, type FakeApiServer, type Json, type RecordedRequest } from './fixtures/kube-api-server.js';
import { createKubeletTree, newPodUid, type KubeletTree } from './fixtures/kubelet-tree.js';
import { publishFuse } from './fixtures/fuse-volumes.js';
import { bindMount, startFuse, unmount } from './fixtures/mounts.js';

const NODE = 'test-node';
const box = sandbox();
const tree = box.tree;
const api = box.api;
async function daemon(k: KubeletTree, a: FakeApiServer, extra: string[] = []): Promise<DaemonProcess> {
  return box.daemon(['--kubelet-dir', k.kubeletDir, '--kubeconfig', a.kubeconfig, ...FAST_FLAGS, ...extra], { JFS_PROBER_KUBE: 'auto' });
}

const series = samples;
function info(text: string, volumePath: string): Record<string, string> | undefined {
  return samples(text, 'juicefs_volume_path_info', { volume_path: volumePath })[0]?.labels;
}

type KubeStatus = { source: string; stale: boolean; synced: boolean; pods: number; resource_version: string; last_error: string | null; auth_error?: string | null };
type KubePath = StatusPath & { kube?: { namespace: string | null; pod: string | null; pvc: string | null; mount_pod: null | { name: string; running: boolean; phase: string }; mount_pod_running_but_path_broken?: boolean } };
const kubeOf = (s: Status) => (s as unknown as { kube: KubeStatus }).kube;
const kpath = (s: Status, p: string) => byPath(s, p) as KubePath | undefined;

const cycles = afterCycles;

const eventsFor = (a: FakeApiServer, uid: string): RecordedRequest[] =>
  a.events.filter((e) => (e.body.involvedObject as Json | undefined)?.uid === uid);

mountTest('info labels name the pod, claim and mount pod of a path, for a pod that exists, appears later, and is deleted', async (t) => {
  const k = tree('kube-info');
  const a = await api();
  const uidA = newPodUid();
  const uidB = newPodUid();
  const va = await publishFuse(k, uidA, 'pv-a');
  const vb = await publishFuse(k, uidB, 'pv-b');
  a.putPod(appPod({ uid: uidA, name: 'web-0', node: NODE, claims: { data: 'data-web-0', scratch: 'unrelated' } }));
  a.putPod(appPod({ uid: newPodUid(), name: 'elsewhere', node: 'other-node', claims: { data: 'data-web-0' } }));
  a.putPod(mountPod({ uid: newPodUid(), name: 'juicefs-test-node-pv-a-abcdef', node: NODE, targets: [`/var/lib/kubelet/pods/${uidA}/volumes/kubernetes.io~csi/pv-a/mount`] }));
  a.setClaim('default', 'data-web-0', 'pv-a');
  a.setClaim('default', 'unrelated', 'pv-zzz');
  a.setClaim('default', 'data-web-1', 'pv-b');
  const d = await daemon(k, a);

  const wantA = { volume_id: 'pv-a', volume_path: va.mountPath, pod_uid: uidA, pod_namespace: 'default', pod_name: 'web-0', pvc_name: 'data-web-0', pv: 'pv-a', mount_pod: 'juicefs-test-node-pv-a-abcdef', node_name: NODE };
  const text = await until('labels of the existing pod', async () => {
    const text = await d.metrics();
    // Both paths probed at least once (they may land in different cycles), and A's pod known.
    return info(text, va.mountPath)?.pvc_name === 'data-web-0' && info(text, vb.mountPath) ? text : undefined;
  });
  t.deepEqual(info(text, va.mountPath), wantA);
  // No exported label is one Prometheus Operator gives every target: scraped without
  // honorLabels (the CSI driver's documented PodMonitor), none is renamed exported_*.
  const targetLabels = ['namespace', 'pod', 'container', 'service', 'endpoint', 'instance', 'job'];
  const exported = new Set([...text.matchAll(/[{,]([a-zA-Z_][a-zA-Z0-9_]*)="/g)].map((m) => m[1]!));
  t.true(exported.has('pod_name'));
  t.deepEqual(targetLabels.filter((l) => exported.has(l)), []);
  t.log(`info: ${series(text, 'juicefs_volume_path_info').map((s) => JSON.stringify(s.labels)).join('\n      ')}`);
  // A path probed before its pod is known still has its series, with empty labels: the join never loses a path.
  t.like(info(text, vb.mountPath), { pod_uid: uidB, pv: 'pv-b', pod_namespace: '', pod_name: '', pvc_name: '', mount_pod: '' });
  t.is(kubeOf(await d.status()).pods, 2, 'only pods of this node are cached (field selector)');
  t.true(a.requests.some((r) => r.kind === 'list' && r.query.fieldSelector === `spec.nodeName=${NODE}`));
  t.true(a.requests.some((r) => r.kind === 'watch' && r.query.fieldSelector === `spec.nodeName=${NODE}` && r.query.allowWatchBookmarks === 'true'));

  a.putPod(appPod({ uid: uidB, name: 'web-1', node: NODE, claims: { data: 'data-web-1' } }));
  await until('labels of the pod that appeared', async () => info(await d.metrics(), vb.mountPath)?.pvc_name === 'data-web-1');
  t.like(info(await d.metrics(), vb.mountPath), { pod_namespace: 'default', pod_name: 'web-1', pvc_name: 'data-web-1', mount_pod: '' });
  const s = await d.status();
  t.like(kpath(s, vb.mountPath)!.kube, { namespace: 'default', pod: 'web-1', pvc: 'data-web-1', mount_pod: null });

  // The pod is deleted in the API before kubelet has torn it down: its labels go empty, the series stays with the path.
  a.deletePod(uidA);
  await until('labels of the deleted pod cleared', async () => info(await d.metrics(), va.mountPath)?.pod_name === '');
  t.like(info(await d.metrics(), va.mountPath), { pod_namespace: '', pod_name: '', pvc_name: '' });
  // kubelet's teardown: the series goes with the path.
  unmount(va.mountPath);
  k.removePod(uidA);
  await until('series removed with the path', async () => info(await d.metrics(), va.mountPath) === undefined);
  t.truthy(info(await d.metrics(), vb.mountPath));
});

mountTest('a dead mount whose mount pod is not Running is mount_pod_not_running; one whose mount pod runs keeps its reason, marked', async (t) => {
  const k = tree('kube-mountpod');
  const a = await api();
  const uid = newPodUid();
  const run = await publishFuse(k, uid, 'pv-run');
  const down = await publishFuse(k, uid, 'pv-down');
  a.putPod(appPod({ uid, name: 'db-0', namespace: 'prod', node: NODE, claims: { data: 'data-db-0', logs: 'logs-db-0' } }));
  a.setClaim('prod', 'data-db-0', 'pv-run');
  a.setClaim('prod', 'logs-db-0', 'pv-down');
  const mpRun = { uid: newPodUid(), name: 'juicefs-test-node-pv-run-aaaaaa', node: NODE, targets: [run.mountPath] };
  const mpDown = { uid: newPodUid(), name: 'juicefs-test-node-pv-down-bbbbbb', node: NODE, targets: [down.mountPath] };
  a.putPod(mountPod(mpRun));
  a.putPod(mountPod(mpDown));
  const d = await daemon(k, a);
  await d.waitFor((s) => kpath(s, run.mountPath)?.kube?.mount_pod?.running === true && kpath(s, down.mountPath)?.kube?.mount_pod?.running === true && byPath(s, down.mountPath)?.state === 'healthy', 20_000, 'both healthy, mount pods running');

  a.putPod(mountPod({ ...mpDown, waiting: 'CrashLoopBackOff' }));
  await d.waitFor((s) => kpath(s, down.mountPath)?.kube?.mount_pod?.running === false, 20_000, 'the mount pod seen crashing');
  t.is(byPath(await d.status(), down.mountPath)!.state, 'healthy', 'a crashing mount pod alone does not fail a working mount');
  await run.fuse.kill();
  await down.fuse.kill();
  // A probe in flight when a client dies ends with ECONNABORTED (the kernel aborts every request the
  // connection holds, read or queued); only probes sent after the death get ENOTCONN. Both read as
  // disconnected; wait for the verdicts of probes sent after the deaths, whose errno is certain.
  const s = await d.waitFor(
    (s) =>
      byPath(s, run.mountPath)?.state === 'disconnected' &&
      byPath(s, run.mountPath)!.detail.startsWith('ENOTCONN') &&
      byPath(s, down.mountPath)?.state === 'mount_pod_not_running' &&
      byPath(s, down.mountPath)!.detail.endsWith('; ENOTCONN: Transport endpoint is not connected'),
    20_000,
    'both verdicts from probes sent after the deaths',
  );
  const pRun = kpath(s, run.mountPath)!;
  const pDown = kpath(s, down.mountPath)!;
  t.true(pRun.kube!.mount_pod_running_but_path_broken);
  t.regex(pRun.detail, /^ENOTCONN/);
  t.regex(pDown.detail, /^mount pod kube-system\/juicefs-test-node-pv-down-bbbbbb is not running \(Running, container jfs-mount waiting: CrashLoopBackOff\); ENOTCONN/);
  t.is(pDown.health, 0);
  t.falsy(pDown.kube!.mount_pod_running_but_path_broken);

  const text = await d.metrics();
  t.is(scalar(text, 'juicefs_volume_path_state', { volume_path: down.mountPath, state: 'mount_pod_not_running' }), 1);
  t.is(scalar(text, 'juicefs_volume_path_health', { volume_path: down.mountPath }), 0);
  t.is(scalar(text, 'juicefs_volume_path_state', { volume_path: run.mountPath, state: 'disconnected' }), 1);

  // The Warning of each path's transition to its final state: ECONNABORTED or ENOTCONN, the same state,
  // so never a detour through `error` and never a second Warning.
  const warningFor = (pv: string, state: string) =>
    eventsFor(a, uid).find((e) => e.body.reason === 'VolumePathUnhealthy' && String(e.body.message).startsWith(`volume ${pv} at `) && String(e.body.message).includes(`: ${state} (`));
  const warnings = await until('both warnings', async () => {
    const w = [warningFor('pv-run', 'disconnected'), warningFor('pv-down', 'mount_pod_not_running')];
    return w.every(Boolean) ? (w as RecordedRequest[]) : undefined;
  });
  const [wRun, wDown] = warnings.map((e) => String(e.body.message)) as [string, string];
  t.regex(wRun, /: disconnected \((ENOTCONN: Transport endpoint is not connected|ECONNABORTED: Software caused connection abort); /);
  t.true(wRun.endsWith(`; mount pod kube-system/${mpRun.name} is Running, but the mount point is abnormal)`), wRun);
  t.regex(wDown, /: mount_pod_not_running \(mount pod kube-system\/juicefs-test-node-pv-down-bbbbbb is not running/);
  const runWarnings = eventsFor(a, uid).filter((e) => e.body.reason === 'VolumePathUnhealthy' && String(e.body.message).startsWith('volume pv-run at '));
  t.deepEqual(
    runWarnings.map((e) => /: (\w+) \(/.exec(String(e.body.message))?.[1]),
    ['disconnected'],
    'one Warning, for disconnected',
  );
  t.log(`Warning: ${JSON.stringify(warnings[0]!.body)}`);
});

mountTest('one Warning on the transition and one Normal on recovery across many cycles; a repeat raises the count', async (t) => {
  const k = tree('kube-events');
  const a = await api();
  const uid = newPodUid();
  const v = await publishFuse(k, uid, 'pv-e');
  a.putPod(appPod({ uid, name: 'worker-7', namespace: 'batch', node: NODE, claims: { data: 'data-worker-7' } }));
  a.setClaim('batch', 'data-worker-7', 'pv-e');
  const d = await daemon(k, a);
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy' && kubeOf(s).synced, 20_000, 'healthy, cache synced');

  await v.fuse.setMode('eio');
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'io_error', 20_000, 'io_error');
  await cycles(d, 10);
  await v.fuse.setMode('healthy');
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy', 20_000, 'healthy again');
  await cycles(d, 10);
  await until('the Normal event', async () => eventsFor(a, uid).some((e) => e.body.reason === 'VolumePathRecovered'));

  const sent = eventsFor(a, uid);
  t.deepEqual(
    sent.map((e) => [e.method, e.body.type, e.body.reason, e.status]),
    [
      ['POST', 'Warning', 'VolumePathUnhealthy', 201],
      ['POST', 'Normal', 'VolumePathRecovered', 201],
    ],
  );
  const [warning, normal] = sent as [RecordedRequest, RecordedRequest];
  t.like(warning.body, {
    metadata: { namespace: 'batch' },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'batch', name: 'worker-7', uid },
    message: `volume pv-e at ${v.mountPath}: io_error (EIO: Input/output error)`,
    count: 1,
    source: { component: 'juicefs-path-prober', host: NODE },
    reportingComponent: 'juicefs-path-prober',
    reportingInstance: NODE,
  });
  t.regex(String(warning.body.metadata.name), /^worker-7\.[0-9a-f]{16}$/);
  t.is(normal.body.message, `volume pv-e at ${v.mountPath}: healthy again (was io_error)`);
  t.log(`Warning: ${JSON.stringify(warning.body)}`);
  t.log(`Normal: ${JSON.stringify(normal.body)}`);

  // The same condition again: the same event object, count 2, not a new event.
  await v.fuse.setMode('eio');
  const patch = await until('the repeat', async () => a.events.find((e) => e.method === 'PATCH'));
  t.is(patch.path, `/api/v1/namespaces/batch/events/${warning.body.metadata.name}`);
  t.like(patch.body, { count: 2, type: 'Warning', contentType: 'application/merge-patch+json' });
  t.is(patch.status, 200);
  t.log(`PATCH: ${JSON.stringify(patch.body)}`);
  t.is(eventsFor(a, uid).filter((e) => e.method === 'POST' && e.body.type === 'Warning').length, 1);
  const text = await d.metrics();
  t.is(scalar(text, 'juicefs_path_prober_kube_events_total', { type: 'Warning', result: 'created' }), 1);
  t.is(scalar(text, 'juicefs_path_prober_kube_events_total', { type: 'Warning', result: 'updated' }), 1);
  t.is(scalar(text, 'juicefs_path_prober_kube_events_total', { type: 'Normal', result: 'created' }), 1);
});

mountTest('with the API server down probing and /metrics go on, the cache says stale, and it is rebuilt when the server is back', async (t) => {
  const k = tree('kube-down');
  const a = await api();
  const uidA = newPodUid();
  const uidB = newPodUid();
  const va = await publishFuse(k, uidA, 'pv-a');
  const vb = await publishFuse(k, uidB, 'pv-b');
  a.putPod(appPod({ uid: uidA, name: 'api-0', node: NODE, claims: { data: 'data-api-0' } }));
  a.setClaim('default', 'data-api-0', 'pv-a');
  a.setClaim('default', 'data-api-1', 'pv-b');
  const d = await daemon(k, a);
  await until('synced labels', async () => info(await d.metrics(), va.mountPath)?.pod_name === 'api-0');
  t.is(scalar(await d.metrics(), 'juicefs_path_prober_kube_cache_stale'), 0);

  await a.down();
  const s = await d.waitFor((s) => kubeOf(s).stale, 20_000, 'stale');
  t.truthy(kubeOf(s).last_error);
  t.is(scalar(await d.metrics(), 'juicefs_path_prober_kube_cache_stale'), 1);
  // Probing goes on: a mount that breaks now is found as fast as ever, and the scrape answers.
  await va.fuse.setMode('eio');
  await d.waitFor((s) => byPath(s, va.mountPath)?.state === 'io_error', 10_000, 'io_error while the API is down');
  t.is(scalar(await d.metrics(), 'juicefs_volume_path_health', { volume_path: va.mountPath }), 0);
  t.is(info(await d.metrics(), va.mountPath)?.pod_name, 'api-0', 'the last known labels are kept while stale');
  // The Warning for it cannot be sent: it is tried again on the backoff, not given up.
  await until('the event retried', async () => (scalar(await d.metrics(), 'juicefs_path_prober_kube_events_total', { type: 'Warning', result: 'retried' }) ?? 0) >= 1);

  // The world moves on while the prober cannot see it; the server forgets the history.
  a.putPod(appPod({ uid: uidB, name: 'api-1', node: NODE, claims: { data: 'data-api-1' } }));
  a.compact();
  await a.up();
  await d.waitFor((s) => !kubeOf(s).stale, 30_000, 'current again');
  await until('the cache rebuilt', async () => info(await d.metrics(), vb.mountPath)?.pod_name === 'api-1');
  // The Warning that failed while the server was down goes once it is back.
  await until('the Warning sent after the outage', () => eventsFor(a, uidA).some((e) => e.body.reason === 'VolumePathUnhealthy' && e.status === 201));
  const text = await d.metrics();
  t.is(scalar(text, 'juicefs_path_prober_kube_cache_stale'), 0);
  t.true(scalar(text, 'juicefs_path_prober_kube_lists_total')! >= 2, 'relisted');
  t.true(scalar(text, 'juicefs_path_prober_kube_api_errors_total', { request: 'watch' })! >= 1);
  t.is(d.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('the Kubernetes API cannot be reached')).length, 1, 'logged once');
  t.is(d.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('cannot send Kubernetes events')).length, 1, 'logged once');
  t.is(scalar(text, 'juicefs_path_prober_kube_events_total', { type: 'Warning', result: 'dropped' }), 0);
});

mountTest('a watch resumed from a compacted version gets 410 Gone and relists; bookmarks move the resume point', async (t) => {
  const k = tree('kube-410');
  const a = await api();
  const uidA = newPodUid();
  const uidB = newPodUid();
  const va = await publishFuse(k, uidA, 'pv-a');
  const vb = await publishFuse(k, uidB, 'pv-b');
  a.putPod(appPod({ uid: uidA, name: 'cache-0', node: NODE, claims: { data: 'data-cache-0' } }));
  a.setClaim('default', 'data-cache-0', 'pv-a');
  a.setClaim('default', 'data-cache-1', 'pv-b');
  const d = await daemon(k, a);
  await until('synced labels', async () => info(await d.metrics(), va.mountPath)?.pod_name === 'cache-0');
  await until('a watch open', async () => a.openWatches() === 1);

  const bookmark = a.bookmark();
  await d.waitFor((s) => kubeOf(s).resource_version === bookmark, 10_000, 'the bookmark taken');
  // Dropped until it comes back from the bookmark (the first drop may race the bookmark's arrival).
  await until(
    'the resumed watch',
    () => {
      if (a.requests.some((r) => r.kind === 'watch' && r.query.resourceVersion === bookmark)) return true;
      a.dropWatches();
      return false;
    },
    { intervalMs: 200 },
  );

  const lists = a.requests.filter((r) => r.kind === 'list').length;
  // Drop the watch and, before it can resume, change and compact: the change is only in a new list.
  a.dropWatches();
  a.putPod(appPod({ uid: uidB, name: 'cache-1', node: NODE, claims: { data: 'data-cache-1' } }));
  a.compact();
  await until('the missed pod', async () => info(await d.metrics(), vb.mountPath)?.pod_name === 'cache-1');
  t.is(a.requests.filter((r) => r.kind === 'list').length, lists + 1, 'one relist');
  t.true(scalar(await d.metrics(), 'juicefs_path_prober_kube_lists_total')! >= 2);
  t.false(kubeOf(await d.status()).stale);
  t.is(info(await d.metrics(), va.mountPath)?.pod_name, 'cache-0');
});

mountTest('an API server that never answers event requests delays neither probing nor /metrics', async (t) => {
  const k = tree('kube-slow');
  const a = await api();
  const uid = newPodUid();
  const v = await publishFuse(k, uid, 'pv-s');
  a.putPod(appPod({ uid, name: 'slow-0', node: NODE }));
  const d = await daemon(k, a);
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy' && kubeOf(s).synced, 20_000, 'healthy, synced');
  a.hangEvents = true;
  for (const mode of ['eio', 'healthy', 'estale', 'healthy'] as const) {
    await v.fuse.setMode(mode);
    const want = mode === 'eio' ? 'io_error' : mode === 'estale' ? 'stale' : 'healthy';
    await d.waitFor((s) => byPath(s, v.mountPath)?.state === want, 10_000, want);
    // The scrape answers, with the verdict the probe just gave, while the event for it hangs.
    const text = await d.metrics();
    t.is(pathStates(text).get(v.mountPath), want, `${want} exported`);
    t.is(scalar(text, 'juicefs_volume_path_health', { volume_path: v.mountPath }), want === 'healthy' ? 1 : 0);
  }
  // And probing keeps its pace: cycles go on while every event request hangs.
  await cycles(d, 3);
  const status = (await d.status()) as unknown as { kube: { events: { queued: number } } };
  t.true(status.kube.events.queued >= 1, 'events wait in the queue, off the probe path');
});

mountTest('a generic ephemeral volume gets its <pod>-<volume> claim; subPaths map through the API to their PV; a fuse.juicefs subPath of another driver is not ours', async (t) => {
  const k = tree('kube-subpath');
  const a = await api();
  const uid = newPodUid();
  const eph = await publishFuse(k, uid, 'pvc-0e1b');
  const data = await publishFuse(k, uid, 'pv-data');
  const pod = appPod({ uid, name: 'job-0', node: NODE, claims: { data: 'data-job-0' } });
  pod.spec.volumes.push({ name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { storageClassName: 'juicefs-sc' } } } });
  a.putPod(pod);
  a.setClaim('default', 'data-job-0', 'pv-data');
  a.setClaim('default', 'job-0-scratch', 'pvc-0e1b');
  const subScratch = k.subpathDir(uid, 'scratch', 'app', 0);
  bindMount(eph.mountPath, subScratch);
  const subData = k.subpathDir(uid, 'data', 'app', 1);
  bindMount(data.mountPath, subData);
  // A pod whose only JuiceFS volume is ours, and which also mounts a Fluid dataset: Fluid's own
  // fuse.juicefs client, bound as a subPath of the pod's Fluid volume.
  const uid2 = newPodUid();
  const only = await publishFuse(k, uid2, 'pv-only');
  const fluid = await startFuse(path.join(k.root, 'fluid'));
  const subFluid = k.subpathDir(uid2, 'dataset', 'app', 0);
  bindMount(fluid.mnt, subFluid);
  a.putPod(appPod({ uid: uid2, name: 'train-0', node: NODE, claims: { data: 'data-train-0', dataset: 'imagenet' } }));
  a.setClaim('default', 'data-train-0', 'pv-only');
  a.setClaim('default', 'imagenet', 'default-imagenet');

  const d = await daemon(k, a);
  const text = await until('the subPaths labelled', async () => {
    const text = await d.metrics();
    return info(text, subScratch)?.pvc_name === 'job-0-scratch' && info(text, subData)?.pvc_name === 'data-job-0' && info(text, only.mountPath)?.pvc_name === 'data-train-0' ? text : undefined;
  });
  t.like(info(text, eph.mountPath), { pod_namespace: 'default', pod_name: 'job-0', pvc_name: 'job-0-scratch', pv: 'pvc-0e1b' });
  t.like(info(text, subScratch), { pod_name: 'job-0', pvc_name: 'job-0-scratch', pv: 'pvc-0e1b', volume_id: 'pvc-0e1b' });
  t.like(info(text, subData), { pod_name: 'job-0', pvc_name: 'data-job-0', pv: 'pv-data', volume_id: 'pv-data' });
  // The one JuiceFS volume of train-0 is not assumed to be what every fuse.juicefs subPath of it binds.
  const s = await d.status();
  t.is(byPath(s, subFluid), undefined, JSON.stringify(s.paths.map((p) => p.path)));
  t.false(text.includes(subFluid));
  t.is(byPath(s, subScratch)?.state, 'healthy');
});

mountTest('a path whose pod the API reports gone is orphaned: said in /status and the state metric, with no health series', async (t) => {
  const k = tree('kube-orphan');
  const a = await api();
  const uidLive = newPodUid();
  const uidDeleted = newPodUid();
  const uidNever = newPodUid();
  const live = await publishFuse(k, uidLive, 'pv-live');
  const del = await publishFuse(k, uidDeleted, 'pv-del');
  // kubelet's leftover of a pod deleted before the prober started: never in the API it can see.
  const never = k.publish(uidNever, 'pv-never');
  a.putPod(appPod({ uid: uidLive, name: 'live-0', node: NODE, claims: { data: 'data-live-0' } }));
  a.putPod(appPod({ uid: uidDeleted, name: 'gone-0', node: NODE, claims: { data: 'data-gone-0' } }));
  a.setClaim('default', 'data-live-0', 'pv-live');
  a.setClaim('default', 'data-gone-0', 'pv-del');
  const d = await daemon(k, a);
  await d.waitFor((s) => byPath(s, live.mountPath)?.state === 'healthy' && byPath(s, del.mountPath)?.state === 'healthy' && kubeOf(s).synced, 20_000, 'both healthy');

  a.deletePod(uidDeleted);
  const s = await d.waitFor((s) => byPath(s, del.mountPath)?.state === 'orphaned' && byPath(s, never.mountPath)?.state === 'orphaned', 20_000, 'both orphaned');
  t.is(byPath(s, del.mountPath)!.detail, `pod ${uidDeleted} is gone from the Kubernetes API; kubelet has not cleaned up this path (found: healthy)`);
  t.is(byPath(s, del.mountPath)!.health, null);
  t.is(byPath(s, never.mountPath)!.detail, `pod ${uidNever} is gone from the Kubernetes API; kubelet has not cleaned up this path (found: not_mounted, nothing is mounted here)`);
  t.is(byPath(s, live.mountPath)!.state, 'healthy');
  const text = await d.metrics();
  for (const p of [del.mountPath, never.mountPath]) {
    t.is(scalar(text, 'juicefs_volume_path_state', { volume_path: p, state: 'orphaned' }), 1, p);
    t.is(scalar(text, 'juicefs_volume_path_health', { volume_path: p }), undefined, `${p}: no health, not a 0 for a pod that is gone`);
  }
  t.is(scalar(text, 'juicefs_path_prober_paths', { state: 'orphaned' }), 2);
  t.is(scalar(text, 'juicefs_volume_path_health', { volume_path: live.mountPath }), 1);
  // A broken mount on an orphaned path is still orphaned, with what was found.
  await del.fuse.kill();
  await d.waitFor((s) => /found: disconnected, ENOTCONN/.test(byPath(s, del.mountPath)?.detail ?? ''), 20_000, 'the dead mount in the detail');
  t.is(scalar(await d.metrics(), 'juicefs_volume_path_health', { volume_path: del.mountPath }), undefined);
  t.false(eventsFor(a, uidDeleted).some((e) => e.body.reason === 'VolumePathUnhealthy'), 'no Warning for a pod that is gone');
});

mountTest('a dead mount whose mount pod is Running but not Ready is mount_pod_not_running', async (t) => {
  const k = tree('kube-notready');
  const a = await api();
  const uid = newPodUid();
  const v = await publishFuse(k, uid, 'pv-nr');
  a.putPod(appPod({ uid, name: 'db-1', node: NODE, claims: { data: 'data-db-1' } }));
  a.setClaim('default', 'data-db-1', 'pv-nr');
  const mp = mountPod({ uid: newPodUid(), name: 'juicefs-test-node-pv-nr-cccccc', node: NODE, targets: [v.mountPath] });
  mp.status.conditions = [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [jfs-mount]' }];
  a.putPod(mp);
  const d = await daemon(k, a);
  await d.waitFor((s) => kpath(s, v.mountPath)?.kube?.mount_pod?.running === false && byPath(s, v.mountPath)?.state === 'healthy', 20_000, 'healthy, mount pod not ready');
  await v.fuse.kill();
  const s = await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'mount_pod_not_running', 20_000, 'mount_pod_not_running');
  t.regex(byPath(s, v.mountPath)!.detail, /^mount pod kube-system\/juicefs-test-node-pv-nr-cccccc is not running \(Running, not Ready \(ContainersNotReady: containers with unready status: \[jfs-mount\]\)\); ENOTCONN/);
  t.is(byPath(s, v.mountPath)!.health, 0);
});

mountTest('check --kubeconfig shows namespace, pod and PVC, and a pod the API does not know as orphaned by its uid', async (t) => {
  const k = tree('kube-check');
  const a = await api();
  const uid = newPodUid();
  const uidGone = newPodUid();
  const v = await publishFuse(k, uid, 'pv-c');
  const gone = await publishFuse(k, uidGone, 'pv-gone');
  a.putPod(appPod({ uid, name: 'report-0', namespace: 'analytics', node: NODE, claims: { data: 'data-report-0' } }));
  a.setClaim('analytics', 'data-report-0', 'pv-c');
  // Not spawnSync: the API server answers from this process.
  const child = spawn(process.execPath, [CLI, 'check', '--kubelet-dir', k.kubeletDir, '--kubeconfig', a.kubeconfig, '--node-name', NODE, '--timeout', '2s'], {
    env: { ...process.env, JFS_PROBER_KUBE: 'auto' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = { stdout: '', stderr: '', status: null as number | null };
  child.stdout.on('data', (d: Buffer) => (r.stdout += d));
  child.stderr.on('data', (d: Buffer) => (r.stderr += d));
  r.status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.log(r.stdout, r.stderr);
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
  t.deepEqual(lines[0], ['NAMESPACE', 'POD', 'PVC', 'PV', 'PATH', 'STATE', 'DETAIL', 'LATENCY']);
  const row = (p: string) => lines.find((l) => l[4] === p);
  t.deepEqual(row(v.mountPath)?.slice(0, 6), ['analytics', 'report-0', 'data-report-0', 'pv-c', v.mountPath, 'healthy']);
  t.deepEqual(row(gone.mountPath)?.slice(0, 6), ['-', uidGone, '-', 'pv-gone', gone.mountPath, 'orphaned']);
  t.true(a.requests.some((q) => q.kind === 'list' && q.query.fieldSelector === `spec.nodeName=${NODE}`));
});

mountTest('in-cluster, a token kubelet rotates (..data swapped, the old one revoked at once) keeps the daemon watching and sending events, never refused', async (t) => {
  const k = tree('kube-in-cluster');
  const a = await api({ tls: true });
  const sa = serviceAccountVolume({ token: 'sa-token-1', ca: a.ca, namespace: 'kube-system' });
  box.defer(() => sa.remove());
  a.addToken('sa-token-1');
  const uid = newPodUid();
  const v = await publishFuse(k, uid, 'pv-r');
  a.putPod(appPod({ uid, name: 'db-0', node: NODE, claims: { data: 'data-db-0' } }));
  a.setClaim('default', 'data-db-0', 'pv-r');
  // The daemon in a mount namespace of its own, with the volume where kubelet puts it (mounts made before it starts).
  const mountVolume = 'mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io && ln -s "$0" /run/secrets/kubernetes.io/serviceaccount && exec "$@"';
  const wrap = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', mountVolume, sa.dir];
  const d = await box.daemon(['--kubelet-dir', k.kubeletDir, ...FAST_FLAGS], { JFS_PROBER_KUBE: 'on', KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(a.port) }, { wrap });
  await until('labelled from the API', async () => info(await d.metrics(), v.mountPath)?.pvc_name === 'data-db-0');
  t.is(kubeOf(await d.status()).source, 'in-cluster');

  sa.rotate('sa-token-2');
  a.addToken('sa-token-2');
  a.revokeToken('sa-token-1');
  // The open watch goes on; when the server ends it, the next one goes with the new token.
  a.dropWatches();
  await until('watching again with the new token', () => a.openWatches() === 1 && a.calls.some((c) => c.verb === 'watch' && c.token === 'sa-token-2' && c.status === 200));
  await v.fuse.setMode('eio');
  await until('the Warning sent with the new token', () => a.calls.some((c) => c.verb === 'create' && c.resource === 'events' && c.status === 201 && c.token === 'sa-token-2'));
  t.deepEqual(a.calls.filter((c) => c.status === 401).map((c) => `${c.verb} ${c.resource} ${c.token}`), [], 'never refused');
  t.false(kubeOf(await d.status()).stale);
});

test('credentials that cannot be had (an exec plugin failing) are logged, counted, and said by /readyz and the status page until they can', async (t) => {
  const k = tree('kube-auth-error');
  const a = await api();
  let failing = true;
  const plugin = await execPlugin(() => {
    if (failing) throw new Error('the identity provider is down');
    return { token: a.defaultToken };
  });
  box.defer(() => plugin.close());
  const withExec = await box.daemon(['--kubelet-dir', k.kubeletDir, '--kubeconfig', a.writeKubeconfig('exec', { user: { exec: plugin.exec } }), ...FAST_FLAGS], { JFS_PROBER_KUBE: 'auto' });
  const readyz = await until('/readyz says it', async () => {
    const r = await withExec.get('/readyz');
    const body = await r.text();
    return r.status === 503 && body.includes('kubernetes credentials cannot be had') ? body : undefined;
  });
  t.regex(readyz, /the identity provider is down/);
  t.regex(await (await withExec.get('/')).text(), /kubernetes credentials cannot be had: the identity provider is down/);
  t.regex(kubeOf(await withExec.status()).auth_error ?? '', /the identity provider is down/);
  await until('asked again and counted', async () => (scalar(await withExec.metrics(), 'juicefs_path_prober_kube_credential_errors_total') ?? 0) >= 2);
  const said = withExec.logs.filter((l) => String(l.msg).startsWith('cannot get Kubernetes credentials'));
  t.is(said.length, 1, 'logged once while it lasts');
  t.regex(String(said[0]!.error), /the identity provider is down/);

  failing = false;
  await until('ready once they can be had', async () => (await withExec.get('/readyz')).status === 200);
  await until('synced', async () => kubeOf(await withExec.status()).synced);
  t.is(kubeOf(await withExec.status()).auth_error, null);
  t.true(withExec.logs.some((l) => l.msg === 'kubernetes credentials can be had again'));
  // Without credentials the requests went anonymous, which RBAC refused.
  const refused = a.takeProblems();
  t.true(refused.every((p) => p.startsWith('403 ') && p.includes('User "system:anonymous"')), refused.join('\n'));
});

test('without in-cluster config or --kubeconfig the daemon runs as before, with no Kubernetes series', async (t) => {
  const k = createKubeletTree('kube-auto-off');
  t.teardown(() => k.remove());
  const env = { JFS_PROBER_KUBE: 'auto', KUBERNETES_SERVICE_HOST: '', KUBERNETES_SERVICE_PORT: '' };
  const d = await startDaemon(['--kubelet-dir', k.kubeletDir, ...FAST_FLAGS], env);
  t.teardown(() => d.stop('SIGKILL'));
  const s = (await d.waitFor((s) => s.ready, 10_000, 'ready')) as unknown as { kube: { mode: string; why: string } };
  t.deepEqual(s.kube, { mode: 'off', why: 'no in-cluster service account and no --kubeconfig' });
  const text = await d.metrics();
  t.false(text.includes('juicefs_volume_path_info'));
  t.false(text.includes('juicefs_path_prober_kube_'));
});


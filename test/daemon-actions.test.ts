// The opt-in actions end to end: the real daemon, real FUSE mounts, and the
// API stand-in enforcing the RBAC the evict overlay renders. A pod with the
// readiness gate goes Ready when its volume answers, NotReady when its FUSE
// client dies, Ready again when a new client serves the path; the dead spell
// is a dry-run eviction Event, never an eviction.

import test from 'ava';
import path from 'node:path';
import { REASON_WOULD_EVICT } from '../src/act/pod-actions.js';
import { byPath } from './fixtures/daemon.js';
import { eventually as until, requires, sampleValue, sandbox } from './fixtures/harness.js';
import { appPod, mountPod, podCondition, readyWithGates, type FakeApiServer, type Json } from './fixtures/kube-api-server.js';
import { ROOT } from './fixtures/kube-api/rbac.js';
import { newPodUid } from './fixtures/kubelet-tree.js';
import { publishFuse, rebindToNewClient } from './fixtures/fuse-volumes.js';

const NODE = 'test-node';
const TYPE = 'juicefs-path-prober.io/volumes-healthy';
const box = sandbox();
const mountTest = requires('mounts', { tool: 'kubectl', why: 'renders overlays/evict, whose RBAC the stand-in enforces' });
const conditionOf = (a: FakeApiServer, uid: string): Json | undefined => podCondition(a.getPod(uid), TYPE);

mountTest('a gated pod is Ready within 2 s of its volume answering, NotReady while its FUSE client is dead (a dry-run eviction Event, no eviction), Ready again on a new client', async (t) => {
  const k = box.tree('actions');
  const a = await box.api({ manifests: path.join(ROOT, 'overlays/evict') });
  const uid = newPodUid();
  a.putPod(appPod({ uid, name: 'web-0', node: NODE, owner: 'ReplicaSet/web-5d9f', gates: [TYPE] }));
  // A long interval and the default publish grace: what makes the condition quick is the path's
  // own transition (a new path is looked at again soon while it is pending), not the next cycle.
  const d = await box.daemon(
    ['--kubelet-dir', k.kubeletDir, '--kubeconfig', a.kubeconfig, '--interval=10s', '--timeout=400ms', '--resync=2s', '--pod-condition=on', '--evict-after=2s'],
    { JFS_PROBER_KUBE: 'auto', NODE_NAME: NODE },
  );
  await d.waitFor((s) => (s as unknown as { kube?: { synced: boolean } }).kube?.synced === true, 20_000, 'pod cache synced');
  t.false(readyWithGates(a.getPod(uid)!), 'no condition yet: the gate holds the pod out');

  // Another pod's volume first: the probe helper starts with the node's first JuiceFS path
  // (0.3 to 2 s on this 2-core machine under the suite's load), and a new pod rarely is the first.
  const other = await publishFuse(k, newPodUid(), 'pv-other');
  await d.waitFor((s) => byPath(s, other.mountPath)?.state === 'healthy', 20_000, 'the first path healthy');

  const published = Date.now();
  const vol = await publishFuse(k, uid, 'pv-a');
  a.putPod(mountPod({ uid: newPodUid(), name: 'juicefs-test-node-pv-a-abcdef', node: NODE, targets: [vol.mountPath] }));
  const readyAfterMs = await until('condition True', () => (conditionOf(a, uid)?.status === 'True' ? Date.now() - published : undefined), { timeoutMs: 10_000, intervalMs: 10 });
  t.log(`condition True ${readyAfterMs} ms after the volume was published (interval 10 s)`);
  t.true(readyAfterMs <= 2000, `${readyAfterMs} ms`);
  t.true(readyWithGates(a.getPod(uid)!));
  t.like(a.podWrites[0], { status: 200, body: { status: { conditions: [{ type: TYPE, status: 'True' }] } } }, 'the first write is True: a path being published never set False');

  await vol.fuse.kill();
  await until('condition False', () => conditionOf(a, uid)?.status === 'False', { timeoutMs: 20_000 });
  t.like(conditionOf(a, uid), { reason: 'Disconnected' });
  t.regex(String(conditionOf(a, uid)!.message), new RegExp(`^volume pv-a at ${vol.mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: disconnected \\(`));
  t.false(readyWithGates(a.getPod(uid)!), 'NotReady: out of its Service\'s endpoints');

  // The mount pod is Running and Ready: a new pod would get a working mount; in dry run that is an Event only.
  const ev = await until('dry-run Event', () => a.events.find((e) => e.body.reason === REASON_WOULD_EVICT), { timeoutMs: 20_000 });
  t.like(ev.body, { type: 'Normal', involvedObject: { uid, name: 'web-0' } });
  t.regex(String(ev.body.message), /^would evict \(--evict=dry-run\): volume pv-a at .*: disconnected for \d+s while mount pod kube-system\/juicefs-test-node-pv-a-abcdef is Running and Ready$/);
  t.is(sampleValue(await d.metrics(), 'juicefs_path_prober_evictions_total', { result: 'dry_run', reason: 'disconnected' }), 1);
  t.deepEqual(a.calls.filter((c) => c.resource === 'pods/eviction' || c.verb === 'delete'), [], 'dry run: the Eviction API is never called');
  t.like((await d.status()) as unknown as Record<string, unknown>, {
    actions: { pod_condition: TYPE, evict: { mode: 'dry-run', after_s: 2, max: 2, window_s: 600, jobs: false, kube_system: false }, in_window: 1, evictions: { 'dry_run/disconnected': 1 } },
  });

  await rebindToNewClient(k, vol.mountPath, 'pv-a');
  await until('condition True again', () => conditionOf(a, uid)?.status === 'True', { timeoutMs: 20_000 });
  t.true(readyWithGates(a.getPod(uid)!));
  t.is(byPath(await d.status(), vol.mountPath)?.state, 'healthy');
  const writes = await d.metrics();
  t.is(sampleValue(writes, 'juicefs_path_prober_pod_condition_writes_total', { result: 'written' }), 3, 'True, False, True: written on a change only');
  t.is(sampleValue(writes, 'juicefs_path_prober_pod_condition_writes_total', { result: 'failed' }), 0);
  t.deepEqual(d.logs.filter((l) => l.msg === 'probe helper stderr'), [], 'a helper starts without a word on stderr');
});

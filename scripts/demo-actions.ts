// `npm run demo:actions`: the opt-in actions on a machine without Kubernetes.
// The prober runs on a real FUSE mount of type fuse.juicefs, against the API
// stand-in the tests use (it enforces the RBAC overlays/evict renders, and
// keeps the pods), with --pod-condition=on and --evict-after in dry run. A pod
// with the readiness gate goes Ready when its volume answers, NotReady when
// its FUSE client dies (and a "would evict" Event, since its mount pod is
// Running: a new pod would get a working mount), Ready again when a new
// client serves the path. Readiness is computed as kubelet computes it with
// readiness gates. Needs root and /dev/fuse; runs in a private mount
// namespace, so nothing it mounts outlives it.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REASON_WOULD_EVICT } from '../src/act/pod-actions.js';
import { startDaemon, type DaemonProcess } from '../test/fixtures/daemon.js';
import { appPod, mountPod, podCondition, readyWithGates, startFakeApiServer, type FakeApiServer, type Json } from '../test/fixtures/kube-api-server.js';
import { ROOT } from '../test/fixtures/kube-api/rbac.js';
import { createKubeletTree, newPodUid, type KubeletTree } from '../test/fixtures/kubelet-tree.js';
import { publishFuse, rebindToNewClient } from '../test/fixtures/fuse-volumes.js';
import { cleanupAll, mountPrivileges, reexecInPrivateMountNamespace } from '../test/fixtures/mounts.js';
import { sampleValue } from '../test/fixtures/metrics-text.js';

reexecInPrivateMountNamespace(fileURLToPath(import.meta.url), process.argv.slice(2));
const priv = mountPrivileges();
if (!priv.ok) {
  process.stderr.write(`demo:actions ${priv.reason} (root, /dev/fuse, util-linux unshare)\n`);
  process.exit(2);
}

const TYPE = 'juicefs-path-prober.io/volumes-healthy';
const t0 = Date.now();
const say = (s: string) => process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s  ${s}\n`);
/** Waits for what the stand-in shows; the demo's only waiting. */
async function eventually<T>(what: string, fn: () => T | undefined | false, o: { timeoutMs: number }): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let api: FakeApiServer | undefined;
let tree: KubeletTree | undefined;
let daemon: DaemonProcess | undefined;

function readiness(uid: string): string {
  const pod = api!.getPod(uid)!;
  const c = podCondition(pod, TYPE);
  const gate = c ? `${c.status}${c.reason ? ` ${c.reason}` : ''}${c.status === 'False' ? `: ${c.message}` : ''}` : 'missing';
  return `${readyWithGates(pod) ? 'Ready   ' : 'NotReady'}  (gate ${TYPE}: ${gate})`;
}

async function main(): Promise<void> {
  api = await startFakeApiServer({ manifests: path.join(ROOT, 'overlays/evict') });
  tree = createKubeletTree('demo-actions');
  const uid = newPodUid();
  api.putPod(appPod({ uid, name: 'web-0', namespace: 'shop', node: 'test-node', owner: 'ReplicaSet/web-5d9f', gates: [TYPE] }));
  daemon = await startDaemon(['--kubelet-dir', tree.kubeletDir, '--kubeconfig', api.kubeconfig, '--interval=1s', '--timeout=500ms', '--publish-grace=0s', '--pod-condition=on', '--evict-after=3s', '--evict=dry-run'], { JFS_PROBER_KUBE: 'on' });
  say('prober started: --pod-condition=on --evict-after=3s --evict=dry-run, RBAC of overlays/evict');
  say(`pod shop/web-0 (ReplicaSet, readinessGates: ${TYPE}), no volume yet: ${readiness(uid)}`);

  const vol = await publishFuse(tree, uid, 'pv-a');
  api.putPod(mountPod({ uid: newPodUid(), name: 'juicefs-test-node-pv-a-x1', node: 'test-node', targets: [vol.mountPath] }));
  say('JuiceFS volume pv-a published (a FUSE mount), its mount pod Running');
  await eventually('Ready', () => readyWithGates(api!.getPod(uid)!), { timeoutMs: 15_000 });
  say(`pod shop/web-0: ${readiness(uid)}`);

  await vol.fuse.kill();
  say('the FUSE client dies (as when a mount pod is OOM-killed): every access says ENOTCONN');
  await eventually('NotReady', () => !readyWithGates(api!.getPod(uid)!), { timeoutMs: 15_000 });
  say(`pod shop/web-0: ${readiness(uid)}`);
  const ev = await eventually('the dry-run Event', () => api!.events.find((e) => e.body.reason === REASON_WOULD_EVICT), { timeoutMs: 15_000 });
  say(`Event on shop/web-0: ${String(ev.body.type)} ${String(ev.body.reason)}: ${String(ev.body.message)}`);

  await rebindToNewClient(tree, vol.mountPath, 'pv-a');
  say('the path is bound to a new, working client');
  await eventually('Ready again', () => readyWithGates(api!.getPod(uid)!), { timeoutMs: 15_000 });
  say(`pod shop/web-0: ${readiness(uid)}`);

  const metrics = await daemon.metrics();
  say(`juicefs_path_prober_pod_condition_writes_total{result="written"} ${sampleValue(metrics, 'juicefs_path_prober_pod_condition_writes_total', { result: 'written' })}`);
  say(`juicefs_path_prober_evictions_total{result="dry_run",reason="disconnected"} ${sampleValue(metrics, 'juicefs_path_prober_evictions_total', { result: 'dry_run', reason: 'disconnected' })}`);
  say(`Eviction API calls: ${api.calls.filter((c) => c.resource === 'pods/eviction').length} (dry run)`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`demo:actions failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await daemon?.stop('SIGKILL');
  await api?.close();
  cleanupAll();
  tree?.remove();
}

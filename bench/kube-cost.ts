// What Kubernetes mode costs the daemon: resident memory and time to ready,
// with the mode off and on against a list/watch API server holding a node's
// worth of pods (application pods with claims, and mount pods annotated with
// their targets). No mounts needed: the paths are published, not mounted.
//
//   node dist/bench/kube-cost.js [--pods=100] [--rounds=5]

import fs from 'node:fs';
import os from 'node:os';
import { startDaemon, type DaemonProcess } from '../test/fixtures/daemon.js';
import { appPod, mountPod, startFakeApiServer } from '../test/fixtures/kube-api-server.js';
import { createKubeletTree, newPodUid } from '../test/fixtures/kubelet-tree.js';

const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const PODS = arg('pods', 100);
const ROUNDS = arg('rounds', 5);
const NODE = 'bench-node';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(fn: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await sleep(20);
  }
  throw new Error(`timed out: ${what}`);
}

const tree = createKubeletTree('bench-kube');
const api = await startFakeApiServer();
const uids: string[] = [];
for (let i = 0; i < PODS; i++) {
  const uid = newPodUid();
  uids.push(uid);
  const v = tree.publish(uid, `pvc-${i}`);
  api.putPod(appPod({ uid, name: `app-${i}`, node: NODE, claims: { data: `data-${i}` } }));
  api.setClaim('default', `data-${i}`, `pvc-${i}`);
  // Mount pods shared by ten targets each, as in a shared-mount mode.
  if (i % 10 === 0) api.putPod(mountPod({ uid: newPodUid(), name: `juicefs-${NODE}-${i}`, node: NODE, targets: [v.mountPath] }));
}
// Pods of other nodes, which the field selector keeps out.
for (let i = 0; i < PODS; i++) api.putPod(appPod({ uid: newPodUid(), name: `other-${i}`, node: 'other-node' }));

const flags = ['--kubelet-dir', tree.kubeletDir, '--node-name', NODE, '--interval', '2s', '--publish-grace', '10m'];
const results: Record<'off' | 'on', { ready: number[]; synced: number[]; rss: number[] }> = {
  off: { ready: [], synced: [], rss: [] },
  on: { ready: [], synced: [], rss: [] },
};

for (let round = 0; round < ROUNDS; round++) {
  for (const mode of ['off', 'on'] as const) {
    const t0 = performance.now();
    const d: DaemonProcess = await startDaemon(mode === 'on' ? [...flags, '--kubeconfig', api.kubeconfig] : flags, { JFS_PROBER_KUBE: mode === 'on' ? 'auto' : 'off' });
    try {
      await until(async () => (await d.get('/readyz')).status === 200, 'ready');
      results[mode].ready.push(performance.now() - t0);
      if (mode === 'on') {
        await until(async () => {
          const text = await d.metrics();
          return (text.match(/^juicefs_volume_path_info\{[^}]*pvc_name="data-/gm) ?? []).length === PODS;
        }, 'every path labelled');
        results[mode].synced.push(performance.now() - t0);
      }
      await sleep(3000);
      results[mode].rss.push(rssMiB(d.child.pid!));
    } finally {
      await d.stop('SIGKILL');
    }
  }
}
await api.close();
tree.remove();

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`Kubernetes mode cost: ${PODS} pods with published paths on this node (+${PODS} on another), ${ROUNDS} rounds, medians`);
console.log(`machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
const f = (n: number) => n.toFixed(0);
console.log(`  kube off: ready ${f(median(results.off.ready))} ms, daemon RSS ${median(results.off.rss).toFixed(1)} MiB`);
console.log(
  `  kube on:  ready ${f(median(results.on.ready))} ms, every path labelled ${f(median(results.on.synced))} ms, daemon RSS ${median(results.on.rss).toFixed(1)} MiB` +
    ` (+${(median(results.on.rss) - median(results.off.rss)).toFixed(1)} MiB)`,
);

// A realistic node: 110 pods × 3 JuiceFS volumes (330 paths over 165 PVs, each
// PV used by two pods, one FUSE client, each volume a bind of its own
// subdirectory), production defaults, a scrape every 15 s. The prober with
// Kubernetes mode off, then on (against a list/watch API server holding those
// pods and their mount pods), then node_exporter's filesystem collector on the
// same mounts, one after the other so none competes with another for the CPU.

import path from 'node:path';
import { bindMany } from '../lib/fleet.js';
import { startProber, sleep } from '../lib/prober.js';
import { cpuMsOf, sampleTree, type TreeSample } from '../lib/proc-stats.js';
import { scrape } from '../lib/scrape.js';
import { median } from '../lib/stats.js';
import { createKubeletTree, newPodUid } from '../../test/fixtures/kubelet-tree.js';
import { startFuse } from '../../test/fixtures/mounts.js';
import { pathStates } from '../../test/fixtures/metrics-text.js';
import { appPod, mountPod, startFakeApiServer } from '../../test/fixtures/kube-api-server.js';
import { nodeExporterVersion, startNodeExporter } from './node-exporter.js';

export interface RealisticOptions {
  readonly pods: number;
  readonly volumesPerPod: number;
  /** Pods sharing each PV. */
  readonly podsPerPv: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  readonly scrapeEveryMs: number;
  /** Extra flags for the prober (the production defaults otherwise). */
  readonly flags?: readonly string[];
}

export interface RealisticResult {
  readonly tool: string;
  readonly paths: number;
  readonly sources: number;
  /** Spawn to /readyz 200 (prober only). */
  readonly firstCycleMs?: number;
  readonly anonMiB: number;
  /** The most anonymous memory seen at any sample (every 5 s and every scrape) over both windows. */
  readonly anonMaxMiB: number;
  readonly pssMiB: number;
  readonly rssMiB: number;
  readonly processes: number;
  /** CPU of the process tree over the window, scrapes included, per minute. */
  readonly cpuMsPerMinute: number;
  /** CPU per minute over an idle window of the same length with no scrape (prober only). */
  readonly idleCpuMsPerMinute?: number;
  /** The same idle window, the daemon process alone (its probe helpers left out). */
  readonly idleDaemonCpuMsPerMinute?: number;
  readonly scrapeP50Ms: number;
  readonly bodyBytes: number;
}

export const NODE = 'bench-node';

export async function measure(pid: number, url: string, o: Pick<RealisticOptions, 'warmupMs' | 'windowMs' | 'scrapeEveryMs'>, idle: boolean): Promise<Omit<RealisticResult, 'tool' | 'paths' | 'sources' | 'firstCycleMs'>> {
  await sleep(o.warmupMs);
  // V8 lets the heap grow to about twice what is live before a full collection: anonymous
  // memory saws up and down from cycle to cycle, so its peak is reported beside the last value.
  let anonMax = 0;
  const peek = () => (anonMax = Math.max(anonMax, sampleTree(pid).anonMiB));
  const sleepSampling = async (ms: number) => {
    const until = performance.now() + ms;
    for (let left = ms; left > 0; left = until - performance.now()) {
      await sleep(Math.min(5000, left));
      peek();
    }
  };
  let idleCpuMsPerMinute: number | undefined;
  let idleDaemonCpuMsPerMinute: number | undefined;
  if (idle) {
    const i0 = sampleTree(pid);
    const d0 = cpuMsOf(pid);
    const t0 = performance.now();
    await sleepSampling(o.windowMs);
    const perMinute = 60_000 / (performance.now() - t0);
    idleCpuMsPerMinute = (sampleTree(pid).cpuMs - i0.cpuMs) * perMinute;
    idleDaemonCpuMsPerMinute = (cpuMsOf(pid) - d0) * perMinute;
  }
  const lat: number[] = [];
  let bytes = 0;
  const s0 = sampleTree(pid);
  const t0 = performance.now();
  // The first scrape at the window's start, then one every scrapeEveryMs, as Prometheus does.
  for (let at = 0; at < o.windowMs; at += o.scrapeEveryMs) {
    const wait = t0 + at - performance.now();
    if (wait > 0) await sleep(wait);
    const r = await scrape(url);
    if (r.status !== 200) throw new Error(`scrape of ${url} answered ${r.status}`);
    lat.push(r.ms);
    bytes = r.bytes;
    peek();
  }
  const rest = t0 + o.windowMs - performance.now();
  if (rest > 0) await sleep(rest);
  const s1: TreeSample = sampleTree(pid);
  const cpuMsPerMinute = ((s1.cpuMs - s0.cpuMs) / (performance.now() - t0)) * 60_000;
  // More scrapes, outside the CPU window, for a steadier median.
  for (let i = 0; i < 10; i++) {
    lat.push((await scrape(url)).ms);
    await sleep(200);
  }
  const mem = sampleTree(pid);
  return {
    anonMiB: mem.anonMiB,
    anonMaxMiB: Math.max(anonMax, mem.anonMiB),
    pssMiB: mem.pssMiB,
    rssMiB: mem.rssMiB,
    processes: mem.pids.length,
    cpuMsPerMinute,
    ...(idleCpuMsPerMinute !== undefined ? { idleCpuMsPerMinute } : {}),
    ...(idleDaemonCpuMsPerMinute !== undefined ? { idleDaemonCpuMsPerMinute } : {}),
    scrapeP50Ms: median(lat),
    bodyBytes: bytes,
  };
}

export interface RealisticNode {
  readonly root: string;
  readonly kubeletDir: string;
  readonly podsDir: string;
  readonly kubeconfig: string;
  readonly published: readonly string[];
  readonly pvs: number;
  close(): Promise<void>;
}

/**
 * The node's kubelet tree on one FUSE client, and an API server holding its pods, their
 * claims, one mount pod per PV and as many pods of another node. `ttlMs` is the FUSE
 * fixture's failsafe lifetime: it must outlast the run, or the mounts die mid-run.
 */
export async function buildRealisticNode(o: Pick<RealisticOptions, 'pods' | 'volumesPerPod' | 'podsPerPv'>, ttlMs: number): Promise<RealisticNode> {
  const tree = createKubeletTree('bench-realistic');
  const api = await startFakeApiServer();
  const server = await startFuse(path.join(tree.root, 'jfs'), { ttlMs });
  const close = async () => {
    server.cleanup();
    await api.close();
    tree.remove();
  };
  try {
    const published: string[] = [];
    const pvs = (o.pods * o.volumesPerPod) / o.podsPerPv;
    const targetsOf = new Map<string, string[]>();
    const pairs: [string, string][] = [];
    for (let p = 0; p < o.pods; p++) {
      const uid = newPodUid();
      const claims: Record<string, string> = {};
      for (let k = 0; k < o.volumesPerPod; k++) {
        const pv = `pvc-${String((p * o.volumesPerPod + k) % pvs).padStart(6, '0')}`;
        const v = tree.publish(uid, pv, { volumeHandle: pv });
        pairs.push([path.join(server.mnt, pv), v.mountPath]);
        published.push(v.mountPath);
        claims[`vol-${k}`] = `claim-${pv}`;
        api.setClaim('default', `claim-${pv}`, pv);
        targetsOf.set(pv, [...(targetsOf.get(pv) ?? []), v.mountPath]);
      }
      api.putPod(appPod({ uid, name: `app-${p}`, node: NODE, claims }));
    }
    // One mount pod per PV, serving the targets of both pods that use it.
    for (const [pv, targets] of targetsOf) api.putPod(mountPod({ uid: newPodUid(), name: `juicefs-${NODE}-${pv}`, node: NODE, targets, volumeId: pv }));
    // Pods of other nodes, which the field selector keeps out.
    for (let p = 0; p < o.pods; p++) api.putPod(appPod({ uid: newPodUid(), name: `other-${p}`, node: 'other-node' }));
    bindMany(pairs);
    return { root: tree.root, kubeletDir: tree.kubeletDir, podsDir: tree.podsDir, kubeconfig: api.kubeconfig, published, pvs, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Throws unless every published path is healthy: figures from a node whose mounts went bad mid-run would measure another workload. */
export async function assertAllHealthy(url: string, published: readonly string[]): Promise<void> {
  const states = pathStates((await scrape(url)).text);
  const healthy = published.filter((p) => states.get(p) === 'healthy').length;
  if (healthy !== published.length) throw new Error(`realistic node: ${healthy} of ${published.length} paths healthy at the end of the window`);
}

export async function runRealistic(o: RealisticOptions): Promise<RealisticResult[]> {
  const node = await buildRealisticNode(o, 3 * (o.warmupMs + 2 * o.windowMs) + 15 * 60_000);
  try {
    const out: RealisticResult[] = [];
    const shape = { paths: node.published.length, sources: node.pvs };
    const flags = ['--node-name', NODE, ...(o.flags ?? [])];
    for (const kube of [false, true]) {
      const prober = await startProber(node.kubeletDir, kube ? [...flags, '--kubeconfig', node.kubeconfig] : flags, 120_000, { JFS_PROBER_KUBE: kube ? 'auto' : 'off' });
      try {
        const m = await measure(prober.pid, `${prober.daemon.url}/metrics`, o, true);
        await assertAllHealthy(`${prober.daemon.url}/metrics`, node.published);
        out.push({ tool: `prober, Kubernetes mode ${kube ? 'on' : 'off'}`, ...shape, firstCycleMs: prober.readyMs, ...m });
      } finally {
        await prober.stop();
      }
    }
    const version = nodeExporterVersion();
    if (version) {
      const ne = await startNodeExporter(node.root, node.podsDir, 5);
      try {
        out.push({ tool: `node_exporter ${version}`, ...shape, ...(await measure(ne.child.pid!, ne.url, o, false)) });
      } finally {
        ne.child.kill('SIGKILL');
      }
    }
    return out;
  } finally {
    await node.close();
  }
}

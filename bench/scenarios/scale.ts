// Scale: N published paths, each its own mount source (or N over S sources);
// time to the first full cycle, steady cycle wall time and CPU, RSS, and
// /metrics latency and size; the same mounts stat'ed by a bare C loop.

import { createFleet } from '../lib/fleet.js';
import { runBareLoop } from '../lib/bare-loop.js';
import { startProber, sleep } from '../lib/prober.js';
import { cpuMsOf, rssMiBOf, sampleTree } from '../lib/proc-stats.js';
import { scrape, scrapeGzip } from '../lib/scrape.js';
import { median, quantile } from '../lib/stats.js';

export interface ScaleCase {
  readonly paths: number;
  readonly sources: number;
  /** CSI volumes per pod (1: as many pods as paths). */
  readonly volumesPerPod: number;
}

/** `paths/sources` or `paths/sourcesxvolumesPerPod`, e.g. `10000/10000x40` (250 pods × 40 volumes). */
export function parseScaleCase(spec: string): ScaleCase {
  const m = /^(\d+)(?:\/(\d+)(?:x(\d+))?)?$/.exec(spec);
  if (!m) throw new Error(`--scale: expected paths/sources[xvolumesPerPod], got ${JSON.stringify(spec)}`);
  const paths = Number(m[1]);
  return { paths, sources: Number(m[2] ?? paths), volumesPerPod: Number(m[3] ?? 1) };
}

export interface ScaleResult extends ScaleCase {
  readonly readyMs: number;
  readonly cycleWallMs: number;
  readonly cycles: number;
  readonly cpuMsPerCycle: number;
  readonly daemonCpuMsPerCycle: number;
  readonly rssMiB: number;
  readonly daemonRssMiB: number;
  readonly helperProcesses: number;
  readonly metricsP50Ms: number;
  readonly metricsP99Ms: number;
  readonly metricsBytes: number;
  /** The same scrapes asking for gzip, as Prometheus does. */
  readonly metricsGzipP50Ms: number;
  readonly metricsGzipP99Ms: number;
  readonly metricsGzipBytes: number;
  readonly bareCpuMsPerRound: number;
  readonly bareWallMsPerRound: number;
  readonly cpuRatio: number;
}

export interface ScaleOptions {
  readonly intervalMs: number;
  readonly cycles: number;
  readonly scrapes: number;
  /** The helper's pool size: the bare loop runs with as many threads. */
  readonly threads: number;
}

/** `n` sequential scrapes 50 ms apart: each one's wall time, and the last one's size. */
export async function timedScrapes(get: () => Promise<{ ms: number; bytes: number }>, n: number): Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const r = await get();
    ms.push(r.ms);
    bytes = r.bytes;
    await sleep(50);
  }
  return { ms, bytes };
}

export async function runScale(c: ScaleCase, o: ScaleOptions): Promise<ScaleResult> {
  // One FUSE server per 2,500 sources, as a node has a few JuiceFS file systems.
  const servers = Math.min(4, Math.max(1, Math.ceil(c.sources / 2500)));
  const fleet = await createFleet('bench-scale', Array.from({ length: servers }, (_, i) => ({ name: `fs${i}` })));
  try {
    for (let i = 0; i < servers; i++) {
      const n = Math.floor(c.paths / servers) + (i < c.paths % servers ? 1 : 0);
      const s = Math.floor(c.sources / servers) + (i < c.sources % servers ? 1 : 0);
      fleet.add(`fs${i}`, n, { ...(s < n ? { sharedSources: s } : {}), volumesPerPod: c.volumesPerPod });
    }
    // The daemon stats each source once; the floor does the same.
    const perSource = new Map<number, string>();
    for (const p of fleet.paths) if (!perSource.has(p.source)) perSource.set(p.source, p.mountPath);
    const bare = runBareLoop([...perSource.values()], o.threads);
    if (bare.failures > 0) throw new Error(`bare loop: ${bare.failures} stat failures on healthy mounts`);

    const prober = await startProber(fleet.tree.kubeletDir, ['--interval', `${o.intervalMs}ms`, '--timeout', '5s', '--publish-grace', '0s']);
    try {
      // Let the first cycle's stragglers (start-up, JIT) pass before measuring.
      await sleep(o.intervalMs);
      const c0 = await prober.cycles();
      const s0 = sampleTree(prober.pid);
      const own0 = cpuMsOf(prober.pid);
      // No scrapes inside the window: at 10,000 paths one costs as much as a share of a cycle.
      await sleep(o.cycles * o.intervalMs + o.intervalMs / 2);
      const s1 = sampleTree(prober.pid);
      const own1 = cpuMsOf(prober.pid);
      const c1 = await prober.cycles();
      const cycles = c1.count - c0.count;

      const url = `${prober.daemon.url}/metrics`;
      const plain = await timedScrapes(() => scrape(url), o.scrapes);
      const gzip = await timedScrapes(() => scrapeGzip(url), o.scrapes);
      // Memory after the scrapes, which copy the kept per-path text into each answer.
      const after = sampleTree(prober.pid);
      return {
        ...c,
        readyMs: prober.readyMs,
        cycles,
        cycleWallMs: ((c1.sumSeconds - c0.sumSeconds) / cycles) * 1000,
        cpuMsPerCycle: (s1.cpuMs - s0.cpuMs) / cycles,
        daemonCpuMsPerCycle: (own1 - own0) / cycles,
        rssMiB: after.rssMiB,
        daemonRssMiB: rssMiBOf(prober.pid),
        helperProcesses: s1.pids.length - 1,
        metricsP50Ms: median(plain.ms),
        metricsP99Ms: quantile(plain.ms, 0.99),
        metricsBytes: plain.bytes,
        metricsGzipP50Ms: median(gzip.ms),
        metricsGzipP99Ms: quantile(gzip.ms, 0.99),
        metricsGzipBytes: gzip.bytes,
        bareCpuMsPerRound: bare.cpuMs,
        bareWallMsPerRound: bare.wallMs,
        cpuRatio: (s1.cpuMs - s0.cpuMs) / cycles / bare.cpuMs,
      };
    } finally {
      await prober.stop();
    }
  } finally {
    fleet.close();
  }
}

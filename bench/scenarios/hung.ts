// Hung mounts: H hung mount sources (a FUSE client that reads requests and
// never answers, so the blocked calls cannot even be killed) among healthy
// ones, over many cycles: does /metrics stay fast, do the healthy paths keep
// being probed every cycle, and are the held threads bounded and flat?

import { createFleet } from '../lib/fleet.js';
import { startProber, sleep } from '../lib/prober.js';
import { sampleTree, type TreeSample } from '../lib/proc-stats.js';
import { parseSamples, scrape } from '../lib/scrape.js';
import { median, quantile } from '../lib/stats.js';
import { pathStatesOf } from '../../test/fixtures/metrics-text.js';

export interface HungResult {
  readonly healthy: number;
  readonly hung: number;
  readonly cycles: number;
  readonly metricsP50Ms: number;
  readonly metricsP99Ms: number;
  /** Oldest last-probe age of a healthy path seen at any scrape, in seconds. */
  readonly maxHealthyAgeS: number;
  readonly hungReportedTimeout: number;
  readonly healthyReportedHealthy: number;
  /** Most threads seen blocked at once: stuck calls plus healthy calls caught in flight. */
  readonly blockedThreadsMax: number;
  /** Threads blocked in every one of the last five samples (a second apart): the calls held by hung mounts. */
  readonly blockedThreadsHeld: number;
  readonly threadsStart: number;
  readonly threadsEnd: number;
  readonly processesMax: number;
  readonly rssStartMiB: number;
  readonly rssEndMiB: number;
}

export async function runHung(healthy: number, hung: number, o: { intervalMs: number; timeoutMs: number; cycles: number }): Promise<HungResult> {
  const fleet = await createFleet('bench-hung', [{ name: 'ok' }, { name: 'hung' }]);
  try {
    fleet.add('ok', healthy);
    const hungPaths = hung > 0 ? fleet.add('hung', hung) : [];
    const prober = await startProber(fleet.tree.kubeletDir, ['--path-timing', 'on', '--interval', `${o.intervalMs}ms`, '--timeout', `${o.timeoutMs}ms`, '--publish-grace', '0s']);
    try {
      await sleep(o.intervalMs);
      // The client stops answering: every probe of its sources blocks in the kernel from now on.
      await fleet.groups[1]!.server.setMode('hungread');
      const start = Date.now();
      const hungSet = new Set(hungPaths.map((p) => p.mountPath));
      const lat: number[] = [];
      const samples: TreeSample[] = [sampleTree(prober.pid)];
      let maxAge = 0;
      let lastStates = new Map<string, string>();
      let nextSample = Date.now() + 1000;
      while (Date.now() - start < o.cycles * o.intervalMs) {
        const r = await scrape(`${prober.daemon.url}/metrics`);
        lat.push(r.ms);
        const now = Date.now() / 1000;
        const all = parseSamples(r.text, 'juicefs_volume_path_');
        lastStates = pathStatesOf(all);
        for (const s of all) {
          if (s.name === 'juicefs_volume_path_last_probe_timestamp_seconds' && !hungSet.has(s.labels.volume_path!)) {
            maxAge = Math.max(maxAge, now - s.value);
          }
        }
        if (Date.now() >= nextSample) {
          samples.push(sampleTree(prober.pid));
          nextSample += 1000;
        }
        await sleep(200);
      }
      const end = sampleTree(prober.pid);
      samples.push(end);
      let hungTimeout = 0;
      let healthyOk = 0;
      for (const [p, state] of lastStates) {
        if (hungSet.has(p)) hungTimeout += state === 'timeout' ? 1 : 0;
        else healthyOk += state === 'healthy' ? 1 : 0;
      }
      return {
        healthy,
        hung,
        cycles: o.cycles,
        metricsP50Ms: median(lat),
        metricsP99Ms: quantile(lat, 0.99),
        maxHealthyAgeS: maxAge,
        hungReportedTimeout: hungTimeout,
        healthyReportedHealthy: healthyOk,
        blockedThreadsMax: Math.max(...samples.map((s) => s.blockedThreads)),
        blockedThreadsHeld: Math.min(...samples.slice(-5).map((s) => s.blockedThreads)),
        threadsStart: samples[0]!.threads,
        threadsEnd: end.threads,
        processesMax: Math.max(...samples.map((s) => s.pids.length)),
        rssStartMiB: samples[0]!.rssMiB,
        rssEndMiB: end.rssMiB,
      };
    } finally {
      await prober.stop();
    }
  } finally {
    fleet.close();
  }
}

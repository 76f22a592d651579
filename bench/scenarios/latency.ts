// Detection latency: from breaking a mount (its client dies, hangs, or the
// bind is unmounted) to the scrape showing 0 with the right state; from a new
// pod's path to its series; from a pod's removal to its series vanishing.

import path from 'node:path';
import { bindMany, createFleet, detachMany } from '../lib/fleet.js';
import { startProber, sleep } from '../lib/prober.js';
import { parseSamples, scrape } from '../lib/scrape.js';
import { median } from '../lib/stats.js';
import { pathStatesOf } from '../../test/fixtures/metrics-text.js';
import { startFuse } from '../../test/fixtures/mounts.js';

export interface LatencyResult {
  readonly event: string;
  readonly expect: string;
  readonly samplesMs: number[];
  readonly medianMs: number;
  readonly maxMs: number;
}

type Probe = (states: Map<string, string>) => boolean;

export async function runLatency(o: { intervalMs: number; timeoutMs: number; repeats: number }): Promise<LatencyResult[]> {
  const fleet = await createFleet('bench-latency', [{ name: 'a' }]);
  const results = new Map<string, { expect: string; samples: number[] }>();
  try {
    fleet.add('a', 10);
    const prober = await startProber(fleet.tree.kubeletDir, ['--interval', `${o.intervalMs}ms`, '--timeout', `${o.timeoutMs}ms`, '--publish-grace', '0s']);
    const url = `${prober.daemon.url}/metrics`;
    /** Scrapes every 20 ms until `done` holds; milliseconds since `t0`. */
    const until = async (done: Probe, t0: number, limitMs = 60_000): Promise<number> => {
      for (;;) {
        // A healthy path has only its health series: both families are read.
        const states = pathStatesOf(parseSamples((await scrape(url)).text, 'juicefs_volume_path_'));
        if (done(states)) return performance.now() - t0;
        if (performance.now() - t0 > limitMs) throw new Error('no detection within 60 s');
        await sleep(20);
      }
    };
    const record = (event: string, expect: string, ms: number) => {
      const r = results.get(event) ?? { expect, samples: [] };
      r.samples.push(ms);
      results.set(event, r);
    };
    try {
      for (let i = 0; i < o.repeats; i++) {
        // A volume of its own, so killing its client touches nothing else.
        const server = await startFuse(path.join(fleet.tree.root, `jfs-latency-${i}`));
        const v = fleet.tree.publish(`pod-latency-${i}`, `pvc-latency-${i}`);
        bindMany([[path.join(server.mnt, 'vol'), v.mountPath]]);
        await until((s) => s.get(v.mountPath) === 'healthy', performance.now());
        // Random phase against the probe loop, as a real failure would be.
        await sleep(Math.random() * o.intervalMs);

        let t0 = performance.now();
        await server.setMode('hungread');
        record('client hangs', 'timeout', await until((s) => s.get(v.mountPath) === 'timeout', t0));
        await server.setMode('healthy');
        record('hung client answers again', 'healthy', await until((s) => s.get(v.mountPath) === 'healthy', performance.now()));

        await sleep(Math.random() * o.intervalMs);
        t0 = performance.now();
        detachMany([v.mountPath]);
        record('bind unmounted', 'not_mounted', await until((s) => s.get(v.mountPath) === 'not_mounted', t0));
        bindMany([[path.join(server.mnt, 'vol'), v.mountPath]]);
        await until((s) => s.get(v.mountPath) === 'healthy', performance.now());

        await sleep(Math.random() * o.intervalMs);
        t0 = performance.now();
        await server.kill();
        record('client dies', 'disconnected', await until((s) => s.get(v.mountPath) === 'disconnected', t0));

        await sleep(Math.random() * o.intervalMs);
        t0 = performance.now();
        fleet.tree.removePod(`pod-latency-${i}`);
        record('pod removed', 'series gone', await until((s) => !s.has(v.mountPath), t0));
        server.cleanup();

        await sleep(Math.random() * o.intervalMs);
        t0 = performance.now();
        const [added] = fleet.add('a', 1, { prefix: `pod-new-${i}` });
        record('pod added', 'series present', await until((s) => s.has(added!.mountPath), t0));
      }
    } finally {
      await prober.stop();
    }
  } finally {
    fleet.close();
  }
  return [...results].map(([event, r]) => ({ event, expect: r.expect, samplesMs: r.samples, medianMs: median(r.samples), maxMs: Math.max(...r.samples) }));
}

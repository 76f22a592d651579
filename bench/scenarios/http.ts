// HTTP: what the daemon's HTTP surface costs and carries. A few healthy paths,
// production defaults; per start of the daemon: its own anonymous memory and PSS
// (smaps_rollup) once idle, /metrics latency from sequential scrapes, a burst of
// concurrent scrapes (each its own connection, plain then gzip: scrapes a
// second, latency, failures), and last its live heap (a heap snapshot, which V8
// takes after a full collection). Capacity figures, not a test: nothing fails on them.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createFleet } from '../lib/fleet.js';
import { readText } from '../lib/machine.js';
import { IMAGE, startProber, sleep } from '../lib/prober.js';
import { scrape, scrapeGzip } from '../lib/scrape.js';
import { median, quantile } from '../lib/stats.js';
import { timedScrapes } from './scale.js';

export interface HttpOptions {
  readonly paths: number;
  /** Daemon starts; figures are medians over them. */
  readonly starts: number;
  /** Idle time after the first cycle, before memory is read. */
  readonly settleMs: number;
  /** Sequential scrapes (50 ms apart) per encoding. */
  readonly scrapes: number;
  /** Scrapes in flight at once in the burst. */
  readonly concurrent: number;
}

export interface Burst {
  readonly encoding: 'identity' | 'gzip';
  readonly concurrent: number;
  readonly wallMs: number;
  readonly scrapesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Connection errors, statuses other than 200, and bodies without the build info series. */
  readonly failures: number;
}

export interface HttpResult {
  readonly paths: number;
  readonly starts: number;
  /** The daemon process alone (not its probe helper), idle. */
  readonly anonMiB: number;
  readonly pssMiB: number;
  /** Sum of the heap snapshot's objects (taken last, after the scrapes): what is live after a full collection. */
  readonly liveHeapMB: number;
  readonly metricsP50Ms: number;
  readonly metricsP99Ms: number;
  readonly metricsGzipP50Ms: number;
  readonly metricsGzipP99Ms: number;
  /** The daemon's anonymous memory after the bursts. */
  readonly anonAfterBurstsMiB: number;
  readonly bursts: Burst[];
}

function smapsRollup(pid: number): { anonMiB: number; pssMiB: number } {
  const text = readText(`/proc/${pid}/smaps_rollup`) ?? '';
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { anonMiB: kib('Anonymous') / 1024, pssMiB: kib('Pss') / 1024 };
}

/** Asks the daemon for a heap snapshot (V8 collects garbage first) and sums its objects' own sizes. */
async function liveHeapMB(pid: number, dir: string): Promise<number> {
  const before = new Set(fs.readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = performance.now() + 60_000;
  for (;;) {
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (file) {
      try {
        // Written while the daemon is paused: complete once it parses.
        const snap = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
        const fields = snap.snapshot.meta.node_fields;
        const self = fields.indexOf('self_size');
        let bytes = 0;
        for (let i = self; i < snap.nodes.length; i += fields.length) bytes += snap.nodes[i]!;
        fs.rmSync(path.join(dir, file));
        return bytes / 1e6;
      } catch {
        // Not fully written yet.
      }
    }
    if (performance.now() > deadline) throw new Error('no heap snapshot within 60 s');
    await sleep(200);
  }
}

/** `n` scrapes at once, each on its own connection, as many scrapers would. */
async function burst(url: string, n: number, encoding: 'identity' | 'gzip'): Promise<Burst> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const one = () =>
    new Promise<{ ms: number; ok: boolean }>((resolve) => {
      const t0 = performance.now();
      const done = (ok: boolean) => resolve({ ms: performance.now() - t0, ok });
      http
        .get(url, { agent, headers: { 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', () => done(false));
          res.on('end', () => {
            try {
              const body = Buffer.concat(chunks);
              const text = (encoding === 'gzip' ? gunzipSync(body) : body).toString();
              done(res.statusCode === 200 && text.includes('juicefs_path_prober_build_info'));
            } catch {
              done(false);
            }
          });
        })
        .on('error', () => done(false));
    });
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: n }, one));
  const wallMs = performance.now() - t0;
  agent.destroy();
  const ms = results.map((r) => r.ms);
  return {
    encoding,
    concurrent: n,
    wallMs,
    scrapesPerSecond: n / (wallMs / 1000),
    p50Ms: median(ms),
    p99Ms: quantile(ms, 0.99),
    maxMs: Math.max(...ms),
    failures: results.filter((r) => !r.ok).length,
  };
}

export async function runHttp(o: HttpOptions): Promise<HttpResult> {
  const fleet = await createFleet('bench-http', [{ name: 'a' }]);
  const snapshots = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-http-heap-'));
  const runs: Omit<HttpResult, 'paths' | 'starts'>[] = [];
  try {
    fleet.add('a', o.paths);
    for (let i = 0; i < o.starts; i++) {
      // The image's options, and a heap snapshot on SIGUSR2 (costs nothing until asked).
      const env = { NODE_OPTIONS: `${IMAGE.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}` };
      const prober = await startProber(fleet.tree.kubeletDir, ['--publish-grace', '0s'], 120_000, env);
      try {
        await sleep(o.settleMs);
        const idle = smapsRollup(prober.pid);
        const url = `${prober.daemon.url}/metrics`;
        const plain = await timedScrapes(() => scrape(url), o.scrapes);
        const gzip = await timedScrapes(() => scrapeGzip(url), o.scrapes);
        const bursts = [await burst(url, o.concurrent, 'identity'), await burst(url, o.concurrent, 'gzip')];
        const anonAfterBurstsMiB = smapsRollup(prober.pid).anonMiB;
        // Last: making the snapshot leaves the daemon's malloc arenas larger.
        const heap = await liveHeapMB(prober.pid, snapshots);
        runs.push({
          anonMiB: idle.anonMiB,
          pssMiB: idle.pssMiB,
          liveHeapMB: heap,
          metricsP50Ms: median(plain.ms),
          metricsP99Ms: quantile(plain.ms, 0.99),
          metricsGzipP50Ms: median(gzip.ms),
          metricsGzipP99Ms: quantile(gzip.ms, 0.99),
          anonAfterBurstsMiB,
          bursts,
        });
      } finally {
        await prober.stop();
      }
    }
  } finally {
    fs.rmSync(snapshots, { recursive: true, force: true });
    fleet.close();
  }
  const med = (f: (r: (typeof runs)[number]) => number) => median(runs.map(f));
  const burstsOf = (encoding: Burst['encoding']) => runs.map((r) => r.bursts.find((b) => b.encoding === encoding)!);
  const mergeBursts = (encoding: Burst['encoding']): Burst => {
    const bs = burstsOf(encoding);
    return {
      encoding,
      concurrent: o.concurrent,
      wallMs: median(bs.map((b) => b.wallMs)),
      scrapesPerSecond: median(bs.map((b) => b.scrapesPerSecond)),
      p50Ms: median(bs.map((b) => b.p50Ms)),
      p99Ms: median(bs.map((b) => b.p99Ms)),
      maxMs: Math.max(...bs.map((b) => b.maxMs)),
      failures: bs.reduce((n, b) => n + b.failures, 0),
    };
  };
  return {
    paths: o.paths,
    starts: o.starts,
    anonMiB: med((r) => r.anonMiB),
    pssMiB: med((r) => r.pssMiB),
    liveHeapMB: med((r) => r.liveHeapMB),
    metricsP50Ms: med((r) => r.metricsP50Ms),
    metricsP99Ms: med((r) => r.metricsP99Ms),
    metricsGzipP50Ms: med((r) => r.metricsGzipP50Ms),
    metricsGzipP99Ms: med((r) => r.metricsGzipP99Ms),
    anonAfterBurstsMiB: med((r) => r.anonAfterBurstsMiB),
    bursts: [mergeBursts('identity'), mergeBursts('gzip')],
  };
}

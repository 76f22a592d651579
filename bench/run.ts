// `npm run bench`: builds each scenario on real mounts, runs the daemon as a
// separate process, prints tables and writes the figures as JSON.
// Root and /dev/fuse; runs itself in a private mount namespace.
//
//   node dist/bench/run.js [--smoke] [--only=realistic,scale,hung,latency,node-exporter,http] [--out=bench/results/latest.json]
//                          [--scale=10000/10000,10000/100,10000/10000x40] [--cpu-prof=<dir>] [--warmup-s=30 --window-s=60 (realistic)]

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, mountPrivileges, reexecInPrivateMountNamespace } from '../test/fixtures/mounts.js';
import { describeMachine } from './lib/machine.js';
import { round } from './lib/stats.js';
import { parseScaleCase, runScale, type ScaleResult } from './scenarios/scale.js';
import { profileInto } from './lib/prober.js';
import { runHttp, type HttpResult } from './scenarios/http.js';
import { runHung, type HungResult } from './scenarios/hung.js';
import { runLatency, type LatencyResult } from './scenarios/latency.js';
import { nodeExporterVersion, runSideBySide, type SideBySide } from './scenarios/node-exporter.js';
import { runRealistic, type RealisticResult } from './scenarios/realistic.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const SMOKE = argv.includes('--smoke');
const ONLY = new Set((flag('only') ?? 'realistic,scale,hung,latency,node-exporter,http').split(','));
const OUT = flag('out') ?? (SMOKE ? undefined : 'bench/results/latest.json');
if (flag('cpu-prof')) profileInto(path.resolve(flag('cpu-prof')!));
const THREADS = 128; // the helper's pool: src/probe/helper-pool.ts

reexecInPrivateMountNamespace(fileURLToPath(import.meta.url), process.argv.slice(2));
if (!mountPrivileges().ok) {
  process.stderr.write(`bench needs ${mountPrivileges().reason}\n`);
  process.exit(2);
}

function table(title: string, rows: Record<string, unknown>[]): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => (typeof r[c] === 'number' ? String(round(r[c] as number)) : String(r[c]))));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (xs: string[]) => '| ' + xs.map((x, i) => x.padEnd(width[i]!)).join(' | ') + ' |';
  console.log(`\n### ${title}\n`);
  console.log(line(cols));
  console.log('|' + width.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of cells) console.log(line(r));
}

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function main() {
  const machine = describeMachine();
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, load ${machine.loadavg1m}`);
  const results: { machine: typeof machine; smoke: boolean; realistic?: RealisticResult[]; scale?: ScaleResult[]; hung?: HungResult[]; latency?: LatencyResult[]; nodeExporter?: SideBySide[]; http?: HttpResult } = { machine, smoke: SMOKE };

  if (ONLY.has('realistic')) {
    const o = SMOKE
      ? { pods: 10, volumesPerPod: 3, podsPerPv: 2, warmupMs: 1000, windowMs: 2000, scrapeEveryMs: 1000 }
      : { pods: 110, volumesPerPod: 3, podsPerPv: 2, warmupMs: Number(flag('warmup-s') ?? 30) * 1000, windowMs: Number(flag('window-s') ?? 60) * 1000, scrapeEveryMs: 15_000 };
    log(`realistic node: ${o.pods} pods × ${o.volumesPerPod} volumes, production defaults`);
    results.realistic = await runRealistic({ ...o, flags: SMOKE ? ['--interval', '500ms'] : [] });
    table(`Realistic node (${o.pods} pods × ${o.volumesPerPod} volumes, ${(o.pods * o.volumesPerPod) / o.podsPerPv} PVs, interval ${SMOKE ? '0.5' : '10'} s, a scrape every ${o.scrapeEveryMs / 1000} s; memory and CPU of all processes)`, results.realistic.map((r) => ({
      tool: r.tool,
      'anon MiB': r.anonMiB,
      'anon max MiB': r.anonMaxMiB,
      'PSS MiB': r.pssMiB,
      'RSS MiB': r.rssMiB,
      processes: r.processes,
      'CPU ms/min': r.cpuMsPerMinute,
      'idle CPU ms/min': r.idleCpuMsPerMinute ?? '-',
      'idle daemon CPU ms/min': r.idleDaemonCpuMsPerMinute ?? '-',
      'first cycle s': r.firstCycleMs === undefined ? '-' : r.firstCycleMs / 1000,
      'scrape p50 ms': r.scrapeP50Ms,
      'body KiB': r.bodyBytes / 1024,
    })));
  }

  if (ONLY.has('scale')) {
    const cases = (flag('scale')?.split(',') ?? (SMOKE ? ['20/20', '40/4x4'] : ['100/100', '1000/1000', '10000/10000', '10000/100', '10000/10000x40'])).map(parseScaleCase);
    results.scale = [];
    for (const c of cases) {
      log(`scale: ${c.paths} paths over ${c.sources} sources, ${c.volumesPerPod} per pod`);
      results.scale.push(await runScale(c, { intervalMs: SMOKE ? 500 : 2000, cycles: SMOKE ? 2 : 10, scrapes: SMOKE ? 5 : 50, threads: THREADS }));
    }
    table('Scale (interval 2 s; CPU and RSS are the daemon plus its probe helpers)', results.scale.map((r) => ({
      paths: r.paths,
      sources: r.sources,
      pods: Math.ceil(r.paths / r.volumesPerPod),
      'first cycle s': r.readyMs / 1000,
      'cycle ms': r.cycleWallMs,
      'CPU ms/cycle': r.cpuMsPerCycle,
      'daemon CPU ms/cycle': r.daemonCpuMsPerCycle,
      'bare loop CPU ms': r.bareCpuMsPerRound,
      'CPU ratio': r.cpuRatio,
      'RSS MiB': r.rssMiB,
      'daemon RSS MiB': r.daemonRssMiB,
      '/metrics p50 ms': r.metricsP50Ms,
      '/metrics p99 ms': r.metricsP99Ms,
      '/metrics KiB': r.metricsBytes / 1024,
      'gzip p50 ms': r.metricsGzipP50Ms,
      'gzip p99 ms': r.metricsGzipP99Ms,
      'gzip KiB': r.metricsGzipBytes / 1024,
    })));
  }

  if (ONLY.has('hung')) {
    const counts = SMOKE ? [0, 3] : [0, 10, 200];
    results.hung = [];
    for (const h of counts) {
      log(`hung: ${h} hung sources among ${SMOKE ? 20 : 1000} healthy`);
      results.hung.push(await runHung(SMOKE ? 20 : 1000, h, { intervalMs: 1000, timeoutMs: 1000, cycles: SMOKE ? 3 : 30 }));
    }
    table('Hung mounts (interval 1 s, timeout 1 s)', results.hung.map((r) => ({
      healthy: r.healthy,
      hung: r.hung,
      cycles: r.cycles,
      '/metrics p50 ms': r.metricsP50Ms,
      '/metrics p99 ms': r.metricsP99Ms,
      'max healthy probe age s': r.maxHealthyAgeS,
      'healthy ok': r.healthyReportedHealthy,
      'hung as timeout': r.hungReportedTimeout,
      'blocked threads max': r.blockedThreadsMax,
      'blocked held': r.blockedThreadsHeld,
      'threads start→end': `${r.threadsStart}→${r.threadsEnd}`,
      'processes max': r.processesMax,
      'RSS MiB start→end': `${round(r.rssStartMiB, 1)}→${round(r.rssEndMiB, 1)}`,
    })));
  }

  if (ONLY.has('latency')) {
    log('detection latency');
    results.latency = await runLatency({ intervalMs: 2000, timeoutMs: 1000, repeats: SMOKE ? 1 : 7 });
    table('Detection latency (interval 2 s, timeout 1 s)', results.latency.map((r) => ({
      event: r.event,
      'shows as': r.expect,
      runs: r.samplesMs.length,
      'median ms': r.medianMs,
      'max ms': r.maxMs,
    })));
  }

  if (ONLY.has('node-exporter')) {
    if (!nodeExporterVersion()) {
      log('node-exporter: skipped, prometheus-node-exporter is not installed (apt-get install prometheus-node-exporter)');
    } else {
      log('side by side with node_exporter');
      results.nodeExporter = await runSideBySide(SMOKE ? { healthy: 20, hung: 2, dead: 2, timeoutS: 1, scrapes: 3 } : { healthy: 1000, hung: 10, dead: 10, timeoutS: 2, scrapes: 30 });
      table('Side by side with node_exporter (same mounts, same timeout)', results.nodeExporter.map((r) => ({
        tool: r.tool,
        'scrape p50 ms': r.scrapeP50Ms,
        'scrape p99 ms': r.scrapeP99Ms,
        'scrapes timed out': r.scrapeTimeouts,
        'broken reported': `${r.brokenReported}/${r.brokenTotal}`,
        'healthy reported': `${r.healthyReported}/${r.healthyTotal}`,
        'CPU ms/s': r.cpuMsPerSecond,
        'RSS MiB': r.rssMiB,
        threads: r.threads,
        'blocked threads': r.blockedThreads,
      })));
    }
  }

  if (ONLY.has('http')) {
    const o = SMOKE ? { paths: 10, starts: 1, settleMs: 1000, scrapes: 5, concurrent: 200 } : { paths: 30, starts: 3, settleMs: 30_000, scrapes: 50, concurrent: 1000 };
    log(`http: ${o.paths} paths, ${o.starts} daemon start(s), ${o.concurrent} concurrent scrapes`);
    const r = (results.http = await runHttp(o));
    table(`HTTP: the daemon alone, idle ${o.settleMs / 1000} s with ${r.paths} healthy paths (median of ${r.starts} starts; /metrics from ${o.scrapes} sequential scrapes)`, [{
      'anon MiB': r.anonMiB,
      'PSS MiB': r.pssMiB,
      'live heap MB': r.liveHeapMB,
      '/metrics p50 ms': r.metricsP50Ms,
      '/metrics p99 ms': r.metricsP99Ms,
      'gzip p50 ms': r.metricsGzipP50Ms,
      'gzip p99 ms': r.metricsGzipP99Ms,
      'anon after bursts MiB': r.anonAfterBurstsMiB,
    }]);
    table(`HTTP capacity: ${o.concurrent} scrapes at once, each on its own connection (median of ${r.starts} starts; failures summed)`, r.bursts.map((b) => ({
      encoding: b.encoding,
      'scrapes/s': b.scrapesPerSecond,
      'all answered ms': b.wallMs,
      'p50 ms': b.p50Ms,
      'p99 ms': b.p99Ms,
      'max ms': b.maxMs,
      failures: b.failures,
    })));
  }

  // Figures vary by machine, but what the prober reports must not: a run that
  // misreports a path fails, so the smoke run in CI keeps the scenarios honest.
  const wrong: string[] = [];
  for (const r of results.hung ?? []) {
    if (r.hungReportedTimeout !== r.hung) wrong.push(`hung: ${r.hungReportedTimeout}/${r.hung} hung sources reported timeout`);
    if (r.healthyReportedHealthy !== r.healthy) wrong.push(`hung: ${r.healthyReportedHealthy}/${r.healthy} healthy paths reported healthy`);
    if (r.blockedThreadsHeld > r.hung) wrong.push(`hung: ${r.blockedThreadsHeld} threads held for ${r.hung} hung sources`);
  }
  const prober = results.nodeExporter?.find((r) => r.tool === 'juicefs-path-prober');
  if (prober && (prober.brokenReported !== prober.brokenTotal || prober.healthyReported !== prober.healthyTotal)) {
    wrong.push(`side by side: prober reported ${prober.brokenReported}/${prober.brokenTotal} broken, ${prober.healthyReported}/${prober.healthyTotal} healthy`);
  }
  for (const w of wrong) log(`WRONG: ${w}`);
  if (wrong.length > 0) process.exitCode = 1;

  if (OUT) {
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
    log(`figures written to ${OUT}`);
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());

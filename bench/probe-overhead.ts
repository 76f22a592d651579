// What the probe isolation costs: the same healthy mounts stat'ed through the
// helper process (the daemon's design) and directly in-process (what the daemon
// must not do: a hung mount would take the daemon's own pool threads), plus
// what a hung mount holds. Root and /dev/fuse; runs in a private mount namespace.
//
//   node dist/bench/probe-overhead.js [--paths=2000] [--rounds=5]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/log/logger.js';
import { createHelperPool } from '../src/probe/helper-pool.js';
import { createProbeRunner } from '../src/probe/probe-runner.js';
import { mapLimit } from '../src/shared/map-limit.js';
import { bindMount, cleanupAll, mountPrivileges, reexecInPrivateMountNamespace, startFuse } from '../test/fixtures/mounts.js';

const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const PATHS = arg('paths', 2000);
const ROUNDS = arg('rounds', 5);
const CONCURRENCY = 16;

reexecInPrivateMountNamespace(fileURLToPath(import.meta.url), process.argv.slice(2));
if (!mountPrivileges().ok) {
  process.stderr.write(`bench needs ${mountPrivileges().reason}\n`);
  process.exit(2);
}

function cpuMs(pid: number | 'self'): number {
  if (pid === 'self') {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in 100 Hz clock ticks
}
function rssMiB(pid: number | 'self'): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}
function threads(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/task`).length;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-bench-'));
  const fuse = await startFuse(path.join(base, 'jfs'));
  const paths: string[] = [];
  for (let i = 0; i < PATHS; i++) {
    const p = path.join(base, 'pods', String(i), 'mount');
    bindMount(path.join(fuse.mnt, `pv-${i}`), p);
    paths.push(p);
  }
  const logger = createLogger({ write: () => {} });
  const pool = createHelperPool({ logger });
  const runner = createProbeRunner({ pool, timeoutMs: 5000 });
  await runner.probe('warm', paths[0]!);
  const helperPid = pool.stats().pids[0]!;

  const helperRounds: { wall: number; cpu: number; daemonCpu: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const s0 = cpuMs('self');
    const c0 = s0 + cpuMs(helperPid);
    const t0 = performance.now();
    await Promise.all(paths.map((p) => runner.probe(`${r}:${p}`, p)));
    const s1 = cpuMs('self');
    helperRounds.push({ wall: performance.now() - t0, cpu: s1 + cpuMs(helperPid) - c0, daemonCpu: s1 - s0 });
  }

  const directRounds: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = cpuMs('self');
    const t0 = performance.now();
    await mapLimit(paths, CONCURRENCY, (p) => fs.promises.lstat(p, { bigint: true }));
    directRounds.push({ wall: performance.now() - t0, cpu: cpuMs('self') - c0 });
  }

  const helperRss = rssMiB(helperPid);
  const idleThreads = threads(helperPid);

  // A hung mount: what does it hold after many probe rounds?
  const hung = await startFuse(path.join(base, 'hung'), { mode: 'hungread' });
  const hungRunner = createProbeRunner({ pool, timeoutMs: 200 });
  for (let i = 0; i < 10; i++) await hungRunner.probe('hung', hung.mnt);
  const held = (await hung.stats()).held;
  const stats = pool.stats();

  const us = (ms: number) => ((ms * 1000) / PATHS).toFixed(1);
  const h = { wall: median(helperRounds.map((x) => x.wall)), cpu: median(helperRounds.map((x) => x.cpu)), daemonCpu: median(helperRounds.map((x) => x.daemonCpu)) };
  const d = { wall: median(directRounds.map((x) => x.wall)), cpu: median(directRounds.map((x) => x.cpu)) };
  const out = {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(), node: process.version },
    paths: PATHS,
    rounds: ROUNDS,
    helper: { wallUsPerProbe: Number(us(h.wall)), cpuUsPerProbe: Number(us(h.cpu)), daemonCpuUsPerProbe: Number(us(h.daemonCpu)), rssMiB: Math.round(helperRss), threads: idleThreads },
    inProcess: { wallUsPerProbe: Number(us(d.wall)), cpuUsPerProbe: Number(us(d.cpu)) },
    ratio: { wall: Number((h.wall / d.wall).toFixed(2)), cpu: Number((h.cpu / d.cpu).toFixed(2)) },
    hungMount: { probeRounds: 10, requestsHeldByClient: held, stuckCallsInHelper: stats.stuck, helperProcesses: stats.helpers },
  };
  console.log(`machine: ${out.machine.cpus} cores (${out.machine.model}), ${out.machine.memGiB} GiB, Linux ${out.machine.kernel}, Node ${out.machine.node}`);
  console.log(`${PATHS} healthy FUSE bind mounts, median of ${ROUNDS} rounds`);
  console.log(`  through the helper process : ${out.helper.wallUsPerProbe} µs wall, ${out.helper.cpuUsPerProbe} µs CPU per probe (daemon ${out.helper.daemonCpuUsPerProbe} + helper)`);
  console.log(`  in-process fs.lstat (x${CONCURRENCY}) : ${out.inProcess.wallUsPerProbe} µs wall, ${out.inProcess.cpuUsPerProbe} µs CPU per probe`);
  console.log(`  ratio helper/in-process    : ${out.ratio.wall}x wall, ${out.ratio.cpu}x CPU`);
  console.log(`  helper process             : ${out.helper.rssMiB} MiB RSS, ${out.helper.threads} threads`);
  console.log(`one hungread mount probed 10 times: ${held} request(s) held by the client, ${stats.stuck} stuck call(s), ${stats.helpers} helper process(es)`);
  console.log(JSON.stringify(out));
  pool.close();
  await hung.kill();
  cleanupAll();
  fs.rmSync(base, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  cleanupAll();
  process.exit(1);
});

// Side by side with node_exporter's filesystem collector, the peer an operator
// would otherwise use: the same healthy, hung and dead mounts, the same timeout.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createFleet } from '../lib/fleet.js';
import { startProber, sleep } from '../lib/prober.js';
import { sampleTree } from '../lib/proc-stats.js';
import { parseSamples, scrape } from '../lib/scrape.js';
import { median, quantile } from '../lib/stats.js';

export const NODE_EXPORTER = process.env.JFS_BENCH_NODE_EXPORTER ?? 'prometheus-node-exporter';

export function nodeExporterVersion(): string | undefined {
  const r = spawnSync(NODE_EXPORTER, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return /version (\S+)/.exec(r.stdout + r.stderr)?.[1] ?? 'unknown';
}

/** RE2 has no negative lookahead: "does not start with `prefix`", spelled out a character at a time. */
export function notUnderRegex(prefix: string): string {
  const esc = (c: string) => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  const alts: string[] = [];
  for (let i = 0; i < prefix.length; i++) alts.push(`${[...prefix.slice(0, i)].map(esc).join('')}(?:$|[^${esc(prefix[i]!)}])`);
  return `^(?:${alts.join('|')})`;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface NodeExporter {
  readonly child: ChildProcess;
  readonly url: string;
}

/** node_exporter with only its filesystem collector, limited to the mounts under `podsDir`; resolves once it answers. */
export async function startNodeExporter(workDir: string, podsDir: string, timeoutS: number): Promise<NodeExporter> {
  // node_exporter reads <procfs>/1/mounts, the host's init here; give it a procfs
  // without `1`, so it falls back to <procfs>/mounts: its own, this namespace's.
  const procfs = path.join(workDir, 'procfs');
  fs.mkdirSync(procfs, { recursive: true });
  if (!fs.existsSync(path.join(procfs, 'mounts'))) fs.symlinkSync('/proc/self/mounts', path.join(procfs, 'mounts'));
  const port = await freePort();
  const child = spawn(
    NODE_EXPORTER,
    [
      `--web.listen-address=127.0.0.1:${port}`,
      '--collector.disable-defaults',
      '--collector.filesystem',
      `--collector.filesystem.mount-points-exclude=${notUnderRegex(podsDir + '/')}`,
      '--collector.filesystem.fs-types-exclude=^$',
      `--collector.filesystem.mount-timeout=${timeoutS}s`,
      `--path.procfs=${procfs}`,
      '--log.level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}/metrics`;
  for (let i = 0; i < 200; i++) {
    if (await fetch(url + '-ready').then((r) => r.status > 0, () => false)) return { child, url };
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`node_exporter did not start: ${stderr}`);
}

export interface SideBySide {
  readonly tool: string;
  readonly scrapeP50Ms: number;
  readonly scrapeP99Ms: number;
  /** Scrapes that got no answer within the scrape timeout. */
  readonly scrapeTimeouts: number;
  /** Broken paths the last scrape reported as broken (health 0, or node_filesystem_device_error 1). */
  readonly brokenReported: number;
  readonly brokenTotal: number;
  readonly healthyReported: number;
  readonly healthyTotal: number;
  /** CPU over the window ÷ its length: the prober works between scrapes, node_exporter only during them. */
  readonly cpuMsPerSecond: number;
  readonly rssMiB: number;
  readonly threads: number;
  readonly blockedThreads: number;
}

export async function runSideBySide(o: { healthy: number; hung: number; dead: number; timeoutS: number; scrapes: number }): Promise<SideBySide[]> {
  const fleet = await createFleet('bench-nodeexp', [{ name: 'ok' }, { name: 'hung' }, { name: 'dead' }]);
  let exporter: ChildProcess | undefined;
  try {
    const healthy = fleet.add('ok', o.healthy);
    const hung = fleet.add('hung', o.hung);
    const dead = fleet.add('dead', o.dead);
    await fleet.groups[1]!.server.setMode('hungread');
    await fleet.groups[2]!.server.kill();

    const ne = await startNodeExporter(fleet.tree.root, fleet.tree.podsDir, o.timeoutS);
    exporter = ne.child;
    const prober = await startProber(fleet.tree.kubeletDir, ['--interval', `${o.timeoutS}s`, '--timeout', `${o.timeoutS}s`, '--publish-grace', '0s']);
    try {
      const targets = [
        { tool: 'juicefs-path-prober', pid: prober.pid, url: `${prober.daemon.url}/metrics` },
        { tool: `node_exporter ${nodeExporterVersion()}`, pid: exporter.pid!, url: ne.url },
      ];
      // The prober has met every hung mount before the window; node_exporter meets them on its first scrape.
      await sleep(2 * o.timeoutS * 1000 + 500);
      const out: SideBySide[] = [];
      const brokenSet = new Set([...hung, ...dead].map((p) => p.mountPath));
      const healthySet = new Set(healthy.map((p) => p.mountPath));
      for (const t of targets) {
        const lat: number[] = [];
        const cpu0 = sampleTree(t.pid).cpuMs;
        const w0 = performance.now();
        let last = '';
        let timeouts = 0;
        // Scrapes are sequential, each followed by a 1 s gap, as a Prometheus would scrape.
        for (let i = 0; i < o.scrapes; i++) {
          const r = await scrape(t.url);
          lat.push(r.ms);
          if (r.status === 0) timeouts++;
          else last = r.text;
          await sleep(1000);
        }
        const end = sampleTree(t.pid);
        const windowS = (performance.now() - w0) / 1000;
        let broken = 0;
        let ok = 0;
        const samples = parseSamples(last);
        if (t.pid === prober.pid) {
          for (const s of samples) {
            if (s.name !== 'juicefs_volume_path_health') continue;
            if (brokenSet.has(s.labels.volume_path!) && s.value === 0) broken++;
            if (healthySet.has(s.labels.volume_path!) && s.value === 1) ok++;
          }
        } else {
          const err = new Map<string, number>();
          for (const s of samples) if (s.name === 'node_filesystem_device_error') err.set(s.labels.mountpoint!, s.value);
          for (const p of brokenSet) if (err.get(p) === 1) broken++;
          for (const p of healthySet) if (err.get(p) === 0) ok++;
        }
        out.push({
          tool: t.tool,
          scrapeP50Ms: median(lat),
          scrapeP99Ms: quantile(lat, 0.99),
          scrapeTimeouts: timeouts,
          brokenReported: broken,
          brokenTotal: brokenSet.size,
          healthyReported: ok,
          healthyTotal: healthySet.size,
          cpuMsPerSecond: (end.cpuMs - cpu0) / windowS,
          rssMiB: end.rssMiB,
          threads: end.threads,
          blockedThreads: end.blockedThreads,
        });
      }
      return out;
    } finally {
      await prober.stop();
    }
  } finally {
    exporter?.kill('SIGKILL');
    fleet.close();
  }
}

// A real Prometheus server on loopback for end-to-end tests: its own config,
// rule file and temp storage, a free port, short scrape and evaluation intervals.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

export interface PrometheusServer {
  readonly url: string;
  readonly dir: string;
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  alerts(): Promise<{ labels: Record<string, string>; annotations: Record<string, string>; state: string; value: string }[]>;
  /** Polls until `probe` returns a value (not undefined); fails with the last seen after `timeoutMs`. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number, last?: () => unknown): Promise<T>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A scrape job: its targets, each group with the labels service discovery would give it. */
export interface ScrapeJob {
  readonly job: string;
  readonly targets?: string[];
  readonly groups?: { targets: string[]; labels?: Record<string, string> }[];
  /** Prometheus Operator's honorLabels: exported labels win over target labels instead of becoming exported_*. */
  readonly honorLabels?: boolean;
}

export async function startPrometheus(opts: { jobs: ScrapeJob[]; ruleFile: string; intervalSeconds?: number }): Promise<PrometheusServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-prometheus-'));
  const every = `${opts.intervalSeconds ?? 1}s`;
  fs.copyFileSync(opts.ruleFile, path.join(dir, 'rules.yaml'));
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: every, scrape_timeout: every, evaluation_interval: every },
      rule_files: ['rules.yaml'],
      scrape_configs: opts.jobs.map((j) => ({
        job_name: j.job,
        honor_labels: j.honorLabels ?? false,
        static_configs: [...(j.targets ? [{ targets: j.targets }] : []), ...(j.groups ?? [])],
      })),
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log: string[] = [];
  const child = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => {
    dead = true;
    running.delete(child);
  });
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => log.push(d.toString()));

  const api = async <T>(p: string): Promise<T> => {
    const res = await fetch(url + p);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${p}: ${body.error}`);
    return body.data;
  };
  const server: PrometheusServer = {
    url,
    dir,
    async query(expr) {
      return (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result;
    },
    async alerts() {
      return (await api<{ alerts: { labels: Record<string, string>; annotations: Record<string, string>; state: string; value: string }[] }>('/api/v1/alerts')).alerts;
    },
    async waitFor(what, probe, timeoutMs = 90_000, last) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (dead) throw new Error(`prometheus exited while waiting for ${what}: ${log.join('')}`);
        try {
          const v = await probe();
          if (v !== undefined) return v;
        } catch {
          // not up yet, or a query before the first scrape
        }
        await sleep(250);
      }
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last?.())}; prometheus log: ${log.join('').slice(-2000)}`);
    },
    async stop() {
      if (!dead) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.waitFor('prometheus to be ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 60_000);
  return server;
}

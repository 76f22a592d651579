// Soak: the daemon, as a real process, against hundreds of real FUSE-backed
// paths whose clients flap between healthy, hung, erroring and dead, while pods
// come and go; /metrics is scraped every second and checked against the ground
// truth this script keeps. Reports RSS and open fds over time, stale series
// (a removed path still exported) and wrong states (a settled path exported
// with another state than its client's, or missing).
//
//   npm run soak -- --duration 1h --paths 500     (root; runs in a private mount namespace)
//
// Exits 1 if any stale series or wrong state was seen, or the daemon died.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration, formatDuration } from '../src/cli/duration.js';
import { startDaemon } from '../test/fixtures/daemon.js';
import { IMAGE } from '../bench/lib/prober.js';
import { createKubeletTree, newPodUid } from '../test/fixtures/kubelet-tree.js';
import { parseMetrics, pathStatesOf } from '../test/fixtures/metrics-text.js';
import { bindMount, cleanupAll, forceUnmount, mountPrivileges, startFuse, type FuseHandle, type FuseMode } from '../test/fixtures/mounts.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.SOAK_DURATION ?? '1h' },
    paths: { type: 'string', default: process.env.SOAK_PATHS ?? '500' },
    clients: { type: 'string', default: '25' },
    'event-every': { type: 'string', default: '2s' },
    'report-every': { type: 'string', default: '' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
  },
});
const durationMs = parseDuration(values.duration!);
const PATHS = Number(values.paths);
const CLIENTS = Number(values.clients);
const eventMs = parseDuration(values['event-every']!);
if (!durationMs || !eventMs || !(PATHS > 0) || !(CLIENTS > 0)) {
  process.stderr.write('usage: soak [--duration 1h] [--paths 500] [--clients 25] [--event-every 2s] [--seed n]\n');
  process.exit(2);
}
const reportMs = parseDuration(values['report-every'] || '') ?? Math.max(10_000, Math.round(durationMs / 12));
const priv = mountPrivileges();
if (!priv.ok) {
  process.stderr.write(`soak: ${priv.reason}\n`);
  process.exit(2);
}

// A small seeded PRNG, so a run can be replayed with --seed.
let seed = Number(values.seed) >>> 0 || 1;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const INTERVAL = '2s';
const TIMEOUT = '1s';
/** After a change, how long the daemon may take to show it: interval + timeout + unmount hold + slack. */
const SETTLE_MS = 12_000;

type ClientMode = FuseMode | 'dead';
const EXPECTED: Record<ClientMode, string> = {
  healthy: 'healthy',
  hung: 'timeout',
  hungread: 'timeout',
  eio: 'io_error',
  estale: 'stale',
  eacces: 'permission_denied',
  dead: 'disconnected',
};
const MODES: [ClientMode, number][] = [
  ['healthy', 8],
  ['hung', 2],
  ['hungread', 2],
  ['eio', 2],
  ['estale', 1],
  ['eacces', 1],
  ['dead', 2],
];
const pickMode = (): ClientMode => {
  let r = rand() * MODES.reduce((a, [, w]) => a + w, 0);
  for (const [m, w] of MODES) if ((r -= w) < 0) return m;
  return 'healthy';
};

interface Client {
  readonly index: number;
  readonly mnt: string;
  fuse: FuseHandle;
  mode: ClientMode;
}
interface PathTruth {
  readonly path: string;
  readonly podUid: string;
  readonly client: Client;
  readonly pv: string;
  changedAt: number;
}

let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
let tree: ReturnType<typeof createKubeletTree> | undefined;

async function main(): Promise<void> {
  const t0 = Date.now();
  tree = createKubeletTree('soak');
  const k = tree;
  const ttlMs = durationMs! + 15 * 60_000;
  const clients: Client[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const mnt = path.join(k.root, 'jfs', `c${i}`);
    clients.push({ index: i, mnt, fuse: await startFuse(mnt, { ttlMs }), mode: 'healthy' });
  }
  const live = new Map<string, PathTruth>();
  const removed = new Map<string, number>(); // path → when it was removed
  let pvSeq = 0;
  const addPod = () => {
    // A bind needs a lookup in the client: only a healthy one answers it (a hung one would block mount(8)).
    const client = pick(clients.filter((c) => c.mode === 'healthy'));
    if (!client) return;
    const uid = newPodUid();
    const pv = `pv-${pvSeq++}`;
    const v = k.publish(uid, pv, { mountFrom: path.join(client.mnt, pv) }); // the test client answers every lookup with a directory
    live.set(v.mountPath, { path: v.mountPath, podUid: uid, client, pv, changedAt: Date.now() });
  };
  const removePod = () => {
    const victim = pick([...live.values()]);
    if (!victim) return;
    // kubelet's order: unmount, then delete.
    k.removePod(victim.podUid);
    live.delete(victim.path);
    removed.set(victim.path, Date.now());
  };
  for (let i = 0; i < PATHS; i++) addPod();
  process.stdout.write(`soak: ${PATHS} paths on ${CLIENTS} FUSE clients, ${formatDuration(durationMs!)}, seed ${values.seed}\n`);

  // With the image's NODE_OPTIONS and node flags: the heap limits there decide how far RSS grows.
  daemon = await startDaemon(
    ['--kubelet-dir', k.kubeletDir, '--interval', INTERVAL, '--timeout', TIMEOUT, '--resync', '30s', '--publish-grace', '5s'],
    { ...IMAGE.env },
    { nodeArgs: IMAGE.nodeArgs },
  );
  const pid = daemon.child.pid!;
  await daemon.waitFor((s) => s.ready && s.paths.length === PATHS, 60_000, 'all paths');

  const setMode = async (c: Client, mode: ClientMode) => {
    if (mode === c.mode) return;
    if (c.mode === 'dead') {
      // Remount: a new client, every bind of the old one redone (the mount pod restarted and the CSI node re-bound).
      const paths = [...live.values()].filter((p) => p.client === c);
      for (const p of paths) forceUnmount(p.path);
      c.fuse.cleanup();
      c.fuse = await startFuse(c.mnt, { ttlMs });
      for (const p of paths) bindMount(path.join(c.mnt, p.pv), p.path);
      c.mode = 'healthy';
    }
    if (mode === 'dead') await c.fuse.kill();
    else if (mode !== 'healthy' || c.mode !== 'healthy') await c.fuse.setMode(mode);
    c.mode = mode;
    const now = Date.now();
    for (const p of live.values()) if (p.client === c) p.changedAt = now;
  };

  const mem = () => {
    const rss = (p: number) => {
      try {
        return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      } catch {
        return 0;
      }
    };
    const fds = (p: number) => {
      try {
        return fs.readdirSync(`/proc/${p}/fd`).length;
      } catch {
        return 0;
      }
    };
    return { rss: rss(pid), fds: fds(pid) };
  };

  interface Sample {
    at: number;
    rss: number;
    fds: number;
    helpers: number;
    helperRss: number;
    paths: number;
    scrapeMs: number;
  }
  const samples: Sample[] = [];
  let wrong = 0;
  let stale = 0;
  let checked = 0;
  let scrapes = 0;
  let maxScrapeMs = 0;
  const wrongExamples: string[] = [];
  let events = 0;
  let nextEvent = Date.now() + eventMs!;
  let nextReport = Date.now();
  const header = 'elapsed   rss_MiB  fds  helpers  helper_rss_MiB  paths  scrape_ms  checked  wrong  stale';
  process.stdout.write(header + '\n');

  const end = t0 + durationMs!;
  while (Date.now() < end) {
    const tick = Date.now();
    if (daemon.child.exitCode !== null) throw new Error(`the daemon died: ${daemon.child.exitCode}`);
    // Faults and churn.
    while (Date.now() >= nextEvent) {
      nextEvent += eventMs!;
      events++;
      const r = rand();
      if (r < 0.5) await setMode(pick(clients), pickMode());
      else if (r < 0.75) removePod();
      else addPod();
    }
    // Scrape and compare.
    const s0 = performance.now();
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    const scrapeMs = performance.now() - s0;
    scrapes++;
    maxScrapeMs = Math.max(maxScrapeMs, scrapeMs);
    const all = parseMetrics(text);
    // Healthy is a health of 1 with no state series; a path with neither is exported as nothing.
    const exported = pathStatesOf(all);
    // Stale is any series left for a removed path, whatever it says.
    const named = new Set(all.flatMap((s) => s.labels.volume_path ?? []));
    const now = Date.now();
    for (const p of live.values()) {
      if (now - p.changedAt < SETTLE_MS) continue;
      checked++;
      const want = EXPECTED[p.client.mode];
      const got = exported.get(p.path);
      if (got !== want) {
        wrong++;
        if (wrongExamples.length < 10) wrongExamples.push(`${Math.round((now - t0) / 1000)}s ${p.path}: exported ${got ?? 'nothing'}, client ${p.client.mode} (want ${want})`);
      }
    }
    for (const [p, at] of removed) {
      if (now - at < SETTLE_MS) continue;
      if (named.has(p)) {
        stale++;
        if (wrongExamples.length < 10) wrongExamples.push(`${Math.round((now - t0) / 1000)}s stale series for removed ${p}`);
      }
      if (now - at > 10 * SETTLE_MS) removed.delete(p);
    }
    if (now >= nextReport || now + 1000 >= end) {
      nextReport += reportMs;
      const status = (await (await fetch(`${daemon.url}/status`)).json()) as { probe: { helpers: { pids: number[] } } };
      let helperRss = 0;
      for (const h of status.probe.helpers.pids) {
        try {
          helperRss += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${h}/status`, 'utf8'))?.[1] ?? 0) * 1024;
        } catch {
          // gone
        }
      }
      const m = mem();
      const sample = { at: now - t0, rss: m.rss, fds: m.fds, helpers: status.probe.helpers.pids.length, helperRss, paths: live.size, scrapeMs };
      samples.push(sample);
      process.stdout.write(
        [
          formatDuration(Math.round(sample.at / 1000) * 1000).padEnd(9),
          (sample.rss / 2 ** 20).toFixed(1).padStart(7),
          String(sample.fds).padStart(4),
          String(sample.helpers).padStart(8),
          (sample.helperRss / 2 ** 20).toFixed(1).padStart(15),
          String(sample.paths).padStart(6),
          sample.scrapeMs.toFixed(1).padStart(10),
          String(checked).padStart(8),
          String(wrong).padStart(6),
          String(stale).padStart(6),
        ].join(' ') + '\n',
      );
    }
    await sleep(Math.max(0, 1000 - (Date.now() - tick)));
  }

  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const maxRss = Math.max(...samples.map((s) => s.rss));
  const maxFds = Math.max(...samples.map((s) => s.fds));
  // Growth is judged from 5 minutes in: start-up and warm-up are not growth.
  const settled = samples.find((s) => s.at >= 5 * 60_000);
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const at = (ms: number) => formatDuration(Math.round(ms / 1000) * 1000);
  const summary = [
    `soak done: ${at(Date.now() - t0)}, ${scrapes} scrapes (slowest ${maxScrapeMs.toFixed(1)} ms), ${events} fault/churn events, ${checked} settled path checks`,
    `daemon RSS start ${mib(first.rss)}, end ${mib(last.rss)}, max ${mib(maxRss)}` +
      (settled ? `; at ${at(settled.at)} ${mib(settled.rss)}, growth since then ${(((last.rss - settled.rss) / settled.rss) * 100).toFixed(1)} %` : ' (growth is judged from 5 minutes in: this run is shorter)'),
    `helper RSS start ${mib(first.helperRss)}, end ${mib(last.helperRss)}${settled ? `, at ${at(settled.at)} ${mib(settled.helperRss)}` : ''}`,
    `daemon fds start ${first.fds}, end ${last.fds}, max ${maxFds}`,
    `stale series ${stale}, wrong states ${wrong}`,
    ...wrongExamples.map((w) => `  ${w}`),
  ];
  process.stdout.write(summary.join('\n') + '\n');
  const stopped = await daemon.stop('SIGTERM');
  process.stdout.write(`daemon stopped by SIGTERM in ${stopped.ms} ms (code ${stopped.code})\n`);
  cleanupAll();
  k.remove();
  if (stale > 0 || wrong > 0 || stopped.code !== 0) process.exitCode = 1;
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    daemon?.child.kill('SIGKILL');
    cleanupAll();
    tree?.remove();
    process.exit(1);
  },
);

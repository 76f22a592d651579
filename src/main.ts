// Wiring: builds every part from the config, connects their events, and runs
// either the daemon (serve) or a single cycle (check). Only here is anything
// listened on, spawned or scheduled.

import type { AddressInfo } from 'node:net';
import { realpath } from 'node:fs/promises';
import type { Config } from './cli/args.js';
import { nodeDiscoveryFs, type DiscoveryFs } from './discovery/discovery-fs.js';
import { createInventory, type Inventory } from './discovery/inventory.js';
import { createKubeletLayout, type KubeletLayout } from './discovery/kubelet-layout.js';
import { createPathInspector, nodeInspectorFs } from './discovery/path-inspector.js';
import { watchPods, type PodWatcher } from './discovery/watcher.js';
import { createCycle, type RunCycle } from './health/cycle.js';
import { createScheduler, type Scheduler } from './health/scheduler.js';
import { createPathTracker, type PathTracker } from './health/tracker.js';
import { createApp } from './http/app.js';
import { createHttpServer, HTTP_LIMITS } from './http/server.js';
import type { Logger } from './log/logger.js';
import { createMetrics, type ProberMetrics } from './metrics/metrics.js';
import { createMountTableReader } from './mounts/mount-table.js';
import { createHelperPool, type HelperPool, type SpawnHelper } from './probe/helper-pool.js';
import { createProbeRunner, type ProbeRunner } from './probe/probe-runner.js';
import { createMountPodFold, type VerdictFold } from './health/mount-pod.js';
import { detectKubeSource } from './kube/detect.js';
import type { Kube } from './kube/kube.js';
import { pathKubeStatus } from './kube/status.js';
import { registerKubeMetrics } from './metrics/kube-metrics.js';
import { healthValue, systemClock, type Clock, type PathStatus } from './types.js';
import { readVersion } from './version.js';

export interface Deps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly fs?: DiscoveryFs;
  readonly spawnHelper?: SpawnHelper;
}

export interface Core {
  readonly config: Config;
  readonly version: string;
  readonly layout: KubeletLayout;
  readonly inventory: Inventory;
  readonly tracker: PathTracker;
  readonly pool: HelperPool;
  readonly runner: ProbeRunner;
  readonly runCycle: RunCycle;
  readonly metrics: ProberMetrics;
  close(): void;
}

async function resolveKubeletDir(dir: string): Promise<string> {
  // The mount table spells paths without symlinks (/var/lib/kubelet may link to /data/kubelet).
  try {
    return await realpath(dir);
  } catch {
    return dir;
  }
}

export interface CoreExtras {
  /** What else is known about a verdict (Kubernetes mode: the mount pod's state). */
  readonly fold?: VerdictFold;
}

export async function createCore(config: Config, deps: Deps, extras: CoreExtras = {}): Promise<Core> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const fs = deps.fs ?? nodeDiscoveryFs;
  const version = readVersion();
  const layout = createKubeletLayout(await resolveKubeletDir(config.kubeletDir));
  const tracker = createPathTracker({ logger, now: () => clock.now() });
  const pool = createHelperPool({ logger, threads: config.helperThreads, ...(deps.spawnHelper ? { spawnHelper: deps.spawnHelper } : {}) });
  const runner = createProbeRunner({ pool, timeoutMs: config.timeoutMs, clock });
  const metrics = createMetrics({
    tracker,
    nodeName: config.nodeName,
    version,
    probeTimeoutSeconds: config.timeoutMs / 1000,
    inFlight: () => runner.inFlight(),
    stuck: () => runner.stuck().length,
    pool: () => pool.stats(),
    pathTiming: config.pathTiming,
  });
  runner.onDuration((s, kind) => metrics.observeProbe(s, kind));
  const inventory = createInventory({
    layout,
    drivers: new Set(config.drivers),
    fs,
    logger,
    onProblem: (kind) => metrics.discoveryError(kind),
  });
  inventory.onChange(({ removed }) => {
    for (const v of removed) tracker.remove(v.path, 'volume unpublished or pod removed');
  });
  const readMountTableCached = createMountTableReader(config.mountinfo);
  const runCycle = createCycle({
    layout,
    fsTypes: new Set(config.fsTypes),
    readMountTable: async () => {
      const table = await readMountTableCached();
      metrics.mountTableSize(table.size);
      return table;
    },
    inventory,
    inspector: createPathInspector(nodeInspectorFs(fs)),
    runner,
    tracker,
    logger,
    clock,
    timeoutMs: config.timeoutMs,
    publishGraceMs: config.publishGraceMs,
    onMountTableError: () => metrics.discoveryError('mountinfo'),
    onInconclusive: (reason) => metrics.inconclusive(reason),
    ...(extras.fold ? { fold: extras.fold } : {}),
  });
  return {
    config,
    version,
    layout,
    inventory,
    tracker,
    pool,
    runner,
    runCycle,
    metrics,
    close() {
      inventory.close();
      pool.close();
    },
  };
}

export function statusReport(
  core: Core,
  extra: Record<string, unknown>,
  perPath: (s: PathStatus) => Record<string, unknown> = () => ({}),
): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  const stuckBySource = new Map(core.runner.stuck().map((s) => [s.key, s.since]));
  return {
    node: core.config.nodeName,
    version: core.version,
    ...extra,
    probe: {
      in_flight: core.runner.inFlight(),
      stuck: [...stuckBySource].map(([source, since]) => ({ source, since: iso(since) })),
      helpers: core.pool.stats(),
    },
    paths: core.tracker
      .list()
      .sort((a, b) => (a.volume.path < b.volume.path ? -1 : 1))
      .map((s) => ({
        path: s.volume.path,
        kind: s.volume.kind,
        pod_uid: s.volume.podUid,
        pv: s.volume.pv,
        volume_id: s.volume.volumeId,
        ...(s.volume.subpath ? { subpath: s.volume.subpath } : {}),
        state: s.state,
        health: healthValue(s.state) ?? null,
        detail: s.detail,
        since: iso(s.since),
        last_probe: iso(s.lastProbeAt),
        last_probe_ms: s.lastProbeMs === undefined ? null : Math.round(s.lastProbeMs * 1000) / 1000,
        source: s.source ?? null,
        ...perPath(s),
      })),
  };
}

export interface Daemon {
  readonly address: AddressInfo;
  readonly core: Core;
  stop(): Promise<void>;
}

export async function startDaemon(config: Config, deps: Deps): Promise<Daemon> {
  const { logger } = deps;
  // Kubernetes mode adds labels, mount pod states and events; the probing never waits on it.
  const kubeSource = detectKubeSource({ mode: config.kube, kubeconfig: config.kubeconfig });
  let kube: Kube | undefined;
  let kubeLoaded: Promise<void> | undefined;
  if (kubeSource.kind !== 'off') {
    // Loaded only when used: with the mode off, the client library costs neither memory nor start time.
    const [{ createKube }, { openKube }] = await Promise.all([import('./kube/kube.js'), import('./kube/open.js')]);
    // The configuration loads in the background: probing and /metrics do not wait for it.
    const client = openKube(kubeSource);
    kubeLoaded = client.loaded;
    kube = createKube({ client, source: kubeSource, nodeName: config.nodeName, logger });
  }
  const core = await createCore(config, deps, kube ? { fold: createMountPodFold(kube.mountPodOf) } : {});
  const startedAt = new Date().toISOString();
  let initialScanDone = false;
  const scheduler: Scheduler = createScheduler({ runCycle: core.runCycle, intervalMs: config.intervalMs, logger });
  scheduler.onCycle((r) => core.metrics.observeCycle(r.durationMs / 1000, r.ok));
  core.inventory.onChange(({ added }) => {
    if (added.length > 0) scheduler.trigger();
  });
  core.runner.onRelease(() => scheduler.trigger());
  let kubeKick: NodeJS.Timeout | undefined;
  if (kube) {
    registerKubeMetrics({ registry: core.metrics.registry, pathSeries: core.metrics.pathSeries, owner: kube.owner, stale: kube.isStale, counters: kube.counters });
    core.tracker.onTransition((t) => kube.transition(t));
    core.tracker.onRemove((v) => kube.pathRemoved(v));
    // A mount pod that stops running changes verdicts: look again soon, at most once a second.
    kube.onMountPodChange(() => {
      kubeKick ??= setTimeout(() => {
        kubeKick = undefined;
        scheduler.trigger();
      }, 1000).unref();
    });
  }

  const app = createApp({
    logger,
    version: core.version,
    isReady: () => initialScanDone && scheduler.isReady(),
    renderMetrics: (format) => core.metrics.render(format),
    status: () =>
      statusReport(
        core,
        { started_at: startedAt, ready: initialScanDone && scheduler.isReady(), kube: kube ? { mode: 'on', ...kube.status() } : { mode: 'off', why: kubeSource.kind === 'off' ? kubeSource.why : '' } },
        kube ? (s) => ({ kube: pathKubeStatus(s, kube.owner(s.volume)) }) : undefined,
      ),
  });
  const server = createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: config.listen.port, host: config.listen.host, backlog: HTTP_LIMITS.backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  logger.info('listening', { address: address.address, port: address.port, node: config.nodeName, version: core.version });

  // Pods change in bursts (many directories at once): one rescan per pod per burst.
  const dirty = new Map<string, NodeJS.Timeout>();
  const podChanged = (uid: string) => {
    if (dirty.has(uid)) return;
    dirty.set(
      uid,
      setTimeout(() => {
        dirty.delete(uid);
        void core.inventory.rescanPod(uid);
      }, 50),
    );
  };
  let watcher: PodWatcher | undefined;
  let watchLimited = false;
  let stopping = false;
  const dropWatcher = () => {
    const w = watcher;
    watcher = undefined;
    core.metrics.watching(false);
    if (w) void w.close();
  };
  const ensureWatcher = async () => {
    if (stopping) return;
    let present = true;
    try {
      await nodeDiscoveryFs.list(core.layout.podsDir);
    } catch {
      present = false;
    }
    if (!present) {
      // A watch on a deleted directory never fires again: start over once it is back.
      if (watcher) {
        logger.warn('the kubelet pods directory is gone; watching again once it is back', { dir: core.layout.podsDir });
        dropWatcher();
      }
      return;
    }
    if (watcher || watchLimited) return;
    watcher = watchPods({
      layout: core.layout,
      logger,
      onPodChange: podChanged,
      onError: () => core.metrics.discoveryError('watch'),
      onLimit: (err) => {
        // Each watch held now is one fewer for the node's other programs; give them all back.
        watchLimited = true;
        dropWatcher();
        logger.warn('inotify watches used up; the pods directory is no longer watched, new and removed pods are found by the periodic scan', {
          dir: core.layout.podsDir,
          resync: `${config.resyncMs}ms`,
          error: err instanceof Error ? err : String(err),
        });
      },
    });
    core.metrics.watching(true);
    logger.info('watching pods directory', { dir: core.layout.podsDir });
  };

  if (kube) {
    kube.start();
    logger.info('kubernetes mode on', { source: kubeSource.kind === 'kubeconfig' ? kubeSource.path : kubeSource.kind, node: config.nodeName });
  } else {
    logger.info('kubernetes mode off', { why: kubeSource.kind === 'off' ? kubeSource.why : '' });
  }
  await core.inventory.resync();
  initialScanDone = true;
  await ensureWatcher();
  scheduler.start();
  const resync = setInterval(() => {
    void core.inventory.resync().then(ensureWatcher);
  }, config.resyncMs);

  const daemon: Daemon = {
    address,
    core,
    async stop() {
      stopping = true;
      scheduler.stop();
      clearInterval(resync);
      if (kubeKick) clearTimeout(kubeKick);
      kube?.stop();
      for (const t of dirty.values()) clearTimeout(t);
      server.close();
      server.closeAllConnections();
      // Blocked probes live in the helpers, so nothing here waits on a mount.
      core.close();
      const w = watcher;
      watcher = undefined;
      if (w) await Promise.race([w.close(), new Promise((r) => setTimeout(r, 500).unref())]);
    },
  };
  if (kubeLoaded) {
    try {
      await kubeLoaded;
    } catch (err) {
      // An unusable configuration is a usage error, as if found before the start.
      await daemon.stop();
      throw err;
    }
  }
  return daemon;
}

export interface CheckRow {
  readonly pod: string;
  readonly pv: string;
  readonly path: string;
  readonly state: string;
  readonly detail: string;
  readonly latency: string;
}

/** One cycle, for `kubectl exec … check`: the rows, and whether no path is unhealthy. */
export async function runCheckOnce(config: Config, deps: Deps): Promise<{ rows: CheckRow[]; healthy: boolean; mountTableOk: boolean; podsDirOk: boolean }> {
  const core = await createCore(config, deps);
  try {
    const podsDirOk = await core.inventory.resync();
    const report = await core.runCycle();
    const statuses = core.tracker.list().sort((a, b) => (a.volume.path < b.volume.path ? -1 : 1));
    const rows = statuses.map((s) => ({
      pod: s.volume.podUid,
      pv: s.volume.pv,
      path: s.volume.path,
      state: s.state,
      detail: s.detail,
      latency: s.lastProbeMs === undefined ? '-' : s.lastProbeMs < 1 ? `${Math.round(s.lastProbeMs * 1000)}µs` : `${s.lastProbeMs.toFixed(1)}ms`,
    }));
    // Pending paths (published, not mounted yet, within the grace) are not failures: they export no 0 either.
    return { rows, healthy: report.ok && statuses.every((s) => healthValue(s.state) !== 0), mountTableOk: report.ok, podsDirOk };
  } finally {
    core.close();
  }
}

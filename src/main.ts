// Wiring: builds every part from the config, connects their events, and runs
// either the daemon (serve) or a single cycle (check). Only here is anything
// listened on, spawned or scheduled.

import type { AddressInfo } from 'node:net';
import { realpath } from 'node:fs/promises';
import { errorMessage, ListenError } from './errors.js';
import type { Config } from './cli/args.js';
import { nodeDiscoveryFs, type DiscoveryFs } from './discovery/discovery-fs.js';
import { createInventory, describePodsDirError, type Inventory } from './discovery/inventory.js';
import { createKubeletLayout, type KubeletLayout } from './discovery/kubelet-layout.js';
import { createPathInspector, nodeInspectorFs } from './discovery/path-inspector.js';
import { watchPods, type PodWatcher } from './discovery/watcher.js';
import { createCycle, type RunCycle } from './health/cycle.js';
import { createScheduler, type Scheduler } from './health/scheduler.js';
import { createPathTracker, type PathTracker } from './health/tracker.js';
import { createApp } from './http/app.js';
import { createHttpServer, HTTP_LIMITS } from './http/server.js';
import { renderStatusPage } from './http/status-page.js';
import type { Logger } from './log/logger.js';
import { createMetrics, type ProberMetrics } from './metrics/metrics.js';
import { readMountTable } from './mounts/mount-table.js';
import { createHelperPool, type HelperPool, type SpawnHelper } from './probe/helper-pool.js';
import { createProbeRunner, type ProbeRunner } from './probe/probe-runner.js';
import { createMountPodFold, type VerdictFold } from './health/mount-pod.js';
import { createOrphanFold } from './health/orphan.js';
import { detectKubeSource, type KubeSource } from './kube/detect.js';
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
  /** The last error reading the mount table, if any. */
  mountTableError(): unknown;
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
  /** What the Kubernetes API says a pod volume is published as (subPaths). */
  readonly publishedAs?: (podUid: string, volumeName: string) => string | null | undefined;
  /** One cycle and exit (`check`): problems are reported by the caller, with no talk of retrying. */
  readonly oneShot?: boolean;
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
  let mountTableError: unknown;
  const runCycle = createCycle({
    layout,
    fsTypes: new Set(config.fsTypes),
    readMountTable: async () => {
      const table = await readMountTable(config.mountinfo);
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
    onMountTableError: (err) => {
      mountTableError = err;
      metrics.discoveryError('mountinfo');
    },
    ...(extras.oneShot ? { logMountTableErrors: false } : {}),
    onInconclusive: (reason) => metrics.inconclusive(reason),
    ...(extras.fold ? { fold: extras.fold } : {}),
    ...(extras.publishedAs ? { publishedAs: extras.publishedAs } : {}),
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
    mountTableError: () => mountTableError,
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

interface KubeMode {
  readonly kube?: Kube;
  readonly source: KubeSource;
  /** Why the mode is off ('' when on). */
  readonly off: string;
}

/**
 * The Kubernetes side, if the config asks for it and it can work. A configuration that can
 * never work is fatal with --kube=on; with auto it is one warning, and the mode is off.
 */
async function openKubeMode(config: Config, logger: Logger, opts: { orphanAfterMs?: number } = {}): Promise<KubeMode> {
  const source = detectKubeSource({ mode: config.kube, kubeconfig: config.kubeconfig });
  if (source.kind === 'off') return { source, off: source.why };
  // Loaded only when used: with the mode off, the client library costs neither memory nor start time.
  const [{ createKube }, { openKube }, { KubeConfigError }] = await Promise.all([import('./kube/kube.js'), import('./kube/open.js'), import('./kube/config-check.js')]);
  try {
    const kube = createKube({ client: openKube(source), source, nodeName: config.nodeName, logger, ...opts });
    return { kube, source, off: '' };
  } catch (err) {
    if (!(err instanceof KubeConfigError) || config.kube === 'on') throw err;
    logger.warn('kubernetes mode off: the client configuration cannot work (--kube=on makes this fatal)', { error: err.message });
    return { source, off: err.message };
  }
}

/** What Kubernetes mode adds to each verdict and subPath. */
function kubeExtras(kube: Kube): CoreExtras {
  return { fold: createOrphanFold(kube.podGone, createMountPodFold(kube.mountPodOf)), publishedAs: kube.publishedAs };
}

export async function startDaemon(config: Config, deps: Deps): Promise<Daemon> {
  const { logger } = deps;
  // Kubernetes mode adds labels, mount pod states and events; the probing never waits on it.
  const { kube, source: kubeSource, off: kubeOff } = await openKubeMode(config, logger);
  const core = await createCore(config, deps, kube ? kubeExtras(kube) : {});
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

  // Set while the pods directory cannot be listed: the prober sees no pod at all, so it is not ready.
  let podsDirProblem: string | undefined;
  const notePodsDir = () => {
    const err = core.inventory.podsDirError();
    if (err === undefined) {
      if (podsDirProblem !== undefined) logger.info('the kubelet pods directory can be listed again', { dir: core.layout.podsDir });
      podsDirProblem = undefined;
      logger.forget('pods-dir');
      return;
    }
    const d = describePodsDirError(core.layout.podsDir, err);
    podsDirProblem = d.message;
    logger.once('pods-dir', d.missing ? 'error' : 'warn', d.missing ? d.message : `${d.message}; will retry every resync`, {
      dir: core.layout.podsDir,
      error: err instanceof Error ? err : errorMessage(err),
    });
  };
  const isReady = () => initialScanDone && scheduler.isReady() && podsDirProblem === undefined;
  const app = createApp({
    logger,
    version: core.version,
    isReady,
    notReadyReason: () => podsDirProblem ?? 'waiting for the first probe cycle',
    renderMetrics: (format) => core.metrics.render(format),
    status: () =>
      statusReport(
        core,
        { started_at: startedAt, ready: isReady(), ...(podsDirProblem ? { not_ready: podsDirProblem } : {}), kube: kube ? { mode: 'on', ...kube.status() } : { mode: 'off', why: kubeOff } },
        kube ? (s) => ({ kube: pathKubeStatus(s, kube.owner(s.volume)) }) : undefined,
      ),
    statusPage: () =>
      renderStatusPage({
        node: config.nodeName,
        version: core.version,
        now: (deps.clock ?? systemClock).now(),
        ready: initialScanDone && scheduler.isReady(),
        kube: !kube ? 'off' : kube.isStale() ? 'stale' : 'on',
        stuckProbes: core.runner.stuck().length,
        paths: core.tracker.list().map((status) => ({ status, owner: kube?.owner(status.volume) })),
      }),
  });
  const server = createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    const { host, port } = config.listen;
    const failed = (err: Error) => {
      core.close();
      kube?.stop();
      reject(new ListenError(`${host === undefined ? '' : host.includes(':') ? `[${host}]` : host}:${port}`, '--listen [host]:port', { cause: err }));
    };
    server.once('error', failed);
    server.listen({ port, host, backlog: HTTP_LIMITS.backlog }, () => {
      server.off('error', failed);
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
    logger.info('kubernetes mode off', { why: kubeOff });
  }
  await core.inventory.resync();
  notePodsDir();
  initialScanDone = true;
  await ensureWatcher();
  scheduler.start();
  const resync = setInterval(() => {
    void core.inventory.resync().then(() => {
      notePodsDir();
      return ensureWatcher();
    });
  }, config.resyncMs);

  return {
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
}

export interface CheckRow {
  readonly pod: string;
  readonly pv: string;
  readonly path: string;
  readonly state: string;
  readonly detail: string;
  readonly latency: string;
  /** Kubernetes mode: who the path belongs to ('' when unknown). */
  readonly namespace?: string;
  readonly podName?: string;
  readonly pvc?: string;
}

export interface CheckResult {
  readonly rows: CheckRow[];
  readonly healthy: boolean;
  readonly mountTableOk: boolean;
  readonly podsDirOk: boolean;
  readonly podsDirProblem?: string;
  readonly mountTableProblem?: string;
  /** Whether the rows carry namespace, pod and claim. */
  readonly kube: boolean;
}

function withCause(err: unknown): string {
  const cause = err instanceof Error && err.cause !== undefined ? `: ${errorMessage(err.cause)}` : '';
  return `${errorMessage(err)}${cause}`;
}

/** How long `check` waits for the pod list and the claims before it prints without them. */
const CHECK_KUBE_WAIT_MS = 5000;

/** One cycle, for `kubectl exec … check`: the rows, and whether no path is unhealthy. */
export async function runCheckOnce(config: Config, deps: Deps): Promise<CheckResult> {
  // One list is all a one-shot command sees of the API: a pod missing from it is gone.
  const { kube } = await openKubeMode(config, deps.logger, { orphanAfterMs: 0 });
  const core = await createCore(config, deps, { ...(kube ? kubeExtras(kube) : {}), oneShot: true });
  try {
    if (kube) {
      kube.start();
      const deadline = Date.now() + CHECK_KUBE_WAIT_MS;
      while (!kube.settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (!kube.settled()) {
        deps.logger.warn('the Kubernetes API gave no complete answer in time; pods and claims it did not name are left blank', {
          waited_ms: CHECK_KUBE_WAIT_MS,
          error: (kube.status().last_error as string | null) ?? null,
        });
      }
    }
    const podsDirOk = await core.inventory.resync();
    const podsDirError = core.inventory.podsDirError();
    const podsDirProblem = podsDirError === undefined ? undefined : describePodsDirError(core.layout.podsDir, podsDirError).message;
    const report = await core.runCycle();
    const statuses = core.tracker.list().sort((a, b) => (a.volume.path < b.volume.path ? -1 : 1));
    const rows = statuses.map((s): CheckRow => {
      const owner = kube?.owner(s.volume);
      return {
        pod: s.volume.podUid,
        pv: s.volume.pv,
        path: s.volume.path,
        state: s.state,
        detail: s.detail,
        latency: s.lastProbeMs === undefined ? '-' : s.lastProbeMs < 1 ? `${Math.round(s.lastProbeMs * 1000)}µs` : `${s.lastProbeMs.toFixed(1)}ms`,
        ...(kube ? { namespace: owner?.namespace ?? '', podName: owner?.pod ?? '', pvc: owner?.pvc ?? '' } : {}),
      };
    });
    // Pending paths (published, not mounted yet, within the grace) are not failures: they export no 0 either.
    return {
      rows,
      healthy: report.ok && statuses.every((s) => healthValue(s.state) !== 0),
      mountTableOk: report.ok,
      podsDirOk,
      ...(podsDirProblem ? { podsDirProblem } : {}),
      ...(report.ok ? {} : { mountTableProblem: withCause(core.mountTableError()) }),
      kube: kube !== undefined,
    };
  } finally {
    kube?.stop();
    core.close();
  }
}

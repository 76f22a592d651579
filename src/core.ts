// The probing core that `serve` and `check` share: kubelet layout, inventory,
// the paths' lifecycle, tracker, helper pool, probe runner, metrics and the
// cycle, built from the config and connected. Nothing here listens, schedules or watches: serve's
// wiring (main.ts) and check (cli/check.ts) decide when a cycle runs.

import { realpath } from 'node:fs/promises';
import type { PodActions } from './act/pod-actions.js';
import type { Config } from './config.js';
import { createMountPodFold, type VerdictFold } from './classify/mount-pod.js';
import { createOrphanFold } from './classify/orphan.js';
import { createCycle, type RunCycle } from './cycle/cycle.js';
import { nodeDiscoveryFs, type DiscoveryFs } from './discovery/discovery-fs.js';
import { createInventory, type Inventory } from './discovery/inventory.js';
import { createKubeletLayout, type KubeletLayout } from './discovery/kubelet-layout.js';
import { createPathInspector, nodeInspectorFs } from './discovery/path-inspector.js';
import { pathFinder } from './discovery/path-set.js';
import type { KubeEnrichment, KubeEvents } from './kube/adapter.js';
import { createPathLifecycle, type PathLifecycle } from './lifecycle/path-lifecycle.js';
import type { Logger } from './log/logger.js';
import { createMetrics, type ProberMetrics } from './metrics/metrics.js';
import { createMountTableReader } from './mounts/mount-table.js';
import { createHelperPool, type HelperPool, type SpawnHelper } from './probe/helper-pool.js';
import { createProbeRunner, type ProbeRunner } from './probe/probe-runner.js';
import { systemClock, type Clock } from './shared/clock.js';
import { createPathTracker, type PathTracker } from './track/tracker.js';
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
  readonly clock: Clock;
  readonly layout: KubeletLayout;
  readonly inventory: Inventory;
  readonly lifecycle: PathLifecycle;
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
  const lifecycle = createPathLifecycle({ clock, publishGraceMs: config.publishGraceMs });
  const tracker = createPathTracker({ logger, clock, removals: lifecycle });
  const pool = createHelperPool({ logger, clock, threads: config.helperThreads, ...(deps.spawnHelper ? { spawnHelper: deps.spawnHelper } : {}) });
  const runner = createProbeRunner({ pool, timeoutMs: config.timeoutMs, clock });
  const metrics = createMetrics({
    tracker,
    clock,
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
    clock,
    onProblem: (kind) => metrics.discoveryError(kind),
  });
  inventory.onChange(({ removed }) => lifecycle.unpublished(removed));
  let mountTableError: unknown;
  const readMountTable = createMountTableReader(config.mountinfo, { logger });
  const fsTypes = new Set(config.fsTypes);
  const runCycle = createCycle({
    fsTypes,
    readMountTable: async () => {
      const table = await readMountTable();
      metrics.mountTableSize(table.size);
      metrics.mountTableMalformed(table.malformed);
      return table;
    },
    findPaths: pathFinder({ layout, inventory, fsTypes, publishedAs: extras.publishedAs }),
    inspector: createPathInspector(nodeInspectorFs(fs)),
    runner,
    lifecycle,
    tracker,
    logger,
    clock,
    onMountTableError: (err) => {
      mountTableError = err;
      metrics.discoveryError('mountinfo');
    },
    ...(extras.oneShot ? { logMountTableErrors: false } : {}),
    onInconclusive: (reason) => metrics.inconclusive(reason),
    ...(extras.fold ? { fold: extras.fold } : {}),
  });
  return {
    config,
    version,
    clock,
    layout,
    inventory,
    lifecycle,
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

/** What Kubernetes mode adds to each verdict and subPath. */
export function kubeExtras(kube: Pick<KubeEnrichment, 'podGone' | 'mountPodOf' | 'publishedAs'>): CoreExtras {
  return { fold: createOrphanFold(kube.podGone, createMountPodFold(kube.mountPodOf)), publishedAs: kube.publishedAs };
}

/** Kubernetes mode's output: an event for each transition, and word of each path removed. */
export function reportToKube(core: Pick<Core, 'tracker' | 'lifecycle'>, events: KubeEvents): void {
  core.tracker.onTransition((t) => events.transition(t));
  core.lifecycle.onRemove((v) => events.pathRemoved(v));
}

/** The opt-in actions hear what the tracker and lifecycle say, as the events do. */
export function reportToActions(core: Pick<Core, 'tracker' | 'lifecycle'>, actions: Pick<PodActions, 'transition' | 'pathRemoved'>): void {
  core.tracker.onTransition((t) => actions.transition(t));
  core.lifecycle.onRemove((v) => actions.pathRemoved(v));
}

/** Mount pods change verdicts: a burst of changes asks for one cycle, at most once a second. */
const KUBE_KICK_MS = 1000;

/** A cycle soon after a mount pod changes. Returns what stops it. */
export function cycleOnMountPodChange(kube: Pick<KubeEnrichment, 'onMountPodChange'>, trigger: () => void, clock: Clock): () => void {
  let kick: unknown;
  let stopped = false;
  kube.onMountPodChange(() => {
    if (stopped) return;
    kick ??= clock.setTimeout(() => {
      kick = undefined;
      trigger();
    }, KUBE_KICK_MS);
  });
  return () => {
    stopped = true;
    if (kick !== undefined) clock.clearTimeout(kick);
  };
}

// Keeps the inventory current while the daemon runs: a full scan at start and
// every resync, a watch of the pods directory in between (rescanning only the
// pod that changed, once per burst), and the watch supervised: started once the
// directory exists, dropped when it goes (a watch on a deleted directory never
// fires again). Directories inotify refuses a watch are polled by the watcher
// itself. A pods directory that cannot be listed is a misconfiguration kubelet
// never causes: it is said once and makes the daemon not ready until it can be
// listed again.

import type { Logger } from '../log/logger.js';
import { errorMessage } from '../errors.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { nodeDiscoveryFs, type DiscoveryFs } from './discovery-fs.js';
import { describePodsDirError, type Inventory } from './inventory.js';
import type { KubeletLayout } from './kubelet-layout.js';
import { watchPods, type PodWatcher, type PodWatcherOptions } from './watcher.js';

export interface PodDiscovery {
  /** The first full scan, then the watch and the periodic resync. */
  start(): Promise<void>;
  /** Whether the first full scan has finished. */
  scanned(): boolean;
  /** Why the pods directory cannot be listed, while it cannot. */
  podsDirProblem(): string | undefined;
  stop(): Promise<void>;
}

export interface PodDiscoveryOptions {
  readonly layout: KubeletLayout;
  readonly inventory: Inventory;
  readonly logger: Logger;
  readonly resyncMs: number;
  /** The watch is on (true) or off (false). */
  readonly onWatching?: (on: boolean) => void;
  /** The watch reported an error. */
  readonly onWatchError?: () => void;
  /** Directories polled because inotify refused them a watch. */
  readonly onWatchPolling?: (dirs: number) => void;
  readonly fs?: DiscoveryFs;
  readonly clock?: Clock;
  /** Starts a watch: chokidar on the real directory by default. */
  readonly watch?: (opts: PodWatcherOptions) => PodWatcher;
  /** How long a pod's changes are gathered before its one rescan. */
  readonly debounceMs?: number;
}

export function createPodDiscovery(opts: PodDiscoveryOptions): PodDiscovery {
  const { layout, inventory, logger } = opts;
  const fs = opts.fs ?? nodeDiscoveryFs;
  const clock = opts.clock ?? systemClock;
  const watch = opts.watch ?? watchPods;
  const debounceMs = opts.debounceMs ?? 50;
  const dirty = new Map<string, unknown>();
  let watcher: PodWatcher | undefined;
  let stopping = false;
  let scanned = false;
  let problem: string | undefined;
  let resync: unknown;

  // Pods change in bursts (many directories at once): one rescan per pod per burst.
  const podChanged = (uid: string) => {
    if (dirty.has(uid) || stopping) return;
    dirty.set(
      uid,
      clock.setTimeout(() => {
        dirty.delete(uid);
        void inventory.rescanPod(uid);
      }, debounceMs),
    );
  };

  const dropWatcher = () => {
    const w = watcher;
    watcher = undefined;
    opts.onWatching?.(false);
    opts.onWatchPolling?.(0);
    if (w) void w.close();
  };

  const ensureWatcher = async () => {
    if (stopping) return;
    let present = true;
    try {
      await fs.list(layout.podsDir);
    } catch {
      present = false;
    }
    if (!present) {
      if (watcher) {
        logger.warn('the kubelet pods directory is gone; watching again once it is back', { dir: layout.podsDir });
        dropWatcher();
      }
      return;
    }
    if (watcher || stopping) return;
    watcher = watch({
      layout,
      logger,
      onPodChange: podChanged,
      onError: () => opts.onWatchError?.(),
      onPolling: (dirs) => opts.onWatchPolling?.(dirs),
    });
    opts.onWatching?.(true);
    logger.info('watching pods directory', { dir: layout.podsDir });
  };

  const notePodsDir = () => {
    const err = inventory.podsDirError();
    if (err === undefined) {
      if (problem !== undefined) logger.info('the kubelet pods directory can be listed again', { dir: layout.podsDir });
      problem = undefined;
      logger.forget('pods-dir');
      return;
    }
    const d = describePodsDirError(layout.podsDir, err);
    problem = d.message;
    logger.once('pods-dir', d.missing ? 'error' : 'warn', d.missing ? d.message : `${d.message}; will retry every resync`, {
      dir: layout.podsDir,
      error: err instanceof Error ? err : errorMessage(err),
    });
  };

  const rescanAll = async () => {
    await inventory.resync();
    notePodsDir();
  };

  const scheduleResync = () => {
    if (stopping) return;
    resync = clock.setTimeout(() => {
      void rescanAll()
        .then(ensureWatcher)
        .finally(scheduleResync);
    }, opts.resyncMs);
  };

  return {
    async start() {
      await rescanAll();
      scanned = true;
      await ensureWatcher();
      scheduleResync();
    },
    scanned: () => scanned,
    podsDirProblem: () => problem,
    async stop() {
      stopping = true;
      if (resync !== undefined) clock.clearTimeout(resync);
      for (const t of dirty.values()) clock.clearTimeout(t);
      dirty.clear();
      const w = watcher;
      watcher = undefined;
      // Closing thousands of watches can take a while; shutdown does not wait for it.
      if (!w) return;
      const waited = new AbortController();
      await Promise.race([w.close(), clock.sleep(500, waited.signal).catch(() => {})]);
      waited.abort();
    },
  };
}

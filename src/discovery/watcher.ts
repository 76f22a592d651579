// Watches the kubelet pods tree for pods and CSI volume directories coming and
// going, so a new pod's paths appear and a deleted pod's go within about a second.
//
// chokidar, held to the directories that say so: pods/ and, for each pod, its
// own directory, volumes/ and volumes/kubernetes.io~csi/ (podWatchChain). Those
// are listed and watched, so their entries are lstat'ed: pod directories,
// plugin directories, <pv> directories, none of them a mount point. Nothing
// deeper is listed: a <pv>/ directory holds the `mount` point, volume-subpaths/
// the subPath bind mounts, another plugin's directory its own mounts, and an
// lstat of a hung FUSE mount holds a libuv thread for as long as the client
// hangs. `depth` stops chokidar at the CSI directory; the scope keeps it out of
// a pod's every other directory (it is asked before anything is looked at).
//
// When the kernel refuses a watch (inotify watches or instances used up), that
// directory, with its pod's directories below it, is polled by chokidar's
// polling backend instead: a stat per directory per poll, nothing else polled.

import path from 'node:path';
import { FSWatcher, type ChokidarOptions } from 'chokidar';
import { errorCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { podWatchChain, type KubeletLayout } from './kubelet-layout.js';

export interface PodWatcher {
  /** Resolves once every pod present at the start is watched (or the watcher is closed). */
  readonly ready: Promise<void>;
  /** Directories polled because inotify refused them a watch (each with its pod's directories below it). */
  polled(): number;
  close(): Promise<void>;
}

/** What chokidar may look at under the pods directory. */
export interface WatchScope {
  /** Directory levels below pods/ (level 0) that are listed; entries of the deepest are lstat'ed, never listed. */
  readonly depth: number;
  /** Whether a path is listed (down to `depth`) or lstat'ed as an entry at all; asked before either. */
  admits(p: string): boolean;
}

export interface PodWatcherOptions {
  readonly layout: KubeletLayout;
  readonly logger: Logger;
  /** A pod's CSI directories changed (or the pod came or went). */
  readonly onPodChange: (podUid: string) => void;
  readonly onError?: (err: unknown) => void;
  /** The number of polled directories changed (see `polled()`). */
  readonly onPolling?: (dirs: number) => void;
  /** How often a directory inotify refused is polled. */
  readonly pollMs?: number;
  /** watchScope(layout) unless a test points the watcher elsewhere. */
  readonly scope?: WatchScope;
}

/** ENOSPC from inotify_add_watch (fs.inotify.max_user_watches), EMFILE from inotify_init (max_user_instances). */
export function isWatchLimitError(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOSPC' || code === 'EMFILE';
}

/** pods/, each pod's watch chain, and the entries of its deepest directory (the <pv> directories). */
export function watchScope(layout: KubeletLayout): WatchScope {
  const prefix = layout.podsDir + path.sep;
  return {
    depth: podWatchChain(layout, 'uid').length,
    admits(p) {
      if (p === layout.podsDir) return true;
      if (!p.startsWith(prefix)) return false;
      const rest = p.slice(prefix.length);
      const cut = rest.indexOf(path.sep);
      const chain = podWatchChain(layout, cut < 0 ? rest : rest.slice(0, cut));
      return chain.includes(p) || path.dirname(p) === chain[chain.length - 1];
    },
  };
}

const isWithin = (dir: string, p: string) => p === dir || p.startsWith(dir + path.sep);

export function watchPods(opts: PodWatcherOptions): PodWatcher {
  const { layout, logger } = opts;
  const scope = opts.scope ?? watchScope(layout);
  const pollMs = opts.pollMs ?? 1000;
  const prefix = layout.podsDir + path.sep;
  // Polled directory → its polling watcher; none covers another.
  const polled = new Map<string, FSWatcher>();
  let closed = false;
  let saidPolling = false;

  const levelOf = (dir: string) => (dir === layout.podsDir ? 0 : dir.slice(prefix.length).split(path.sep).length);

  const podOf = (p: string) => {
    if (!p.startsWith(prefix)) return undefined;
    const rest = p.slice(prefix.length);
    const cut = rest.indexOf(path.sep);
    return cut < 0 ? rest : rest.slice(0, cut);
  };

  // What chokidar looks for is spelled out, not left to its defaults: no
  // initial events (the inventory's scan comes first), no symlinks followed
  // (kubelet makes none here), no editor-save folding and no write-settling
  // timers, no stats beyond the listing, no handle that keeps the process alive.
  // chokidar 5 (the major that supports Node 20) keeps its own short readdir
  // throttle timers; they take no part in any decision here.
  const open = (dir: string, extra: ChokidarOptions = {}) => {
    const w = new FSWatcher(
      {
        depth: scope.depth - levelOf(dir),
        // A symlink is never a directory kubelet made here: no event for it (the scan reports it).
        ignored: (p: string, stats?: { isSymbolicLink(): boolean }) => !scope.admits(p) || stats?.isSymbolicLink() === true,
        ignoreInitial: true,
        followSymlinks: false,
        atomic: false,
        awaitWriteFinish: false,
        alwaysStat: false,
        persistent: false,
        ...extra,
      },
    );
    w.on('all', (_event, p) => {
      const uid = podOf(p);
      if (uid !== undefined && !closed) opts.onPodChange(uid);
    });
    w.on('unlinkDir', (p) => release(p));
    w.on('error', failed);
    w.add(dir);
    return w;
  };

  const pollingChanged = () => opts.onPolling?.(polled.size);

  /** Stops polling what went away with `dir`. */
  const release = (dir: string) => {
    let dropped = false;
    for (const [root, w] of polled) {
      if (!isWithin(dir, root)) continue;
      polled.delete(root);
      void w.close();
      dropped = true;
    }
    if (dropped) pollingChanged();
  };

  const poll = (dir: string, err: unknown) => {
    if (closed || !isWithin(layout.podsDir, dir)) return;
    for (const root of polled.keys()) if (isWithin(root, dir)) return;
    // A shallower directory polled covers the deeper ones under it.
    for (const [root, w] of polled) {
      if (!isWithin(dir, root)) continue;
      polled.delete(root);
      void w.close();
    }
    const w = open(dir, { usePolling: true, interval: pollMs });
    // What changed between the refused watch and this first listing shows in no event.
    const uid = podOf(dir);
    if (uid !== undefined) w.once('ready', () => !closed && opts.onPodChange(uid));
    polled.set(dir, w);
    pollingChanged();
    if (saidPolling) return;
    saidPolling = true;
    logger.warn('inotify watches used up; the directories refused a watch are polled instead', {
      dir,
      every: `${pollMs}ms`,
      error: err instanceof Error ? err : String(err),
    });
  };

  function failed(err: unknown) {
    if (closed) return;
    opts.onError?.(err);
    if (isWatchLimitError(err)) {
      // Node names the directory it could not watch; without a name, poll them all.
      const dir = (err as { path?: unknown }).path;
      return poll(typeof dir === 'string' ? path.resolve(dir) : layout.podsDir, err);
    }
    logger.once(`watch-error:${errorCode(err) ?? String(err)}`, 'warn', 'pods directory watch error; periodic resync continues', {
      error: err instanceof Error ? err : String(err),
    });
  }

  const native = open(layout.podsDir);
  let ended: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    ended = resolve;
    native.once('ready', () => resolve());
  });

  return {
    ready,
    polled: () => polled.size,
    async close() {
      if (closed) return;
      closed = true;
      ended();
      const all = [native, ...polled.values()];
      polled.clear();
      await Promise.allSettled(all.map((w) => w.close()));
    },
  };
}

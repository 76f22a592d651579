// Watches the kubelet pods tree for pods and CSI volume directories coming and
// going, so a new pod's paths appear and a deleted pod's go within about a second.
//
// Plain inotify through fs.watch: one watch on pods/ and one per pod, on the
// deepest directory of <uid>/volumes/kubernetes.io~csi that exists (its events
// are the <pv> directories coming and going; while it is missing, the pod's
// directory or volumes/ says when it appears). A watch reads nothing: no
// directory under a pod is listed and no entry is stat'ed, so a hung mount
// point anywhere in the tree cannot block it. A generic tree watcher (chokidar)
// lstat'ed every entry of each directory it read and kept ~10 KiB per
// directory (~300 MiB on a 10,000-pod node); this keeps ~1 KiB per pod.

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Logger } from '../log/logger.js';
import { mapLimit } from '../shared/map-limit.js';
import { podWatchChain, type KubeletLayout } from './kubelet-layout.js';

export interface PodWatcher {
  /** Resolves once every pod present at the start is watched. */
  readonly ready: Promise<void>;
  /** Directories watched now (pods/ and one per pod). */
  watches(): number;
  close(): Promise<void>;
}

export interface PodWatcherOptions {
  readonly layout: KubeletLayout;
  readonly logger: Logger;
  /** A pod's CSI directories changed (or the pod came or went). */
  readonly onPodChange: (podUid: string) => void;
  readonly onError?: (err: unknown) => void;
  /**
   * The kernel refused a watch (inotify watches or instances used up). Called
   * once; the watcher is then useless (some directories unwatched) and should
   * be closed, leaving discovery to the periodic scan.
   */
  readonly onLimit?: (err: unknown) => void;
}

/** ENOSPC from inotify_add_watch (fs.inotify.max_user_watches), EMFILE from inotify_init (max_user_instances). */
export function isWatchLimitError(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOSPC' || code === 'EMFILE';
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

interface DirId {
  readonly dir: string;
  readonly ino: number;
}

interface PodWatch extends DirId {
  readonly handle: fs.FSWatcher;
}

/** The deepest directory of a pod's watch chain that exists, or undefined when the pod is gone. */
async function deepestDir(chain: readonly string[]): Promise<DirId | undefined> {
  let found: DirId | undefined;
  for (const dir of chain) {
    const st = await fsp.lstat(dir).catch(() => undefined);
    if (!st?.isDirectory()) break;
    found = { dir, ino: st.ino };
  }
  return found;
}

const sameDir = (a: DirId | undefined, b: DirId | undefined) => a?.dir === b?.dir && a?.ino === b?.ino;

export function watchPods(opts: PodWatcherOptions): PodWatcher {
  const { layout, logger } = opts;
  const pods = new Map<string, PodWatch>();
  // A pod being (re)armed, and whether another event asked for it meanwhile.
  const arming = new Map<string, { again: boolean }>();
  let root: fs.FSWatcher | undefined;
  let closed = false;
  let limited = false;

  const failed = (err: unknown) => {
    opts.onError?.(err);
    if (isWatchLimitError(err)) {
      if (!limited) opts.onLimit?.(err);
      limited = true;
      return;
    }
    logger.once(`watch-error:${errorCode(err) ?? String(err)}`, 'warn', 'pods directory watch error; periodic resync continues', {
      error: err instanceof Error ? err : String(err),
    });
  };

  /** A watch on dir, or undefined when dir went away meanwhile or the kernel refused. */
  const open = (dir: string, onEvent: (name: string | null) => void): fs.FSWatcher | undefined => {
    try {
      const w = fs.watch(dir, { persistent: true }, (_event, name) => onEvent(typeof name === 'string' ? name : null));
      w.on('error', (err) => {
        failed(err);
        onEvent(null);
      });
      return w;
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') failed(err);
      return undefined;
    }
  };

  const unwatch = (uid: string) => {
    pods.get(uid)?.handle.close();
    pods.delete(uid);
  };

  // Watch the pod's deepest existing chain directory. Checked again after the
  // watch is placed: a deeper directory created, or the directory replaced,
  // between the look and the watch would otherwise go unseen.
  const armOnce = async (uid: string) => {
    const chain = podWatchChain(layout, uid);
    let target = await deepestDir(chain);
    while (!closed) {
      if (!target) return unwatch(uid);
      if (sameDir(pods.get(uid), target)) return;
      unwatch(uid);
      const handle = open(target.dir, () => podEvent(uid));
      if (!handle) return;
      pods.set(uid, { ...target, handle });
      target = await deepestDir(chain);
    }
  };

  const arm = async (uid: string): Promise<void> => {
    const busy = arming.get(uid);
    if (busy) {
      busy.again = true;
      return;
    }
    const state = { again: true };
    arming.set(uid, state);
    try {
      while (state.again && !closed) {
        state.again = false;
        await armOnce(uid);
      }
    } finally {
      arming.delete(uid);
    }
  };

  const podEvent = (uid: string) => {
    if (closed) return;
    opts.onPodChange(uid);
    void arm(uid);
  };

  const armAll = async () => {
    const names = await fsp.readdir(layout.podsDir).catch((err: unknown) => {
      failed(err);
      return [] as string[];
    });
    await mapLimit(names, 16, arm);
  };

  const start = async () => {
    root = open(layout.podsDir, (name) => {
      if (closed) return;
      if (name === null) return void armAll();
      podEvent(name);
    });
    if (!root) return;
    await armAll();
  };

  return {
    ready: start(),
    watches: () => pods.size + (root ? 1 : 0),
    async close() {
      closed = true;
      root?.close();
      root = undefined;
      for (const uid of [...pods.keys()]) unwatch(uid);
    },
  };
}

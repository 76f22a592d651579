// Watches the kubelet pods tree for pods and CSI volume directories coming and
// going, so a new pod's paths appear and a deleted pod's go within about a second.
//
// chokidar lstat's every entry of each directory it reads, before any filter
// applies. So it must never read a directory that holds a mount point: with
// depth 3 from pods/ it reads pods/, <uid>/, <uid>/volumes/ and
// <uid>/volumes/kubernetes.io~csi/, and stops at the <pv>/ directories (their
// `mount` entry is never listed); everything else under a pod is ignored
// before it is read (other volume plugins' directories hold mount points too).

import { watch, type FSWatcher } from 'chokidar';
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import { CSI_PLUGIN_DIR, type KubeletLayout } from './kubelet-layout.js';

export interface PodWatcher {
  /** Resolves once the initial tree has been read. */
  readonly ready: Promise<void>;
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
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return code === 'ENOSPC' || code === 'EMFILE';
}

export const WATCH_DEPTH = 3;

/** Whether chokidar may look at a path: only the chain pods/<uid>/volumes/kubernetes.io~csi/<pv>. */
export function isWatchable(layout: KubeletLayout, p: string): boolean {
  if (p === layout.podsDir) return true;
  if (!p.startsWith(layout.podsDir + path.sep)) return false;
  const parts = p.slice(layout.podsDir.length + 1).split(path.sep);
  switch (parts.length) {
    case 1:
      return true; // <uid>
    case 2:
      return parts[1] === 'volumes';
    case 3:
      return parts[1] === 'volumes' && parts[2] === CSI_PLUGIN_DIR;
    case 4:
      return parts[1] === 'volumes' && parts[2] === CSI_PLUGIN_DIR; // <pv>, never read (depth)
    default:
      return false;
  }
}

export function watchPods(opts: PodWatcherOptions): PodWatcher {
  const { layout, logger } = opts;
  const watcher: FSWatcher = watch(layout.podsDir, {
    depth: WATCH_DEPTH,
    ignoreInitial: true,
    followSymlinks: false,
    persistent: true,
    ignored: (p: string) => !isWatchable(layout, p),
  });

  const podOf = (p: string): string | undefined => {
    if (!p.startsWith(layout.podsDir + path.sep)) return undefined;
    return p.slice(layout.podsDir.length + 1).split(path.sep)[0];
  };

  const onEvent = (p: string) => {
    const uid = podOf(p);
    if (uid) opts.onPodChange(uid);
  };
  watcher.on('addDir', onEvent);
  watcher.on('unlinkDir', onEvent);
  let limited = false;
  watcher.on('error', (err: unknown) => {
    opts.onError?.(err);
    if (isWatchLimitError(err)) {
      // One error per directory that could not be watched: report the condition once.
      if (!limited) opts.onLimit?.(err);
      limited = true;
      return;
    }
    const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : String(err);
    logger.once(`watch-error:${code}`, 'warn', 'pods directory watch error; periodic resync continues', { error: err });
  });

  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    close: () => watcher.close(),
  };
}

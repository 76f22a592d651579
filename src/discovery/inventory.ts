// The set of published JuiceFS volume paths on this node, kept current by full
// scans (at start and every resync) and per-pod rescans (driven by the watcher).

import type { Logger } from '../log/logger.js';
import { errorCode, errorMessage } from '../errors.js';
import { createBackoff, type Backoff, type BackoffPolicy } from '../shared/backoff.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { VolumePath } from '../types.js';
import { scanAll, scanPod, type PodScan, type ScanOptions, type ScanProblem } from './scan.js';

export interface InventoryChange {
  readonly added: VolumePath[];
  readonly removed: VolumePath[];
}

export interface Inventory {
  list(): VolumePath[];
  get(path: string): VolumePath | undefined;
  /** Paths of one pod, for associating its subPath mounts. */
  ofPod(podUid: string): VolumePath[];
  /** Full scan; false when the pods directory could not be listed (what was known is kept). */
  resync(): Promise<boolean>;
  /** Why the last full scan could not list the pods directory; undefined when it could. The caller says it: a daemon retries, a one-shot command does not. */
  podsDirError(): unknown;
  /** The same in words an operator can act on (describePodsDirError). */
  podsDirProblem(): string | undefined;
  rescanPod(podUid: string): Promise<void>;
  onChange(listener: (change: InventoryChange) => void): void;
  close(): void;
}

export interface InventoryOptions extends ScanOptions {
  readonly logger: Logger;
  readonly onProblem?: (kind: ScanProblem['kind'] | 'pods_dir') => void;
  /** When to read a `<pv>/` again that has no vol_data.json yet (kubelet writes it just after mkdir); past its attempts the periodic resync takes over. */
  readonly incompleteRetry?: BackoffPolicy;
  readonly clock?: Clock;
}

/** 100 ms, 300 ms, 900 ms, 2.7 s: kubelet writes vol_data.json within moments of the directory. */
const INCOMPLETE_RETRY: BackoffPolicy = { initialMs: 100, factor: 3, maxMs: 3000, maxAttempts: 4, jitter: 0 };

/** What a failed listing of the pods directory means, in words an operator can act on. */
export function describePodsDirError(dir: string, err: unknown): { missing: boolean; message: string } {
  const code = errorCode(err);
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return {
      missing: true,
      // kubelet makes it before it runs any pod, this prober's own included: its absence is a wrong --kubelet-dir.
      message: `the kubelet pods directory ${dir} does not exist; kubelet creates it before any pod runs, so --kubelet-dir is likely wrong (k0s: /var/lib/k0s/kubelet, MicroK8s: /var/snap/microk8s/common/var/lib/kubelet)`,
    };
  }
  return { missing: false, message: `cannot list the kubelet pods directory ${dir}: ${errorMessage(err)}` };
}

export function createInventory(opts: InventoryOptions): Inventory {
  const { logger } = opts;
  const retryPolicy = opts.incompleteRetry ?? INCOMPLETE_RETRY;
  const clock = opts.clock ?? systemClock;
  const byPod = new Map<string, Map<string, VolumePath>>();
  const byPath = new Map<string, VolumePath>();
  const listeners: ((c: InventoryChange) => void)[] = [];
  const retries = new Map<string, { readonly backoff: Backoff; timer: unknown }>();
  const badFiles = new Set<string>();
  let closed = false;
  let podsDirError: unknown;

  const reportProblems = (problems: readonly ScanProblem[]) => {
    for (const p of problems) {
      opts.onProblem?.(p.kind);
      badFiles.add(p.file);
      logger.once(`problem:${p.file}`, 'warn', 'skipping unreadable or malformed entry', {
        file: p.file,
        kind: p.kind,
        error: p.error instanceof Error ? p.error : errorMessage(p.error),
      });
    }
  };

  const apply = (scan: PodScan, change: { added: VolumePath[]; removed: VolumePath[] }) => {
    if (!scan.listed) return;
    const prev = byPod.get(scan.podUid) ?? new Map<string, VolumePath>();
    const next = new Map<string, VolumePath>();
    // A vol_data.json caught mid-write or briefly unreadable is no reason to drop a known path.
    for (const pv of scan.unreadable) {
      const known = prev.get(opts.layout.mountPath(scan.podUid, pv));
      if (known) next.set(known.path, known);
    }
    for (const v of scan.volumes) {
      next.set(v.path, v);
      const old = prev.get(v.path);
      if (!old || old.volumeId !== v.volumeId || old.driver !== v.driver) {
        if (old) change.removed.push(old);
        change.added.push(v);
      }
      byPath.set(v.path, v);
    }
    // A file that parses again may go bad again later: log it again then.
    for (const file of badFiles) {
      if (!scan.problems.some((p) => p.file === file) && file.startsWith(`${opts.layout.podDir(scan.podUid)}/`)) {
        badFiles.delete(file);
        logger.forget(`problem:${file}`);
      }
    }
    for (const [path, v] of prev) {
      if (!next.has(path)) {
        change.removed.push(v);
        byPath.delete(path);
      }
    }
    if (next.size > 0) byPod.set(scan.podUid, next);
    else byPod.delete(scan.podUid);
    scheduleRetry(scan);
  };

  const scheduleRetry = (scan: PodScan) => {
    const pending = retries.get(scan.podUid);
    if (pending) clock.clearTimeout(pending.timer);
    // Unreadable ones too: a write caught half-way parses a moment later.
    if ((scan.incomplete.length === 0 && scan.unreadable.length === 0) || !scan.podExists) {
      retries.delete(scan.podUid);
      return;
    }
    const backoff = pending?.backoff ?? createBackoff(retryPolicy);
    const delay = backoff.next();
    if (delay === undefined || closed) {
      retries.delete(scan.podUid); // the periodic resync takes it from here
      return;
    }
    retries.set(scan.podUid, { backoff, timer: clock.setTimeout(() => void rescanPod(scan.podUid, true), delay) });
  };

  const emit = (change: InventoryChange) => {
    if (change.added.length === 0 && change.removed.length === 0) return;
    for (const l of listeners) l(change);
  };

  async function rescanPod(podUid: string, retry = false): Promise<void> {
    if (closed) return;
    if (!retry) {
      // A fresh event restarts the retries.
      const pending = retries.get(podUid);
      if (pending) clock.clearTimeout(pending.timer);
      retries.delete(podUid);
    }
    const scan = await scanPod(opts, podUid);
    if (closed) return;
    reportProblems(scan.problems);
    const change = { added: [] as VolumePath[], removed: [] as VolumePath[] };
    apply(scan, change);
    emit(change);
  }

  return {
    list: () => [...byPath.values()],
    get: (path) => byPath.get(path),
    ofPod: (uid) => [...(byPod.get(uid)?.values() ?? [])],
    async resync() {
      if (closed) return false;
      const full = await scanAll(opts);
      if (closed) return false;
      if (!full.ok) {
        opts.onProblem?.('pods_dir');
        podsDirError = full.error;
        // Keep what we know: an unreadable directory is not proof the pods are gone.
        return false;
      }
      podsDirError = undefined;
      const change = { added: [] as VolumePath[], removed: [] as VolumePath[] };
      const seen = new Set<string>();
      for (const scan of full.pods) {
        seen.add(scan.podUid);
        reportProblems(scan.problems);
        apply(scan, change);
      }
      for (const uid of [...byPod.keys()]) {
        if (!seen.has(uid)) apply({ podUid: uid, volumes: [], problems: [], incomplete: [], unreadable: [], podExists: false, listed: true }, change);
      }
      emit(change);
      return true;
    },
    podsDirError: () => podsDirError,
    podsDirProblem: () => (podsDirError === undefined ? undefined : describePodsDirError(opts.layout.podsDir, podsDirError).message),
    rescanPod: (uid) => rescanPod(uid),
    onChange: (l) => void listeners.push(l),
    close() {
      closed = true;
      for (const r of retries.values()) clock.clearTimeout(r.timer);
      retries.clear();
    },
  };
}

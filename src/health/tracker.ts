// The per-path state machine: what each path is, since when, and what changed.
// Everything the metrics, /status and `check` show is read from here.

import type { Logger } from '../log/logger.js';
import type { PathState, PathStatus, VolumePath } from '../types.js';
import type { Verdict } from './verdict.js';

export interface Transition {
  readonly volume: VolumePath;
  readonly from: PathState | undefined;
  readonly to: PathState;
  readonly detail: string;
  readonly at: number;
}

export interface ProbeFacts {
  readonly at: number;
  readonly ms: number;
  readonly source: string;
}

export interface PathTracker {
  /**
   * Applies a verdict observed as of `asOf` (the mount table read it came from).
   * Older observations than the last applied one are ignored. Returns a delay
   * after which the path should be looked at again, when the verdict is held back.
   */
  observe(volume: VolumePath, verdict: Verdict, asOf: number, probe?: ProbeFacts): number | undefined;
  /** Records a probe that gave no verdict, so /status still shows when it ran. */
  probed(path: string, probe: ProbeFacts): void;
  markMounted(volume: VolumePath): void;
  everMounted(path: string): boolean;
  remove(path: string, why: string): void;
  get(path: string): PathStatus | undefined;
  paths(): IterableIterator<string>;
  list(): PathStatus[];
  tracked(): VolumePath[];
  counts(): Map<PathState, number>;
  onTransition(listener: (t: Transition) => void): void;
  onRemove(listener: (volume: VolumePath) => void): void;
}

export interface TrackerOptions {
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * How long a previously mounted path must stay unmounted before it is reported:
   * kubelet unmounts a volume just before it deletes its directory, and that
   * window must not read as a broken mount.
   */
  readonly unmountConfirmMs?: number;
}

interface PathRecord {
  volume: VolumePath;
  status?: PathStatus;
  everMounted: boolean;
  asOf: number;
  unmountSeenAt?: number;
}

const UNMOUNTED: ReadonlySet<PathState> = new Set(['not_mounted', 'not_found', 'pending']);

export function createPathTracker(opts: TrackerOptions): PathTracker {
  const { logger, now } = opts;
  const confirmMs = opts.unmountConfirmMs ?? 2000;
  const records = new Map<string, PathRecord>();
  const transitionListeners: ((t: Transition) => void)[] = [];
  const removeListeners: ((v: VolumePath) => void)[] = [];

  const recordOf = (volume: VolumePath): PathRecord => {
    let r = records.get(volume.path);
    if (!r) {
      r = { volume, everMounted: false, asOf: -Infinity };
      records.set(volume.path, r);
    } else if (r.volume !== volume) {
      r.volume = volume;
    }
    return r;
  };

  return {
    observe(volume, verdict, asOf, probe) {
      const r = recordOf(volume);
      if (asOf < r.asOf) return undefined;
      const prev = r.status;
      if (
        (verdict.state === 'not_mounted' || verdict.state === 'not_found') &&
        r.everMounted &&
        prev &&
        !UNMOUNTED.has(prev.state)
      ) {
        r.unmountSeenAt ??= asOf;
        const waited = asOf - r.unmountSeenAt;
        if (waited < confirmMs) return confirmMs - waited;
      } else {
        r.unmountSeenAt = undefined;
      }
      r.asOf = asOf;
      const at = now();
      const changed = !prev || prev.state !== verdict.state;
      r.status = {
        volume,
        state: verdict.state,
        detail: verdict.detail,
        since: changed ? at : prev.since,
        lastProbeAt: probe?.at ?? prev?.lastProbeAt,
        lastProbeMs: probe?.ms ?? prev?.lastProbeMs,
        source: probe?.source ?? prev?.source,
      };
      if (changed) {
        const t: Transition = { volume, from: prev?.state, to: verdict.state, detail: verdict.detail, at };
        const fields = {
          path: volume.path,
          pod_uid: volume.podUid,
          pv: volume.pv,
          volume_id: volume.volumeId,
          kind: volume.kind,
          state: verdict.state,
          previous: prev?.state ?? null,
          detail: verdict.detail,
        };
        if (verdict.state === 'healthy' || verdict.state === 'pending') logger.info('volume path state', fields);
        else logger.warn('volume path state', fields);
        for (const l of transitionListeners) l(t);
      }
      return undefined;
    },
    probed(path, probe) {
      const r = records.get(path);
      if (r?.status) r.status = { ...r.status, lastProbeAt: probe.at, lastProbeMs: probe.ms, source: probe.source };
    },
    markMounted(volume) {
      recordOf(volume).everMounted = true;
    },
    everMounted: (path) => records.get(path)?.everMounted ?? false,
    remove(path, why) {
      const r = records.get(path);
      if (!r) return;
      records.delete(path);
      if (r.status) {
        logger.info('volume path removed', { path, pod_uid: r.volume.podUid, pv: r.volume.pv, why });
      }
      for (const l of removeListeners) l(r.volume);
    },
    get: (path) => records.get(path)?.status,
    paths: () => records.keys(),
    list() {
      const out: PathStatus[] = [];
      for (const r of records.values()) if (r.status) out.push(r.status);
      return out;
    },
    tracked: () => [...records.values()].map((r) => r.volume),
    counts() {
      const m = new Map<PathState, number>();
      for (const r of records.values()) if (r.status) m.set(r.status.state, (m.get(r.status.state) ?? 0) + 1);
      return m;
    },
    onTransition: (l) => void transitionListeners.push(l),
    onRemove: (l) => void removeListeners.push(l),
  };
}

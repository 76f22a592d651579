// The per-path state machine: what each path is, since when, and what changed.
// Everything the metrics, /status and `check` show is read from here.

import type { Logger } from '../log/logger.js';
import { healthValue, type PathState, type PathStatus, type Transition, type VolumePath } from '../types.js';
import { unmountHold } from '../lifecycle/rules.js';
import type { Verdict } from '../classify/verdict.js';

export type { Transition } from '../types.js';

export interface ProbeFacts {
  readonly at: number;
  readonly ms: number;
  readonly source: string;
}

export interface PathTracker {
  /**
   * Applies a verdict observed as of `asOf`: monotonic milliseconds (never the
   * wall clock, which can jump) taken before the mount table read it came from.
   * Observations older than the last applied one, or than the path's removal,
   * are ignored. Returns a delay after which the path should be looked at
   * again, when the verdict is held back.
   */
  observe(volume: VolumePath, verdict: Verdict, asOf: number, probe?: ProbeFacts): number | undefined;
  /** Records a probe that gave no verdict, so /status still shows when it ran. */
  probed(path: string, probe: ProbeFacts): void;
  markMounted(volume: VolumePath, asOf: number): void;
  everMounted(path: string): boolean;
  /** Monotonic ms of the first observation of the path, if it is tracked. */
  firstSeen(path: string): number | undefined;
  remove(path: string, why: string): void;
  get(path: string): PathStatus | undefined;
  list(): PathStatus[];
  tracked(): VolumePath[];
  counts(): Map<PathState, number>;
  /**
   * A counter that grows whenever a path's status appears or goes, or its volume or
   * state changes: what is derived from those can be kept until it moves.
   */
  revision(): number;
  /** The same for probe facts (last probe time and duration), which change every cycle. */
  probeRevision(): number;
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
  /** Monotonic milliseconds, the clock `asOf` values are on. */
  readonly monotonic?: () => number;
}

interface PathRecord {
  volume: VolumePath;
  status?: PathStatus;
  everMounted: boolean;
  asOf: number;
  firstSeen: number;
  unmountSeenAt?: number;
}

/** The same volume, though perhaps another object: subPaths are found anew every cycle. */
function sameVolume(a: VolumePath, b: VolumePath): boolean {
  if (a === b) return true;
  const s = a.subpath;
  const t = b.subpath;
  const sameSub = s === t || (s !== undefined && t !== undefined && s.volumeName === t.volumeName && s.container === t.container && s.index === t.index);
  return sameSub && a.path === b.path && a.kind === b.kind && a.podUid === b.podUid && a.pv === b.pv && a.volumeId === b.volumeId && a.driver === b.driver;
}

/** How long a removal outlives its path: longer than any cycle, which waits at most for a probe timeout. */
const TOMBSTONE_MS = 10 * 60_000;

export function createPathTracker(opts: TrackerOptions): PathTracker {
  const { logger, now } = opts;
  const confirmMs = opts.unmountConfirmMs ?? 2000;
  const monotonic = opts.monotonic ?? (() => performance.now());
  const records = new Map<string, PathRecord>();
  // When each path was last removed: a cycle that started before the removal
  // must not bring the path (or the volume it was) back with a late verdict.
  const removedAt = new Map<string, number>();
  const transitionListeners: ((t: Transition) => void)[] = [];
  const removeListeners: ((v: VolumePath) => void)[] = [];
  let revision = 0;
  let probeRevision = 0;

  /** The path's record, or undefined when `asOf` predates its removal. */
  const recordOf = (volume: VolumePath, asOf: number): PathRecord | undefined => {
    let r = records.get(volume.path);
    if (!r) {
      const gone = removedAt.get(volume.path);
      if (gone !== undefined) {
        if (asOf <= gone) return undefined;
        removedAt.delete(volume.path);
      }
      r = { volume, everMounted: false, asOf: -Infinity, firstSeen: asOf };
      records.set(volume.path, r);
    } else if (r.volume !== volume) {
      r.volume = volume;
    }
    return r;
  };

  return {
    observe(volume, verdict, asOf, probe) {
      const r = recordOf(volume, asOf);
      if (!r || asOf < r.asOf) return undefined;
      const prev = r.status;
      const hold = unmountHold({ verdict: verdict.state, previous: prev?.state, everMounted: r.everMounted, unmountSeenAt: r.unmountSeenAt, asOf, confirmMs });
      r.unmountSeenAt = hold.hold ? hold.unmountSeenAt : undefined;
      if (hold.hold) return hold.recheckInMs;
      r.asOf = asOf;
      const at = now();
      const changed = !prev || prev.state !== verdict.state;
      if (changed || !sameVolume(prev.volume, volume)) revision++;
      if (probe) probeRevision++;
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
        if (healthValue(verdict.state) !== 0) logger.info('volume path state', fields);
        else logger.warn('volume path state', fields);
        for (const l of transitionListeners) l(t);
      }
      return undefined;
    },
    probed(path, probe) {
      const r = records.get(path);
      if (!r?.status) return;
      r.status = { ...r.status, lastProbeAt: probe.at, lastProbeMs: probe.ms, source: probe.source };
      probeRevision++;
    },
    markMounted(volume, asOf) {
      const r = recordOf(volume, asOf);
      if (r) r.everMounted = true;
    },
    everMounted: (path) => records.get(path)?.everMounted ?? false,
    firstSeen: (path) => records.get(path)?.firstSeen,
    remove(path, why) {
      const t = monotonic();
      removedAt.set(path, t);
      if (removedAt.size > 1000) {
        for (const [p, at] of removedAt) if (t - at > TOMBSTONE_MS) removedAt.delete(p);
      }
      const r = records.get(path);
      if (!r) return;
      records.delete(path);
      if (r.status) {
        revision++;
        logger.info('volume path removed', { path, pod_uid: r.volume.podUid, pv: r.volume.pv, why });
      }
      for (const l of removeListeners) l(r.volume);
    },
    get: (path) => records.get(path)?.status,
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
    revision: () => revision,
    probeRevision: () => probeRevision,
    onTransition: (l) => void transitionListeners.push(l),
    onRemove: (l) => void removeListeners.push(l),
  };
}

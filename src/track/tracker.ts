// What each path is, since when, and what changed: the states the cycle
// records, their transitions, and nothing else. Whether a verdict is recorded,
// and when a path goes, is the lifecycle's to say (lifecycle/); the tracker
// hears of a removal and drops the path. Everything the metrics, /status and
// `check` show is read from here.

import type { PathRemovals } from '../lifecycle/path-lifecycle.js';
import type { Logger } from '../log/logger.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { healthValue, type PathState, type PathStatus, type Transition, type VolumePath } from '../types.js';
import type { Verdict } from '../classify/verdict.js';

export type { Transition } from '../types.js';

export interface ProbeFacts {
  readonly at: number;
  readonly ms: number;
  readonly source: string;
}

export interface PathTracker {
  /** Records a verdict the lifecycle admitted; a new state is a transition. */
  record(volume: VolumePath, verdict: Verdict, probe?: ProbeFacts): void;
  /** Records a probe that gave no verdict, so /status still shows when it ran. */
  probed(path: string, probe: ProbeFacts): void;
  get(path: string): PathStatus | undefined;
  list(): PathStatus[];
  counts(): Map<PathState, number>;
  /**
   * A counter that grows whenever a path's status appears or goes, or its volume or
   * state changes: what is derived from those can be kept until it moves.
   */
  revision(): number;
  /** The same for probe facts (last probe time and duration), which change every cycle. */
  probeRevision(): number;
  onTransition(listener: (t: Transition) => void): void;
}

export interface TrackerOptions {
  readonly logger: Logger;
  /** The wall clock of `since` and of transitions. */
  readonly clock?: Clock;
  /** Where removals are heard of: the paths' lifecycle. */
  readonly removals: PathRemovals;
}

/** The same volume, though perhaps another object: subPaths are found anew every cycle. */
function sameVolume(a: VolumePath, b: VolumePath): boolean {
  if (a === b) return true;
  const s = a.subpath;
  const t = b.subpath;
  const sameSub = s === t || (s !== undefined && t !== undefined && s.volumeName === t.volumeName && s.container === t.container && s.index === t.index);
  return sameSub && a.path === b.path && a.kind === b.kind && a.podUid === b.podUid && a.pv === b.pv && a.volumeId === b.volumeId && a.driver === b.driver;
}

export function createPathTracker(opts: TrackerOptions): PathTracker {
  const { logger } = opts;
  const clock = opts.clock ?? systemClock;
  const statuses = new Map<string, PathStatus>();
  const transitionListeners: ((t: Transition) => void)[] = [];
  let revision = 0;
  let probeRevision = 0;

  opts.removals.onRemove((volume, why) => {
    if (!statuses.delete(volume.path)) return;
    revision++;
    logger.info('volume path removed', { path: volume.path, pod_uid: volume.podUid, pv: volume.pv, why });
  });

  return {
    record(volume, verdict, probe) {
      const prev = statuses.get(volume.path);
      const at = clock.now();
      const changed = !prev || prev.state !== verdict.state;
      if (changed || !sameVolume(prev.volume, volume)) revision++;
      if (probe) probeRevision++;
      statuses.set(volume.path, {
        volume,
        state: verdict.state,
        detail: verdict.detail,
        since: changed ? at : prev.since,
        lastProbeAt: probe?.at ?? prev?.lastProbeAt,
        lastProbeMs: probe?.ms ?? prev?.lastProbeMs,
        source: probe?.source ?? prev?.source,
      });
      if (!changed) return;
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
    },
    probed(path, probe) {
      const s = statuses.get(path);
      if (!s) return;
      statuses.set(path, { ...s, lastProbeAt: probe.at, lastProbeMs: probe.ms, source: probe.source });
      probeRevision++;
    },
    get: (path) => statuses.get(path),
    list: () => [...statuses.values()],
    counts() {
      const m = new Map<PathState, number>();
      for (const s of statuses.values()) m.set(s.state, (m.get(s.state) ?? 0) + 1);
      return m;
    },
    revision: () => revision,
    probeRevision: () => probeRevision,
    onTransition: (l) => void transitionListeners.push(l),
  };
}

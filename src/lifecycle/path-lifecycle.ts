// Each path's life on this node, held here and nowhere else: when this prober
// first saw it, whether it was ever mounted, its publish grace, the hold on an
// unmount, and its removal. The cycle feeds it what discovery, the mount table,
// the inspector and the probes found; it answers with the rules' decisions
// (rules.ts). It alone removes a path (`remove` below), and says so to whoever
// listens: the tracker drops the path's state, Kubernetes mode its events.

import type { Inspection } from '../discovery/path-inspector.js';
import type { PathSet } from '../discovery/path-set.js';
import type { Clock } from '../shared/clock.js';
import type { PathState, VolumePath } from '../types.js';
import { UNPUBLISHED, unmountedOutcome, unmountHold, type UnmountedOutcome } from './rules.js';

/** What becomes of a verdict: recorded now, held back (an unmount being confirmed), or dropped. */
export type Admission =
  | { readonly kind: 'record' }
  /** Look at the path again after this long. */
  | { readonly kind: 'hold'; readonly recheckInMs: number }
  /** Observed before the last recorded verdict, or before the path's removal. */
  | { readonly kind: 'stale' };

/** An unmounted path's outcome once applied: a path kubelet is tearing down has been removed. */
export type UnmountedResult = Exclude<UnmountedOutcome, { readonly kind: 'remove' }> | { readonly kind: 'removed'; readonly why: string };

/** Removals, as those who keep something per path hear of them. */
export interface PathRemovals {
  onRemove(listener: (volume: VolumePath, why: string) => void): void;
}

export interface PathLifecycle extends PathRemovals {
  /**
   * The paths a cycle looks at: every path discovery found, and the subPaths
   * held here that have left the mount table (so that their unmount is seen).
   * A volume held here that discovery no longer finds was unpublished: it goes.
   */
  reconcile(found: PathSet): PathSet;
  /** These volumes are no longer published (the inventory says so): they go. */
  unpublished(volumes: readonly VolumePath[]): void;
  /** The mount table lists the path, as of `asOf` (monotonic ms). */
  mounted(volume: VolumePath, asOf: number): void;
  /** What a path the mount table does not list is, from its inspection: pending, broken, or (being torn down) removed. */
  unmounted(volume: VolumePath, inspection: Inspection): UnmountedResult;
  /**
   * Whether a verdict observed as of `asOf` (monotonic ms, taken before the
   * mount table read it came from; never the wall clock, which can jump) is
   * recorded now. Verdicts older than the last one recorded, or than the path's
   * removal, are stale.
   */
  admit(volume: VolumePath, state: PathState, asOf: number): Admission;
}

export interface LifecycleOptions {
  readonly clock: Clock;
  readonly publishGraceMs: number;
  /**
   * How long a previously mounted path must stay unmounted before it is reported:
   * kubelet unmounts a volume just before it deletes its directory, and that
   * window must not read as a broken mount.
   */
  readonly unmountConfirmMs?: number;
}

interface Life {
  volume: VolumePath;
  /** Monotonic ms of the first observation. */
  readonly firstSeen: number;
  everMounted: boolean;
  /** `asOf` and state of the last verdict recorded. */
  asOf: number;
  state?: PathState;
  /** Monotonic ms when the unmount being held was first seen. */
  unmountSeenAt?: number;
}

/** How long a removal outlives its path: longer than any cycle, which waits at most for a probe timeout. */
const TOMBSTONE_MS = 10 * 60_000;
const RECORD: Admission = { kind: 'record' };
const STALE: Admission = { kind: 'stale' };

export function createPathLifecycle(opts: LifecycleOptions): PathLifecycle {
  const { clock, publishGraceMs } = opts;
  const confirmMs = opts.unmountConfirmMs ?? 2000;
  const lives = new Map<string, Life>();
  // When each path was last removed: a cycle that started before the removal
  // must not bring the path (or the volume it was) back with a late verdict.
  const removedAt = new Map<string, number>();
  const listeners: ((volume: VolumePath, why: string) => void)[] = [];

  /** The path's life, begun now if need be; undefined when `asOf` predates its removal. */
  const lifeOf = (volume: VolumePath, asOf: number): Life | undefined => {
    let life = lives.get(volume.path);
    if (!life) {
      const gone = removedAt.get(volume.path);
      if (gone !== undefined) {
        if (asOf <= gone) return undefined;
        removedAt.delete(volume.path);
      }
      life = { volume, firstSeen: asOf, everMounted: false, asOf: -Infinity };
      lives.set(volume.path, life);
    } else {
      life.volume = volume;
    }
    return life;
  };

  /** The one place a path is removed. */
  const remove = (path: string, why: string) => {
    const t = clock.monotonic();
    removedAt.set(path, t);
    if (removedAt.size > 1000) {
      for (const [p, at] of removedAt) if (t - at > TOMBSTONE_MS) removedAt.delete(p);
    }
    const life = lives.get(path);
    if (!life) return;
    lives.delete(path);
    for (const l of listeners) l(life.volume, why);
  };

  return {
    reconcile(found) {
      const paths = new Map(found);
      for (const { volume } of [...lives.values()]) {
        if (paths.has(volume.path)) continue;
        // A subPath that left the mount table is inspected like any unmounted path.
        if (volume.kind === 'subpath') paths.set(volume.path, volume);
        else remove(volume.path, UNPUBLISHED);
      }
      return paths;
    },
    unpublished(volumes) {
      for (const v of volumes) remove(v.path, UNPUBLISHED);
    },
    mounted(volume, asOf) {
      const life = lifeOf(volume, asOf);
      if (life) life.everMounted = true;
    },
    unmounted(volume, inspection) {
      const life = lives.get(volume.path);
      const outcome = unmountedOutcome(inspection, {
        everMounted: life?.everMounted ?? false,
        ageMs: 'publishedAt' in inspection ? clock.now() - inspection.publishedAt : 0,
        watchedMs: life === undefined ? 0 : clock.monotonic() - life.firstSeen,
        publishGraceMs,
      });
      if (outcome.kind !== 'remove') return outcome;
      remove(volume.path, outcome.why);
      return { kind: 'removed', why: outcome.why };
    },
    admit(volume, state, asOf) {
      const life = lifeOf(volume, asOf);
      if (!life || asOf < life.asOf) return STALE;
      const hold = unmountHold({ verdict: state, previous: life.state, everMounted: life.everMounted, unmountSeenAt: life.unmountSeenAt, asOf, confirmMs });
      life.unmountSeenAt = hold.hold ? hold.unmountSeenAt : undefined;
      if (hold.hold) return { kind: 'hold', recheckInMs: hold.recheckInMs };
      life.asOf = asOf;
      life.state = state;
      return RECORD;
    },
    onRemove: (l) => void listeners.push(l),
  };
}

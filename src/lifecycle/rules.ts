// A path's life from kubelet's publish to its removal, in one place, so that a
// normal pod start or stop never reads as a broken mount:
//
// - published, never mounted, within --publish-grace: pending (no 0 exported);
// - mounted once, then unmounted: held at its last state for a moment, because
//   kubelet unmounts a volume just before it deletes its directory;
// - removed when it is no longer published (the inventory says so, or discovery
//   no longer finds it) or kubelet is tearing it down (the inspection finds it
//   going).
//
// Pure decisions; the path's lifecycle (path-lifecycle.ts) applies them.

import type { Inspection } from '../discovery/path-inspector.js';
import type { PathState } from '../types.js';
import { formatMs, type Verdict } from '../classify/verdict.js';

/** Bounds of the recheck of a path published and not mounted yet. */
const PENDING_RECHECK_MIN_MS = 250;
const PENDING_RECHECK_MAX_MS = 5000;

/** Why a path's series go when its volume is unpublished or its pod removed. */
export const UNPUBLISHED = 'volume unpublished or pod removed';

export type UnmountedOutcome =
  | { readonly kind: 'remove'; readonly why: string }
  /** `recheckInMs`: look at the path again this soon (a publish in progress). */
  | { readonly kind: 'verdict'; readonly verdict: Verdict; readonly recheckInMs?: number }
  | { readonly kind: 'unknown'; readonly error: unknown };

export interface GraceFacts {
  /** Whether the path has ever been seen mounted. */
  readonly everMounted: boolean;
  /** Since kubelet published it (its directory's mtime, on the wall clock). */
  readonly ageMs: number;
  /** Since this prober first saw it (monotonic): caps the grace should the wall clock step back. */
  readonly watchedMs: number;
  readonly publishGraceMs: number;
}

/** What a path the mount table does not list is, from its inspection. */
export function unmountedOutcome(i: Inspection, f: GraceFacts): UnmountedOutcome {
  switch (i.kind) {
    case 'gone':
      return { kind: 'remove', why: i.why };
    case 'unknown':
      return { kind: 'unknown', error: i.error };
    case 'symlink':
      // Never a publish in progress: no grace.
      return { kind: 'verdict', verdict: { state: 'not_mounted', detail: 'the mount directory is a symlink; it is not followed' } };
    case 'missing':
    case 'unmounted':
      if (!f.everMounted && f.ageMs < f.publishGraceMs && f.watchedMs < f.publishGraceMs) {
        return {
          kind: 'verdict',
          verdict: { state: 'pending', detail: `published ${formatMs(Math.max(0, f.ageMs))} ago, not mounted yet (grace ${formatMs(f.publishGraceMs)})` },
          // kubelet makes the directory, then the driver mounts it, usually within a second or
          // two: look again soon rather than an interval later, less often as the wait grows.
          recheckInMs: Math.min(PENDING_RECHECK_MAX_MS, Math.max(PENDING_RECHECK_MIN_MS, f.ageMs / 2)),
        };
      }
      return {
        kind: 'verdict',
        verdict: i.kind === 'missing' ? { state: 'not_found', detail: 'the mount directory does not exist' } : { state: 'not_mounted', detail: 'nothing is mounted here' },
      };
  }
}

const UNMOUNTED: ReadonlySet<PathState> = new Set(['not_mounted', 'not_found', 'pending']);

export interface HoldFacts {
  readonly verdict: PathState;
  readonly previous: PathState | undefined;
  readonly everMounted: boolean;
  /** Monotonic ms when this unmount was first seen, if it is being held already. */
  readonly unmountSeenAt: number | undefined;
  readonly asOf: number;
  readonly confirmMs: number;
}

export type HoldDecision = { readonly hold: true; readonly unmountSeenAt: number; readonly recheckInMs: number } | { readonly hold: false };

/** Whether an unmount of a path that was mounted and not failing is held back until it is confirmed. */
export function unmountHold(f: HoldFacts): HoldDecision {
  const unmount = f.verdict === 'not_mounted' || f.verdict === 'not_found';
  if (!unmount || !f.everMounted || f.previous === undefined || UNMOUNTED.has(f.previous)) return { hold: false };
  const since = f.unmountSeenAt ?? f.asOf;
  const waited = f.asOf - since;
  return waited < f.confirmMs ? { hold: true, unmountSeenAt: since, recheckInMs: f.confirmMs - waited } : { hold: false };
}

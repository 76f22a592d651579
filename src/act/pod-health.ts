// One pod's JuiceFS volumes in one condition, for a readiness gate: True when
// every path of the pod is healthy, False with the worst path's state when one
// is not. A gate whose condition is missing or False holds the pod out of its
// Service, so the rule errs towards no opinion: `pending` (a path still being
// published) never says False, nor does a `timeout` younger than its grace (a
// slow but living client); orphaned paths have no pod to speak for.

import { UNHEALTHY_STATES, type PathState, type PathStatus, type PodConditionValue, type UnhealthyState } from '../types.js';

export const HEALTHY_REASON = 'VolumesHealthy';

/** `disconnected` → `Disconnected`, `io_error` → `IoError`: a condition reason is CamelCase. */
export function reasonOf(state: PathState): string {
  return state
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** Worst first: the order UNHEALTHY_STATES lists them in (a missing mount before a dead client before a slow one). */
const rank = (s: UnhealthyState) => UNHEALTHY_STATES.indexOf(s);
const isUnhealthy = (s: PathState): s is UnhealthyState => (UNHEALTHY_STATES as readonly string[]).includes(s);

export interface PodHealthRules {
  /** How long a path has been in `timeout`, for the grace (ms). */
  readonly timeoutHeldMs: (path: string) => number;
  readonly timeoutGraceMs: number;
}

/**
 * The condition the pod's paths call for, or undefined when they call for none yet (all
 * pending, a young timeout with the rest healthy, no path at all): the pod keeps what it has.
 */
export function podHealth(paths: readonly PathStatus[], rules: PodHealthRules): PodConditionValue | undefined {
  const live = paths.filter((p) => p.state !== 'orphaned');
  if (live.length === 0) return undefined;
  const bad = live
    .filter((p) => isUnhealthy(p.state) && (p.state !== 'timeout' || rules.timeoutHeldMs(p.volume.path) >= rules.timeoutGraceMs))
    .sort((a, b) => rank(a.state as UnhealthyState) - rank(b.state as UnhealthyState) || (a.volume.path < b.volume.path ? -1 : 1));
  const worst = bad[0];
  if (worst) {
    const more = bad.length > 1 ? `; ${bad.length - 1} more path${bad.length > 2 ? 's' : ''} unhealthy` : '';
    return { status: 'False', reason: reasonOf(worst.state), message: `volume ${worst.volume.pv} at ${worst.volume.path}: ${worst.state} (${worst.detail})${more}` };
  }
  if (live.every((p) => p.state === 'healthy')) {
    return { status: 'True', reason: HEALTHY_REASON, message: `${live.length} JuiceFS path${live.length > 1 ? 's' : ''} healthy` };
  }
  return undefined;
}

/** Whether a pod's condition already says what is wanted (the message may differ: details move every cycle). */
export function sameCondition(a: PodConditionValue | undefined, b: PodConditionValue | undefined): boolean {
  return a !== undefined && b !== undefined && a.status === b.status && a.reason === b.reason;
}

// Whether a pod stuck on a dead JuiceFS mount may be evicted: the safety rails,
// as one pure rule. Evicting helps only when a new pod would get a working
// mount (a mount of the same volume is healthy again on this node) and only a
// controller would recreate the pod; anything else is refused with why.

import type { PathState, PodFacts } from '../types.js';

/** The states a new pod's fresh mount cures: the client is gone or the mount is; a slow client (`timeout`) is not cured. */
export const EVICTABLE_STATES: ReadonlySet<PathState> = new Set<PathState>(['disconnected', 'not_mounted', 'io_error']);

/** Controllers that recreate an evicted pod elsewhere or anew. A DaemonSet's pod would come back to this same node at once, so it is left to the operator. */
const RECREATING = new Set(['ReplicaSet', 'StatefulSet', 'ReplicationController']);

export interface EvictionRules {
  /** How long a path must have been in an evictable state, without a healthy moment (ms). */
  readonly afterMs: number;
  /** Pods of Jobs too (a Job's pod may not be safe to run twice). */
  readonly jobs: boolean;
  /** Pods in kube-system too. */
  readonly kubeSystem: boolean;
}

export interface EvictionCase {
  readonly pod: PodFacts;
  readonly state: PathState;
  /** How long the path has been in an evictable state, without a healthy moment (ms). */
  readonly heldMs: number;
  /** What shows the volume mounts again on this node (another pod's healthy path, a Running mount pod), or undefined. */
  readonly healthyMount: string | undefined;
}

export type EvictionVerdict = { readonly evict: true; readonly why: string } | { readonly evict: false; readonly why: string };

export function evictionVerdict(c: EvictionCase, rules: EvictionRules): EvictionVerdict {
  const no = (why: string): EvictionVerdict => ({ evict: false, why });
  if (!EVICTABLE_STATES.has(c.state)) return no(`${c.state} is not cured by a new mount`);
  if (c.heldMs < rules.afterMs) return no(`${c.state} for ${Math.round(c.heldMs / 1000)}s, under --evict-after`);
  if (c.pod.deleting) return no('the pod is already being deleted');
  if (c.pod.juicefsSystem) return no('a JuiceFS mount pod or CSI node pod');
  if (c.pod.namespace === 'kube-system' && !rules.kubeSystem) return no('a kube-system pod (--evict-kube-system to allow)');
  const kind = c.pod.controllerKind;
  if (kind === '') return no('a bare pod: nothing would recreate it');
  if (kind === 'DaemonSet') return no('a DaemonSet pod');
  if (kind === 'Job' && !rules.jobs) return no('a Job pod (--evict-jobs to allow)');
  if (kind !== 'Job' && !RECREATING.has(kind)) return no(`owned by a ${kind}, not known to recreate it`);
  if (c.healthyMount === undefined) return no('no mount of its volume is healthy on this node: a new pod would not fare better');
  return { evict: true, why: `${c.state} for ${Math.round(c.heldMs / 1000)}s while ${c.healthyMount}` };
}

// Folds the state of a path's JuiceFS mount pod into a probe verdict. A broken
// mount whose mount pod is not Running is explained by that pod; one whose
// mount pod runs keeps the probe's reason (the case upstream documents as "the
// mount pod is running, but the mount point is abnormal").

import { describeMountPod, type MountPodState, type PathState, type VolumePath } from '../types.js';
import type { Verdict } from './verdict.js';

/** Verdicts a dead or missing FUSE client can cause. Unmounted and missing paths are left alone:
 * kubelet's teardown unmounts them while the mount pod goes, and that must not read as a failure. */
const FOLDED: ReadonlySet<PathState> = new Set(['disconnected', 'io_error', 'stale', 'permission_denied', 'timeout', 'error']);

export type MountPodLookup = (volume: VolumePath) => MountPodState | undefined;
export type VerdictFold = (volume: VolumePath, verdict: Verdict) => Verdict;


export function createMountPodFold(lookup: MountPodLookup): VerdictFold {
  return (volume, verdict) => {
    if (!FOLDED.has(verdict.state)) return verdict;
    const pod = lookup(volume);
    if (!pod || pod.running) return verdict;
    return { state: 'mount_pod_not_running', detail: `${describeMountPod(pod)}; ${verdict.detail}` };
  };
}

// A path whose pod the Kubernetes API reports gone: kubelet's orphaned pod
// volume directory, left behind by a force-deleted pod or a failed teardown.
// Whatever the probe found there is kept in the detail, but no workload uses
// the path, so it is `orphaned` (no health series) instead of a live pod's 0.

import type { VolumePath } from '../types.js';
import type { VerdictFold } from './mount-pod.js';

export type PodGone = (podUid: string) => boolean;

export function createOrphanFold(gone: PodGone, next?: VerdictFold): VerdictFold {
  return (volume: VolumePath, verdict) => {
    const v = next ? next(volume, verdict) : verdict;
    if (!gone(volume.podUid)) return v;
    return {
      state: 'orphaned',
      detail: `pod ${volume.podUid} is gone from the Kubernetes API; kubelet has not cleaned up this path (found: ${v.state}${v.detail ? `, ${v.detail}` : ''})`,
    };
  };
}

// The Kubernetes part of a path's /status entry.

import { healthValue, type PathOwner, type PathStatus } from '../types.js';

export function pathKubeStatus(s: PathStatus, owner: PathOwner | undefined): Record<string, unknown> {
  const m = owner?.mountPod;
  return {
    namespace: owner?.namespace || null,
    pod: owner?.pod || null,
    pvc: owner?.pvc || null,
    mount_pod: m ? { namespace: m.namespace, name: m.name, phase: m.phase, running: m.running, why: m.why || null, ...(m.csiNode ? { csi_node: true } : {}) } : null,
    // The case upstream documents and never checks: the mount pod runs, its mount point does not work.
    ...(m?.running && healthValue(s.state) === 0 ? { mount_pod_running_but_path_broken: true } : {}),
  };
}

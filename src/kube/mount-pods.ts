// Which JuiceFS mount pod serves which target path. A mount pod that goes
// away is remembered for the paths it served (as `Deleted`) until another
// mount pod takes them over or the application pod is gone: a path left
// behind by a deleted mount pod is exactly the case to explain.

import type { MountPodState } from '../types.js';
import { targetKey } from './slim.js';
import type { PodRecord } from './types.js';

export interface MountPodIndex {
  /** Replaces everything with a fresh list's mount pods. */
  reset(pods: readonly PodRecord[]): void;
  upsert(pod: PodRecord): void;
  remove(pod: PodRecord): void;
  /** Forgets the targets of an application pod that is gone. */
  forgetApp(appUid: string): void;
  lookup(appUid: string, pv: string): MountPodState | undefined;
  size(): number;
}

interface Served {
  readonly mountUid: string;
  readonly state: MountPodState;
}

function stateOf(pod: PodRecord): MountPodState {
  return { namespace: pod.namespace, name: pod.name, phase: pod.phase, running: pod.mount?.running ?? false, why: pod.mount?.why ?? '' };
}

export function createMountPodIndex(): MountPodIndex {
  const byTarget = new Map<string, Served>();
  const targetsOf = new Map<string, Set<string>>();

  const drop = (uid: string, deleted: PodRecord | undefined) => {
    for (const key of targetsOf.get(uid) ?? []) {
      const s = byTarget.get(key);
      if (s?.mountUid !== uid) continue;
      if (deleted) byTarget.set(key, { mountUid: uid, state: { ...stateOf(deleted), phase: 'Deleted', running: false, why: '' } });
      else byTarget.delete(key);
    }
    targetsOf.delete(uid);
  };

  const upsert = (pod: PodRecord) => {
    if (!pod.mount) return;
    const keys = new Set<string>();
    for (const t of pod.mount.targets) {
      const k = targetKey(t);
      if (k) keys.add(k);
    }
    // Targets this pod no longer lists are no longer its own.
    for (const old of targetsOf.get(pod.uid) ?? []) {
      if (!keys.has(old) && byTarget.get(old)?.mountUid === pod.uid) byTarget.delete(old);
    }
    const state = stateOf(pod);
    for (const k of keys) byTarget.set(k, { mountUid: pod.uid, state });
    targetsOf.set(pod.uid, keys);
  };

  return {
    reset(pods) {
      byTarget.clear();
      targetsOf.clear();
      for (const p of pods) upsert(p);
    },
    upsert,
    remove: (pod) => drop(pod.uid, pod),
    forgetApp(appUid) {
      const prefix = `${appUid}/`;
      for (const key of byTarget.keys()) if (key.startsWith(prefix)) byTarget.delete(key);
    },
    lookup: (appUid, pv) => byTarget.get(`${appUid}/${pv}`)?.state,
    size: () => targetsOf.size,
  };
}

// What the prober keeps of the Kubernetes objects it watches: small, plain,
// and free of the API types, which stay in slim.ts.

import type { PodConditionValue } from '../types.js';

export interface PodRecord {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly phase: string;
  readonly deleting: boolean;
  /** Pod volume name → PersistentVolumeClaim name. */
  readonly claims: ReadonlyMap<string, string>;
  /** Pod volume names of inline CSI volumes (published under that name, no claim). */
  readonly inline: ReadonlySet<string>;
  /** Set for JuiceFS mount pods: the target paths they serve, and what the mount pod's state is. */
  readonly mount?: MountPodRecord;
  /** Set for the JuiceFS CSI node pod: whether it runs the node's JuiceFS clients itself
   * (process mount mode, `--by-process=true`: no mount pods), and its state. */
  readonly csiNode?: CsiNodeRecord;
  /** Kind of the controller that owns the pod (ReplicaSet, StatefulSet, ...); '' for a bare pod. */
  readonly controllerKind: string;
  /** The pod's conditions of qualified types (`prefix/name`, the ones readiness gates use). */
  readonly conditions: ReadonlyMap<string, PodConditionValue>;
}

export interface CsiNodeRecord {
  readonly byProcess: boolean;
  readonly running: boolean;
  readonly why: string;
}

export interface MountPodRecord {
  readonly targets: readonly string[];
  readonly running: boolean;
  /** A waiting or terminated container's reason, when not running. */
  readonly why: string;
}

export type EventType = 'Warning' | 'Normal';

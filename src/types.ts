// Domain types shared across modules. Kubernetes and kernel formats stay inside
// the adapters that read them; everything else speaks these.

/** A published JuiceFS path on this node: the CSI target or a kubelet subPath bind mount. */
export interface VolumePath {
  /** Absolute mount point path, as the mount table spells it. */
  readonly path: string;
  readonly kind: 'volume' | 'subpath';
  readonly podUid: string;
  /** Directory name under `kubernetes.io~csi`: the PV name (or the inline volume's name). */
  readonly pv: string;
  /** `volumeHandle` from vol_data.json; empty when a subPath cannot be tied to a volume. */
  readonly volumeId: string;
  readonly driver: string;
  /** For subPath mounts: `volume-subpaths/<volumeName>/<container>/<index>`. */
  readonly subpath?: { readonly volumeName: string; readonly container: string; readonly index: string };
}

export const UNHEALTHY_STATES = [
  'not_mounted',
  'not_found',
  'wrong_fstype',
  'disconnected',
  'io_error',
  'stale',
  'permission_denied',
  'timeout',
  'error',
  'mount_pod_not_running',
] as const;

export type UnhealthyState = (typeof UNHEALTHY_STATES)[number];
/**
 * `orphaned`: the path's pod is gone from the Kubernetes API, kubelet has not cleaned up its
 * volume directory yet (or never will). No workload uses it, so it has no health either way.
 */
export type PathState = 'healthy' | 'pending' | 'orphaned' | UnhealthyState;
export const ALL_STATES: readonly PathState[] = ['healthy', 'pending', 'orphaned', ...UNHEALTHY_STATES];

/** 1 healthy, 0 unhealthy, undefined while pending (no 0 during the publish grace) or orphaned (no pod to be unhealthy for). */
export function healthValue(state: PathState): 0 | 1 | undefined {
  if (state === 'healthy') return 1;
  if (state === 'pending' || state === 'orphaned') return undefined;
  return 0;
}

/** What the daemon currently believes about one path. */
export interface PathStatus {
  readonly volume: VolumePath;
  readonly state: PathState;
  /** Why, in words: errno text, the mount type found, how long a probe has been blocked. */
  readonly detail: string;
  /** Epoch ms since which `state` holds. */
  readonly since: number;
  /** Epoch ms of the last completed or timed-out probe, if any. */
  readonly lastProbeAt?: number;
  readonly lastProbeMs?: number;
  /** The mount source (device and root) the path was probed through. */
  readonly source?: string;
}

/** The JuiceFS mount pod serving a path, as far as the Kubernetes API tells (Kubernetes mode only). */
export interface MountPodState {
  readonly namespace: string;
  readonly name: string;
  /** Pod phase, or `Deleted` once the pod is gone. */
  readonly phase: string;
  readonly running: boolean;
  /** Why it is not running (container waiting/terminated reason), or ''. */
  readonly why: string;
  /** The CSI node pod, which runs the JuiceFS clients itself in process mount mode (there are no mount pods). */
  readonly csiNode?: boolean;
}

/** Who a path belongs to, from the Kubernetes API; fields are '' when unknown. */
export interface PathOwner {
  readonly namespace: string;
  readonly pod: string;
  readonly pvc: string;
  readonly mountPod?: MountPodState;
}

/** A mount pod's state in words, for verdict details and events. */
export function describeMountPod(m: MountPodState): string {
  const pod = m.csiNode ? `CSI node pod ${m.namespace}/${m.name} (process mount mode)` : `mount pod ${m.namespace}/${m.name}`;
  if (m.running) return `${pod} is Running`;
  return `${pod} is not running (${m.phase}${m.why ? `, ${m.why}` : ''})`;
}

/** A path's change of state, as the tracker announces it. */
export interface Transition {
  readonly volume: VolumePath;
  readonly from: PathState | undefined;
  readonly to: PathState;
  readonly detail: string;
  readonly at: number;
}

/** A pod condition as the API holds it. */
export interface PodConditionValue {
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/** What the opt-in actions (pod condition, eviction) know of an application pod, from the API. */
export interface PodFacts {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** Kind of the controller that owns the pod (ReplicaSet, StatefulSet, Job, ...); '' for a bare pod. */
  readonly controllerKind: string;
  /** A JuiceFS mount pod or the CSI node pod: the mount's own side, never acted on. */
  readonly juicefsSystem: boolean;
  readonly deleting: boolean;
  /** The pod's conditions of qualified types (`prefix/name`), by type. */
  readonly conditions: ReadonlyMap<string, PodConditionValue>;
}

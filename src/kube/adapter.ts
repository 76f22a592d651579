// The Kubernetes adapter as the rest of the prober sees it, in two narrow
// interfaces: what it tells the cycle (KubeEnrichment: who a path belongs to,
// which mount pod serves it, whether its pod is gone, how a pod volume is
// published, and when any of that changes) and what it is told (KubeEvents:
// transitions and removals, output only); and, for the opt-in actions only,
// what they may read and do (KubeActions). Our own types only; the API's stay
// inside kube/.

import type { EventType } from './types.js';
import type { MountPodState, PathOwner, PodConditionValue, PodFacts, Transition, VolumePath } from '../types.js';

export interface KubeCounters {
  readonly lists: number;
  readonly watchFailures: number;
  readonly claimErrors: number;
  /** Configuration loads that could not get credentials (an exec plugin or auth provider failed). */
  readonly authErrors: number;
  readonly events: ReadonlyMap<string, number>;
}

/** What the Kubernetes API adds to the cycle's verdicts and to what is shown of each path. */
export interface KubeEnrichment {
  owner(volume: VolumePath): PathOwner | undefined;
  /** A counter that grows whenever `owner` may answer differently for some path. */
  ownerRevision(): number;
  mountPodOf(volume: VolumePath): MountPodState | undefined;
  /**
   * Whether the API reports the pod gone: the watch saw it deleted, or a current cache has gone
   * without it for `orphanAfterMs`. Never while stale or before the first list, and never on a
   * cache with no pod at all (this prober's own pod runs on the node: none means a wrong --node-name).
   */
  podGone(podUid: string): boolean;
  /** See PodCache.publishedAs; undefined until the first list. */
  publishedAs(podUid: string, volumeName: string): string | null | undefined;
  /** A mount pod changed (or the cache was rebuilt): verdicts may read differently now. */
  onMountPodChange(listener: () => void): void;
}

/** What the prober tells the Kubernetes API: events, never anything it waits on. */
export interface KubeEvents {
  /** Queues the event a state change calls for, if any. Returns at once. */
  transition(t: Transition): void;
  pathRemoved(volume: VolumePath): void;
}

/** What an eviction came to: done, refused for now (a PodDisruptionBudget: 429), or the pod is no longer the one asked about. */
export type EvictOutcome = { readonly result: 'evicted' } | { readonly result: 'refused'; readonly retryAfterMs: number; readonly message: string } | { readonly result: 'gone' };

/** The opt-in actions' view: the pods, and the two writes (--pod-condition, --evict-after). */
export interface KubeActions {
  podFacts(podUid: string): PodFacts | undefined;
  /** Listed and not stale: the only view worth acting on. */
  current(): boolean;
  mountPodOf(volume: VolumePath): MountPodState | undefined;
  /** Sets one condition on the pod's status; `transition`: its status changes (lastTransitionTime moves). Rejects on failure. */
  setPodCondition(pod: PodFacts, type: string, value: PodConditionValue, transition: boolean): Promise<void>;
  /** Through the Eviction API (never a delete); rejects on a failure that may pass. */
  evict(pod: PodFacts): Promise<EvictOutcome>;
  /** Queues an Event on the pod, like the transitions' events. */
  podEvent(e: { podUid: string; subject: string; type: EventType; reason: string; message: string }): void;
  /** Any pod on the node changed: a condition may be due. */
  onPodsChange(listener: () => void): void;
}

/** The adapter: both sides, and its own life and state. */
export interface Kube extends KubeEnrichment, KubeEvents, KubeActions {
  start(): void;
  stop(): void;
  /** Listed, current, and every claim read: labels are as complete as they will get. */
  settled(): boolean;
  isStale(): boolean;
  /** Why credentials cannot be had (the configuration loader's last word), or undefined while they can. */
  authError(): string | undefined;
  counters(): KubeCounters;
  status(): KubeStatus;
}

/** The adapter's own state, for /status. */
export interface KubeStatus {
  readonly source: string;
  readonly server: string;
  readonly stale: boolean;
  readonly synced: boolean;
  readonly last_error: string | null;
  /** Why credentials cannot be had (an exec plugin failed), or null. */
  readonly auth_error?: string | null;
  readonly resource_version: string;
  readonly pods: number;
  readonly mount_pods: number;
  /** queued, and sent events by type/result. */
  readonly events: Readonly<Record<string, number>>;
}

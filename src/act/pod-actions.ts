// The opt-in actions, after the tracker: a readiness-gate condition on each
// pod with a JuiceFS path on this node (--pod-condition, condition-writer.ts),
// and the eviction of a pod stuck on a dead mount (--evict-after, evictor.ts).
// Both read the tracker's states and the pod cache, never the mounts, and act
// only on a current cache: here each pod's paths are handed to them after
// every cycle and soon after any path or pod changes.

import type { KubeActions } from '../kube/adapter.js';
import type { Logger } from '../log/logger.js';
import type { BackoffPolicy } from '../shared/backoff.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { PathStatus, Transition, VolumePath } from '../types.js';
import { createConditionWriter, type ConditionOptions, type ConditionResult } from './condition-writer.js';
import { createEvictor, type EvictOptions } from './evictor.js';
import { createHeldStates } from './held-states.js';

export type { ConditionOptions } from './condition-writer.js';
export type { EvictOptions } from './evictor.js';
export { REASON_EVICTED, REASON_WOULD_EVICT } from './evictor.js';

export interface PodActionsOptions {
  readonly api: KubeActions;
  readonly paths: () => readonly PathStatus[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly condition?: ConditionOptions;
  readonly evict?: EvictOptions;
  /** Between failed writes for one pod, and after a disruption budget's refusal. */
  readonly retry?: BackoffPolicy;
}

/** The actions as /status shows them. */
export interface ActionsStatus {
  readonly pod_condition: string | null;
  readonly evict: { readonly mode: EvictOptions['mode']; readonly after_s: number; readonly max: number; readonly window_s: number; readonly jobs: boolean; readonly kube_system: boolean } | null;
  /** Writes sent and not yet answered. */
  readonly pending: number;
  /** Evictions (dry-run ones too) in the current window. */
  readonly in_window: number;
  readonly condition_writes: Readonly<Record<string, number>>;
  /** By `result/reason`. */
  readonly evictions: Readonly<Record<string, number>>;
}

export interface PodActions {
  /** Keeps how long each path has been in its state; asks for a look soon. */
  transition(t: Transition): void;
  pathRemoved(volume: VolumePath): void;
  /** Looks at every pod now: conditions due, evictions due. */
  reconcile(): void;
  /** Writes sent and not yet answered. */
  pending(): number;
  /** Condition writes by result; evictions by result and the path state behind them (`result\0reason`). */
  counters(): { conditions: ReadonlyMap<ConditionResult, number>; evictions: ReadonlyMap<string, number> };
  status(): ActionsStatus;
  stop(): void;
}

const NONE: ReadonlyMap<never, number> = new Map<never, number>();

export function createPodActions(o: PodActionsOptions): PodActions {
  const { api, clock, logger } = o;
  const held = createHeldStates(clock);
  const shared = { held, clock, logger, ...(o.retry ? { retry: o.retry } : {}) };
  const writer = o.condition ? createConditionWriter({ api, options: o.condition, ...shared, again: () => soon() }) : undefined;
  const evictor = o.evict ? createEvictor({ api, options: o.evict, ...shared }) : undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;

  const reconcile = () => {
    if (stopped || !api.current()) return;
    const all = o.paths();
    const byPod = new Map<string, PathStatus[]>();
    for (const s of all) {
      const list = byPod.get(s.volume.podUid);
      if (list) list.push(s);
      else byPod.set(s.volume.podUid, [s]);
    }
    for (const [uid, paths] of byPod) {
      const pod = api.podFacts(uid);
      if (!pod) continue;
      writer?.look(pod, paths);
      evictor?.look(pod, paths, all);
    }
    // Pods with no path left on the node are forgotten.
    const alive = (uid: string) => byPod.has(uid);
    writer?.keep(alive);
    evictor?.keep(alive);
  };
  const soon = () => {
    if (stopped || timer !== undefined) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      reconcile();
    }, 0);
  };
  if (writer || evictor) api.onPodsChange(soon);
  const pending = () => (writer?.pending() ?? 0) + (evictor?.pending() ?? 0);

  return {
    transition(t) {
      held.transition(t);
      soon();
    },
    pathRemoved: (v) => held.remove(v.path),
    reconcile,
    pending,
    counters: () => ({ conditions: writer?.counts() ?? NONE, evictions: evictor?.counts() ?? NONE }),
    status() {
      const e = o.evict;
      return {
        pod_condition: o.condition?.type ?? null,
        evict: e ? { mode: e.mode, after_s: e.afterMs / 1000, max: e.max, window_s: e.windowMs / 1000, jobs: e.jobs, kube_system: e.kubeSystem } : null,
        pending: pending(),
        in_window: evictor?.inWindow() ?? 0,
        condition_writes: Object.fromEntries(writer?.counts() ?? NONE),
        evictions: Object.fromEntries([...(evictor?.counts() ?? NONE)].map(([k, n]) => [k.replace('\u0000', '/'), n])),
      };
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}

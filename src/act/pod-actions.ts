// The opt-in actions, after the tracker: a readiness-gate condition on each
// pod with a JuiceFS path on this node (--pod-condition), and the eviction of
// a pod stuck on a dead mount (--evict-after). Both read the tracker's states
// and the pod cache, never the mounts, and act only on a current cache; both
// write only on a change, one request per pod at a time, off the probe path.
//
// How long a path has been in a state is kept here, from the transitions:
// a single healthy moment starts the count again, so a flapping path never
// reaches --evict-after.

import { errorMessage } from '../errors.js';
import type { KubeActions } from '../kube/adapter.js';
import type { Logger } from '../log/logger.js';
import { createBackoff, type Backoff, type BackoffPolicy } from '../shared/backoff.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { PathState, PathStatus, PodConditionValue, PodFacts, Transition, VolumePath } from '../types.js';
import { EVICTABLE_STATES, evictionVerdict, type EvictionRules } from './eviction-policy.js';
import { podHealth, sameCondition } from './pod-health.js';

export const REASON_EVICTED = 'VolumePathPodEvicted';
export const REASON_WOULD_EVICT = 'VolumePathPodWouldEvict';

export interface ConditionOptions {
  /** The condition type, a qualified name (`prefix/name`) for `readinessGates`. */
  readonly type: string;
  /** How long a path stays `timeout` before the condition goes False (ms). */
  readonly timeoutGraceMs: number;
}

export interface EvictOptions extends EvictionRules {
  readonly mode: 'on' | 'dry-run';
  /** At most this many evictions (or dry-run ones) per node in `windowMs`. */
  readonly max: number;
  readonly windowMs: number;
}

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

export type ConditionResult = 'written' | 'failed';
export type EvictionResult = 'evicted' | 'dry_run' | 'refused' | 'limited' | 'gone' | 'failed';

export interface PodActions {
  /** Keeps how long each path has been in its state; asks for a look soon. */
  transition(t: Transition): void;
  pathRemoved(volume: VolumePath): void;
  /** Looks at every pod now: conditions due, evictions due. */
  reconcile(): void;
  /** Writes sent and not yet answered. */
  pending(): number;
  /** Condition writes by result; evictions by result and the path state behind them. */
  counters(): { conditions: ReadonlyMap<ConditionResult, number>; evictions: ReadonlyMap<string, number> };
  status(): ActionsStatus;
  stop(): void;
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

export const ACTION_RETRY: BackoffPolicy = { initialMs: 5000, maxMs: 5 * 60_000 };

type Held = { kind: 'evictable' | 'timeout'; since: number };
const heldKind = (s: PathState): Held['kind'] | undefined => (EVICTABLE_STATES.has(s) ? 'evictable' : s === 'timeout' ? 'timeout' : undefined);

interface Retry {
  at: number;
  backoff: Backoff;
}

export function createPodActions(o: PodActionsOptions): PodActions {
  const { api, clock, logger } = o;
  const held = new Map<string, Held>();
  // Conditions: what was written and what the pod showed then (until the watch shows ours).
  const written = new Map<string, { value: PodConditionValue; base: PodConditionValue | undefined }>();
  const writing = new Set<string>();
  // Evictions: pods acted on in this bad spell, pods whose request is out, and the node's window.
  const acted = new Set<string>();
  const evicting = new Set<string>();
  const limited = new Set<string>();
  const window: number[] = [];
  const retries = new Map<string, Retry>();
  // Said once per pod and kind until the pod is gone: `kind/uid`.
  const noted = new Set<string>();
  const conditionCounts = new Map<ConditionResult, number>();
  const evictionCounts = new Map<string, number>();
  let timer: TimerHandle | undefined;
  let stopped = false;

  const count = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
  const heldMs = (path: string, kind: Held['kind']) => {
    const h = held.get(path);
    return h?.kind === kind ? clock.monotonic() - h.since : 0;
  };
  const due = (key: string) => (retries.get(key)?.at ?? 0) <= clock.monotonic();
  const later = (key: string, atLeastMs = 0) => {
    const r = retries.get(key) ?? { at: 0, backoff: createBackoff(o.retry ?? ACTION_RETRY) };
    r.at = clock.monotonic() + Math.max(atLeastMs, r.backoff.next() ?? 0);
    retries.set(key, r);
  };
  const soon = () => {
    if (stopped || timer !== undefined) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      reconcile();
    }, 0);
  };
  const who = (pod: PodFacts) => `${pod.namespace}/${pod.name}`;
  const note = (kind: string, pod: PodFacts, level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => {
    const key = `${kind}/${pod.uid}`;
    if (noted.has(key)) return;
    noted.add(key);
    logger[level](msg, { pod: who(pod), ...fields });
  };

  const condition = (c: ConditionOptions, pod: PodFacts, paths: readonly PathStatus[]) => {
    const want = podHealth(paths, { timeoutHeldMs: (p) => heldMs(p, 'timeout'), timeoutGraceMs: c.timeoutGraceMs });
    if (!want) return;
    const have = pod.conditions.get(c.type);
    if (sameCondition(have, want)) {
      written.delete(pod.uid);
      return;
    }
    const w = written.get(pod.uid);
    // Ours is written, the watch has not shown it yet: the pod still shows what it showed then.
    if (w && sameCondition(w.value, want) && (w.base === have || sameCondition(w.base, have))) return;
    const key = `condition/${pod.uid}`;
    if (writing.has(pod.uid) || !due(key)) return;
    writing.add(pod.uid);
    api
      .setPodCondition(pod, c.type, want, have?.status !== want.status)
      .then(
        () => {
          retries.delete(key);
          written.set(pod.uid, { value: want, base: have });
          count(conditionCounts, 'written');
          logger.forget('pod-condition-failed');
          if (have?.status !== want.status) logger.info('pod condition set', { pod: who(pod), condition: c.type, status: want.status, reason: want.reason, message: want.message });
        },
        (err: unknown) => {
          later(key);
          count(conditionCounts, 'failed');
          logger.once('pod-condition-failed', 'warn', 'cannot set the pod condition; tried again later (logged once until one succeeds)', { pod: who(pod), condition: c.type, error: errorMessage(err) });
        },
      )
      .finally(() => writing.delete(pod.uid));
  };

  /** What shows this path's volume mounts again on the node: another pod's healthy path of it, or its Running, Ready mount pod. */
  const healthyMount = (p: PathStatus, all: readonly PathStatus[]): string | undefined => {
    const id = p.volume.volumeId;
    const other = id ? all.find((q) => q.state === 'healthy' && q.volume.volumeId === id && q.volume.podUid !== p.volume.podUid) : undefined;
    if (other) return `pod ${other.volume.podUid}'s path of the same volume is healthy`;
    const m = api.mountPodOf(p.volume);
    if (m && m.running && !m.csiNode) return `mount pod ${m.namespace}/${m.name} is Running and Ready`;
    return undefined;
  };

  const evictions = (e: EvictOptions, pod: PodFacts, paths: readonly PathStatus[], all: readonly PathStatus[]) => {
    if (paths.every((p) => !EVICTABLE_STATES.has(p.state))) {
      // The bad spell is over: a new one is judged, and may be acted on, afresh.
      acted.delete(pod.uid);
      noted.delete(`skip/${pod.uid}`);
      return;
    }
    if (acted.has(pod.uid) || evicting.has(pod.uid) || !due(`evict/${pod.uid}`)) return;
    for (const p of paths) {
      if (!EVICTABLE_STATES.has(p.state)) continue;
      const ms = heldMs(p.volume.path, 'evictable');
      if (ms < e.afterMs) continue;
      const verdict = evictionVerdict({ pod, state: p.state, heldMs: ms, healthyMount: healthyMount(p, all) }, e);
      if (!verdict.evict) {
        note('skip', pod, 'info', 'not evicting a pod on a dead JuiceFS mount', { path: p.volume.path, state: p.state, why: verdict.why });
        continue;
      }
      act(e, pod, p, verdict.why);
      return;
    }
  };

  const act = (e: EvictOptions, pod: PodFacts, p: PathStatus, why: string) => {
    const t = clock.monotonic();
    while (window.length > 0 && window[0]! <= t - e.windowMs) window.shift();
    if (window.length >= e.max) {
      if (!limited.has(pod.uid)) {
        limited.add(pod.uid);
        count(evictionCounts, `limited\u0000${p.state}`);
      }
      logger.once('evict-limit', 'warn', 'eviction limit reached on this node; the rest wait for the window', { max: e.max, window_s: e.windowMs / 1000, pod: who(pod) });
      return;
    }
    limited.delete(pod.uid);
    window.push(t);
    const subject = p.volume.path;
    const message = `volume ${p.volume.pv} at ${p.volume.path}: ${why}`;
    if (e.mode === 'dry-run') {
      acted.add(pod.uid);
      count(evictionCounts, `dry_run\u0000${p.state}`);
      api.podEvent({ podUid: pod.uid, subject, type: 'Normal', reason: REASON_WOULD_EVICT, message: `would evict (--evict=dry-run): ${message}` });
      logger.info('would evict a pod on a dead JuiceFS mount (dry run)', { pod: who(pod), path: subject, state: p.state, why });
      return;
    }
    evicting.add(pod.uid);
    const key = `evict/${pod.uid}`;
    api
      .evict(pod)
      .then(
        (r) => {
          count(evictionCounts, `${r.result}\u0000${p.state}`);
          if (r.result === 'refused') {
            window.pop();
            later(key, r.retryAfterMs);
            note('refused', pod, 'info', 'eviction refused for now (a disruption budget); tried again later, never deleted', { message: r.message });
            return;
          }
          retries.delete(key);
          acted.add(pod.uid);
          if (r.result === 'gone') return;
          api.podEvent({ podUid: pod.uid, subject, type: 'Warning', reason: REASON_EVICTED, message: `evicted: ${message}` });
          logger.warn('evicted a pod on a dead JuiceFS mount', { pod: who(pod), path: subject, state: p.state, why });
        },
        (err: unknown) => {
          window.pop();
          later(key);
          count(evictionCounts, `failed\u0000${p.state}`);
          note('failed', pod, 'warn', 'cannot evict; tried again later', { error: errorMessage(err) });
        },
      )
      .finally(() => evicting.delete(pod.uid));
  };

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
      if (o.condition) condition(o.condition, pod, paths);
      if (o.evict) evictions(o.evict, pod, paths, all);
    }
    // Pods with no path left on the node are forgotten.
    const gone = (key: string) => !byPod.has(key.slice(key.indexOf('/') + 1));
    for (const uid of written.keys()) if (!byPod.has(uid)) written.delete(uid);
    for (const key of retries.keys()) if (gone(key)) retries.delete(key);
    for (const key of noted) if (gone(key)) noted.delete(key);
    for (const set of [acted, limited]) for (const uid of set) if (!byPod.has(uid)) set.delete(uid);
  };

  if (o.condition || o.evict) api.onPodsChange(soon);

  return {
    transition(t) {
      const kind = heldKind(t.to);
      const h = held.get(t.volume.path);
      if (kind === undefined) held.delete(t.volume.path);
      else if (h?.kind !== kind) held.set(t.volume.path, { kind, since: clock.monotonic() });
      soon();
    },
    pathRemoved(v) {
      held.delete(v.path);
    },
    reconcile,
    pending: () => writing.size + evicting.size,
    counters: () => ({ conditions: conditionCounts, evictions: evictionCounts }),
    status() {
      const e = o.evict;
      const t = clock.monotonic();
      return {
        pod_condition: o.condition?.type ?? null,
        evict: e ? { mode: e.mode, after_s: e.afterMs / 1000, max: e.max, window_s: e.windowMs / 1000, jobs: e.jobs, kube_system: e.kubeSystem } : null,
        pending: writing.size + evicting.size,
        in_window: e ? window.filter((at) => at > t - e.windowMs).length : 0,
        condition_writes: Object.fromEntries(conditionCounts),
        evictions: Object.fromEntries([...evictionCounts].map(([k, n]) => [k.replace('\u0000', '/'), n])),
      };
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}

// Evictions (--evict-after): a pod whose path has been dead past the
// duration is judged by the rails (eviction-policy.ts); one that passes is
// evicted through the Eviction API, or in dry run given a Normal Event, at
// most `max` per window on the node. A disruption budget's refusal is tried
// again later; a pod is acted on once per bad spell.

import { errorMessage } from '../errors.js';
import type { KubeActions } from '../kube/adapter.js';
import type { Logger } from '../log/logger.js';
import type { BackoffPolicy } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';
import type { PathStatus, PodFacts } from '../types.js';
import { EVICTABLE_STATES, evictionVerdict, type EvictionRules } from './eviction-policy.js';
import type { HeldStates } from './held-states.js';
import { createPodRetries } from './pod-retries.js';

export const REASON_EVICTED = 'VolumePathPodEvicted';
export const REASON_WOULD_EVICT = 'VolumePathPodWouldEvict';

export interface EvictOptions extends EvictionRules {
  readonly mode: 'on' | 'dry-run';
  /** At most this many evictions (or dry-run ones) per node in `windowMs`. */
  readonly max: number;
  readonly windowMs: number;
}

export const EVICTION_RESULTS = ['evicted', 'dry_run', 'refused', 'limited', 'gone', 'failed'] as const;
export type EvictionResult = (typeof EVICTION_RESULTS)[number];

export interface Evictor {
  /** `all`: every path on the node, for a healthy mount of the same volume. */
  look(pod: PodFacts, paths: readonly PathStatus[], all: readonly PathStatus[]): void;
  keep(alive: (uid: string) => boolean): void;
  pending(): number;
  /** Evictions (dry-run ones too) in the current window. */
  inWindow(): number;
  /** By `result\0reason`, the reason being the path's state. */
  counts(): ReadonlyMap<string, number>;
}

export function createEvictor(o: {
  api: Pick<KubeActions, 'evict' | 'podEvent' | 'mountPodOf'>;
  options: EvictOptions;
  held: HeldStates;
  clock: Clock;
  logger: Logger;
  retry?: BackoffPolicy;
}): Evictor {
  const { api, clock, logger, options: e } = o;
  const acted = new Set<string>();
  const evicting = new Set<string>();
  const limited = new Set<string>();
  const window: number[] = [];
  const retries = createPodRetries(clock, o.retry);
  // Said once per pod and kind while the pod is on the node: `kind/uid`.
  const noted = new Set<string>();
  const counts = new Map<string, number>();
  const count = (result: EvictionResult, p: PathStatus) => {
    const k = `${result}\u0000${p.state}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  };
  const who = (pod: PodFacts) => `${pod.namespace}/${pod.name}`;
  const note = (kind: string, pod: PodFacts, level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => {
    if (noted.has(`${kind}/${pod.uid}`)) return;
    noted.add(`${kind}/${pod.uid}`);
    logger[level](msg, { pod: who(pod), ...fields });
  };
  const prune = () => {
    const t = clock.monotonic();
    while (window.length > 0 && window[0]! <= t - e.windowMs) window.shift();
  };

  /** What shows the path's volume mounts again on the node: another pod's healthy path of it, or its Running, Ready mount pod. */
  const healthyMount = (p: PathStatus, all: readonly PathStatus[]): string | undefined => {
    const id = p.volume.volumeId;
    const other = id ? all.find((q) => q.state === 'healthy' && q.volume.volumeId === id && q.volume.podUid !== p.volume.podUid) : undefined;
    if (other) return `pod ${other.volume.podUid}'s path of the same volume is healthy`;
    const m = api.mountPodOf(p.volume);
    if (m && m.running && !m.csiNode) return `mount pod ${m.namespace}/${m.name} is Running and Ready`;
    return undefined;
  };

  const act = (pod: PodFacts, p: PathStatus, why: string) => {
    prune();
    if (window.length >= e.max) {
      if (!limited.has(pod.uid)) {
        limited.add(pod.uid);
        count('limited', p);
      }
      logger.once('evict-limit', 'warn', 'eviction limit reached on this node; the rest wait for the window', { max: e.max, window_s: e.windowMs / 1000, pod: who(pod) });
      return;
    }
    limited.delete(pod.uid);
    window.push(clock.monotonic());
    const subject = p.volume.path;
    const message = `volume ${p.volume.pv} at ${p.volume.path}: ${why}`;
    if (e.mode === 'dry-run') {
      acted.add(pod.uid);
      count('dry_run', p);
      api.podEvent({ podUid: pod.uid, subject, type: 'Normal', reason: REASON_WOULD_EVICT, message: `would evict (--evict=dry-run): ${message}` });
      logger.info('would evict a pod on a dead JuiceFS mount (dry run)', { pod: who(pod), path: subject, state: p.state, why });
      return;
    }
    evicting.add(pod.uid);
    api
      .evict(pod)
      .then(
        (r) => {
          count(r.result, p);
          if (r.result === 'refused') {
            window.pop();
            retries.later(pod.uid, r.retryAfterMs);
            note('refused', pod, 'info', 'eviction refused for now (a disruption budget); tried again later, never deleted', { message: r.message });
            return;
          }
          retries.clear(pod.uid);
          acted.add(pod.uid);
          if (r.result === 'gone') return;
          api.podEvent({ podUid: pod.uid, subject, type: 'Warning', reason: REASON_EVICTED, message: `evicted: ${message}` });
          logger.warn('evicted a pod on a dead JuiceFS mount', { pod: who(pod), path: subject, state: p.state, why });
        },
        (err: unknown) => {
          window.pop();
          retries.later(pod.uid);
          count('failed', p);
          note('failed', pod, 'warn', 'cannot evict; tried again later', { error: errorMessage(err) });
        },
      )
      .finally(() => evicting.delete(pod.uid));
  };

  return {
    look(pod, paths, all) {
      if (paths.every((p) => !EVICTABLE_STATES.has(p.state))) {
        // The bad spell is over: a new one is judged, and may be acted on, afresh.
        acted.delete(pod.uid);
        noted.delete(`skip/${pod.uid}`);
        return;
      }
      if (acted.has(pod.uid) || evicting.has(pod.uid) || !retries.due(pod.uid)) return;
      for (const p of paths) {
        if (!EVICTABLE_STATES.has(p.state)) continue;
        const heldMs = o.held.heldMs(p.volume.path, 'evictable');
        if (heldMs < e.afterMs) continue;
        const verdict = evictionVerdict({ pod, state: p.state, heldMs, healthyMount: healthyMount(p, all) }, e);
        if (verdict.evict) return act(pod, p, verdict.why);
        note('skip', pod, 'info', 'not evicting a pod on a dead JuiceFS mount', { path: p.volume.path, state: p.state, why: verdict.why });
      }
    },
    keep(alive) {
      retries.keep(alive);
      for (const set of [acted, limited]) for (const uid of set) if (!alive(uid)) set.delete(uid);
      for (const key of noted) if (!alive(key.slice(key.indexOf('/') + 1))) noted.delete(key);
    },
    pending: () => evicting.size,
    inWindow() {
      prune();
      return window.length;
    },
    counts: () => counts,
  };
}

// When a write for a pod may be tried again: after a failure, on a backoff
// of its own per pod (or later, if the server said when).

import { createBackoff, type Backoff, type BackoffPolicy } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';

/** From 5 s, doubling, to 5 min: a refusing budget or an API server away is not hammered. */
export const ACTION_RETRY: BackoffPolicy = { initialMs: 5000, maxMs: 5 * 60_000 };

export interface PodRetries {
  due(uid: string): boolean;
  /** A failure: not before the backoff's next wait, nor before `atLeastMs`. */
  later(uid: string, atLeastMs?: number): void;
  /** A success: the next failure starts the backoff over. */
  clear(uid: string): void;
  /** Forgets the pods `alive` says are gone. */
  keep(alive: (uid: string) => boolean): void;
}

export function createPodRetries(clock: Clock, policy: BackoffPolicy = ACTION_RETRY): PodRetries {
  const retries = new Map<string, { at: number; backoff: Backoff }>();
  return {
    due: (uid) => (retries.get(uid)?.at ?? 0) <= clock.monotonic(),
    later(uid, atLeastMs = 0) {
      const r = retries.get(uid) ?? { at: 0, backoff: createBackoff(policy) };
      r.at = clock.monotonic() + Math.max(atLeastMs, r.backoff.next() ?? 0);
      retries.set(uid, r);
    },
    clear: (uid) => void retries.delete(uid),
    keep(alive) {
      for (const uid of retries.keys()) if (!alive(uid)) retries.delete(uid);
    },
  };
}

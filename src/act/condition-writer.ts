// The pod condition (--pod-condition): what each pod's paths call for,
// written on pods/status only when its status or reason changes, one request
// per pod at a time. A condition just written is not written again while the
// watch has not yet shown it; one the pod shows otherwise (a restart, another
// writer) is written again. At most a few writes are out at once, so a node
// whose pods all need the condition (the first install) does not burst
// against the API server; the rest follow as those are answered.

import { errorMessage } from '../errors.js';
import type { KubeActions } from '../kube/adapter.js';
import type { Logger } from '../log/logger.js';
import type { BackoffPolicy } from '../shared/backoff.js';
import type { Clock } from '../shared/clock.js';
import type { PathStatus, PodConditionValue, PodFacts } from '../types.js';
import type { HeldStates } from './held-states.js';
import { podHealth, sameCondition } from './pod-health.js';
import { createPodRetries } from './pod-retries.js';

export interface ConditionOptions {
  /** The condition type, a qualified name (`prefix/name`) for `readinessGates`. */
  readonly type: string;
  /** How long a path stays `timeout` before the condition goes False (ms). */
  readonly timeoutGraceMs: number;
}

export const CONDITION_RESULTS = ['written', 'failed'] as const;
export type ConditionResult = (typeof CONDITION_RESULTS)[number];

/** Condition writes out at once, per node. */
export const CONDITION_CONCURRENCY = 4;

export interface ConditionWriter {
  look(pod: PodFacts, paths: readonly PathStatus[]): void;
  keep(alive: (uid: string) => boolean): void;
  pending(): number;
  counts(): ReadonlyMap<ConditionResult, number>;
}

export function createConditionWriter(o: {
  api: Pick<KubeActions, 'setPodCondition'>;
  options: ConditionOptions;
  held: HeldStates;
  clock: Clock;
  logger: Logger;
  retry?: BackoffPolicy;
  /** Asks for another look: a write held back by the concurrency cap may go now. */
  again: () => void;
}): ConditionWriter {
  const { api, logger, options } = o;
  // What was written, and what the pod showed then (until the watch shows ours).
  const written = new Map<string, { value: PodConditionValue; base: PodConditionValue | undefined }>();
  const writing = new Set<string>();
  let heldBack = false;
  const retries = createPodRetries(o.clock, o.retry);
  const counts = new Map<ConditionResult, number>();
  const count = (r: ConditionResult) => counts.set(r, (counts.get(r) ?? 0) + 1);

  return {
    look(pod, paths) {
      const want = podHealth(paths, { timeoutHeldMs: (p) => o.held.heldMs(p, 'timeout'), timeoutGraceMs: options.timeoutGraceMs });
      if (!want) return;
      const have = pod.conditions.get(options.type);
      if (sameCondition(have, want)) {
        written.delete(pod.uid);
        return;
      }
      const w = written.get(pod.uid);
      if (w && sameCondition(w.value, want) && (w.base === have || sameCondition(w.base, have))) return;
      if (writing.has(pod.uid) || !retries.due(pod.uid)) return;
      if (writing.size >= CONDITION_CONCURRENCY) {
        heldBack = true;
        return;
      }
      writing.add(pod.uid);
      const transition = have?.status !== want.status;
      api
        .setPodCondition(pod, options.type, want, transition)
        .then(
          () => {
            retries.clear(pod.uid);
            written.set(pod.uid, { value: want, base: have });
            count('written');
            logger.forget('pod-condition-failed');
            if (transition) logger.info('pod condition set', { pod: `${pod.namespace}/${pod.name}`, condition: options.type, status: want.status, reason: want.reason, message: want.message });
          },
          (err: unknown) => {
            retries.later(pod.uid);
            count('failed');
            logger.once('pod-condition-failed', 'warn', 'cannot set the pod condition; tried again later (logged once until one succeeds)', {
              pod: `${pod.namespace}/${pod.name}`,
              condition: options.type,
              error: errorMessage(err),
            });
          },
        )
        .finally(() => {
          writing.delete(pod.uid);
          if (heldBack) {
            heldBack = false;
            o.again();
          }
        });
    },
    keep(alive) {
      for (const uid of written.keys()) if (!alive(uid)) written.delete(uid);
      retries.keep(alive);
    },
    pending: () => writing.size,
    counts: () => counts,
  };
}

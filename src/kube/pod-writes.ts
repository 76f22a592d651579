// The two writes the opt-in actions make, as the API takes them. A condition
// goes by strategic merge patch on pods/status, which merges conditions by
// type, so kubelet's own (Ready, ContainersReady, ...) are left as they are;
// the pod's uid rides along, and the server refuses the patch (uid is
// immutable) should a new pod have taken the name. An eviction goes through
// the Eviction API with the uid as a precondition, so PodDisruptionBudgets
// decide and a recreated pod of the same name is never the one evicted.

import type { V1Eviction } from '@kubernetes/client-node';
import type { Clock } from '../shared/clock.js';
import type { PodConditionValue, PodFacts } from '../types.js';
import type { EvictOutcome } from './adapter.js';
import type { KubeClient } from './client.js';
import { statusOf } from './resource-watch.js';

const REQUEST_TIMEOUT_MS = 10_000;

export function conditionPatch(pod: PodFacts, type: string, value: PodConditionValue, transition: boolean, now: Date): object {
  return {
    metadata: { uid: pod.uid },
    status: {
      conditions: [
        {
          type,
          status: value.status,
          reason: value.reason,
          message: value.message,
          lastProbeTime: null,
          // Only a change of status is a transition; a new reason or message keeps the time.
          ...(transition ? { lastTransitionTime: now.toISOString().replace(/\.\d+Z$/, 'Z') } : {}),
        },
      ],
    },
  };
}

export function evictionBody(pod: PodFacts): V1Eviction {
  return { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.name, namespace: pod.namespace }, deleteOptions: { preconditions: { uid: pod.uid } } };
}

export function podWrites(client: KubeClient, clock: Clock) {
  const within = <T>(f: (signal: AbortSignal) => Promise<T>) => clock.deadline(REQUEST_TIMEOUT_MS, `no answer from the API server within ${REQUEST_TIMEOUT_MS} ms`, f);
  return {
    async setPodCondition(pod: PodFacts, type: string, value: PodConditionValue, transition: boolean): Promise<void> {
      const body = conditionPatch(pod, type, value, transition, new Date(clock.now()));
      await within((signal) => client.core.patchNamespacedPodStatus({ name: pod.name, namespace: pod.namespace, body }, { signal }));
    },
    async evict(pod: PodFacts): Promise<EvictOutcome> {
      try {
        await within((signal) => client.core.createNamespacedPodEviction({ name: pod.name, namespace: pod.namespace, body: evictionBody(pod) }, { signal }));
        return { result: 'evicted' };
      } catch (err) {
        const code = statusOf(err);
        // 429: a disruption budget says not now; never escalated to a delete.
        if (code === 429) return { result: 'refused', retryAfterMs: (err as { retryAfterMs?: number }).retryAfterMs ?? 0, message: budgetMessage(err) };
        // 404: gone; 409: the uid precondition failed, the name is another pod's now.
        if (code === 404 || code === 409) return { result: 'gone' };
        throw err;
      }
    },
  };
}

function budgetMessage(err: unknown): string {
  try {
    const body = JSON.parse((err as { body?: string }).body ?? '') as { message?: string; details?: { causes?: { message?: string }[] } };
    return [body.message, ...(body.details?.causes ?? []).map((c) => c.message)].filter(Boolean).join(' ');
  } catch {
    return 'refused (429)';
  }
}

// The opt-in actions' series (--pod-condition, --evict-after): what was
// written and what was evicted, for the alert that tells an operator the
// prober acted. Registered only when an action is on.

import { Counter, type Registry } from 'prom-client';
import { CONDITION_RESULTS } from '../act/condition-writer.js';
import { EVICTABLE_STATES } from '../act/eviction-policy.js';
import { EVICTION_RESULTS } from '../act/evictor.js';
import type { PodActions } from '../act/pod-actions.js';
import { follow } from './kube-metrics.js';

export function registerActionMetrics(registry: Registry, counters: PodActions['counters'], on: { condition: boolean; evict: boolean }): void {
  const registers = [registry];
  const seen = new Map<string, number>();
  if (on.condition) {
    new Counter({
      name: 'juicefs_path_prober_pod_condition_writes_total',
      help: 'Writes of the pod condition (--pod-condition) on pods/status, by result: written, failed (tried again on a backoff).',
      labelNames: ['result'],
      registers,
      collect() {
        for (const result of CONDITION_RESULTS) this.inc({ result }, 0);
        for (const [result, total] of counters().conditions) follow(this, seen, `c:${result}`, { result }, total);
      },
    });
  }
  if (on.evict) {
    new Counter({
      name: 'juicefs_path_prober_evictions_total',
      help: 'Pods stuck on a dead JuiceFS mount acted on (--evict-after), by result (evicted; dry_run: would have been; refused: a disruption budget said not now, tried again later; limited: held by --evict-max; gone: the pod was gone or replaced; failed) and reason, the path state behind it.',
      labelNames: ['result', 'reason'],
      registers,
      collect() {
        for (const reason of EVICTABLE_STATES) for (const result of EVICTION_RESULTS) this.inc({ result, reason }, 0);
        for (const [k, total] of counters().evictions) {
          const [result = '', reason = ''] = k.split('\u0000');
          follow(this, seen, `e:${k}`, { result, reason }, total);
        }
      },
    });
  }
}

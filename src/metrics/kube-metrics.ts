// Kubernetes-mode series, on the daemon's Registry: who each probed path
// belongs to (for alert joins), whether the pod cache is current, and what the
// API traffic did. Read from memory, like the path series.

import { Counter, Gauge, type Registry } from 'prom-client';
import { labelPair, type PathSeries } from './path-series.js';
import type { PathOwner, VolumePath } from '../types.js';

export interface KubeMetricsSources {
  readonly registry: Registry;
  readonly pathSeries: PathSeries;
  readonly owner: (v: VolumePath) => PathOwner | undefined;
  /** Grows whenever `owner` may answer differently: the info series are rendered again then. */
  readonly ownerRevision: () => number;
  readonly stale: () => boolean;
  readonly counters: () => {
    readonly lists: number;
    readonly watchFailures: number;
    readonly claimErrors: number;
    readonly authErrors?: number;
    readonly events: ReadonlyMap<string, number>;
  };
}


/** A counter that mirrors a running total kept elsewhere. */
export function follow(c: Counter<string>, seen: Map<string, number>, key: string, labels: Record<string, string>, total: number): void {
  const before = seen.get(key) ?? 0;
  if (total > before) c.inc(labels, total - before);
  seen.set(key, total);
}

export function registerKubeMetrics(src: KubeMetricsSources): void {
  const registers = [src.registry];
  // pod_namespace/pod_name/pvc_name, not namespace/pod/pvc: Prometheus Operator gives every
  // target namespace, pod, container, service, endpoint, job and instance labels, which would
  // rename ours exported_* (or, with honorLabels, overwrite the target's). Upstream's proposed
  // juicefs_volume_info uses the same names.
  src.pathSeries.add({
    name: 'juicefs_volume_path_info',
    help: 'Who a probed JuiceFS path belongs to, from the Kubernetes API (labels empty when unknown); always 1. Join on volume_id, volume_path, pod_uid.',
    samples(s, emit) {
      const o = src.owner(s.volume);
      const mountPod = o?.mountPod && o.mountPod.phase !== 'Deleted' ? o.mountPod.name : '';
      emit(
        labelPair('pod_namespace', o?.namespace ?? '') +
          labelPair('pod_name', o?.pod ?? '') +
          labelPair('pvc_name', o?.pvc ?? '') +
          labelPair('pv', s.volume.pv) +
          labelPair('mount_pod', mountPod),
        1,
      );
    },
    revision: src.ownerRevision,
  });

  new Gauge({
    name: 'juicefs_path_prober_kube_cache_stale',
    help: '1 while the pod cache may be out of date (before the first list, or the API server cannot be reached), else 0.',
    registers,
    collect() {
      this.set(src.stale() ? 1 : 0);
    },
  });

  const seen = new Map<string, number>();
  new Counter({
    name: 'juicefs_path_prober_kube_lists_total',
    help: 'Full lists of the pods on this node (at start, and after a 410 Gone or an unrecoverable watch).',
    registers,
    collect() {
      follow(this, seen, 'lists', {}, src.counters().lists);
    },
  });
  new Counter({
    name: 'juicefs_path_prober_kube_api_errors_total',
    help: 'Failed Kubernetes API requests, by what they were for: watch (pod list or watch), claim (PersistentVolumeClaim read).',
    labelNames: ['request'],
    registers,
    collect() {
      const c = src.counters();
      follow(this, seen, 'watch', { request: 'watch' }, c.watchFailures);
      follow(this, seen, 'claim', { request: 'claim' }, c.claimErrors);
    },
  });
  new Counter({
    name: 'juicefs_path_prober_kube_credential_errors_total',
    help: 'Loads of the Kubernetes client configuration that could not get credentials (an exec plugin or auth provider failed); requests go without them, and are refused, until they can. /readyz and /status say why.',
    registers,
    collect() {
      follow(this, seen, 'auth', {}, src.counters().authErrors ?? 0);
    },
  });
  new Counter({
    name: 'juicefs_path_prober_kube_events_total',
    help: 'Events on application pods, by type (Warning, Normal) and result: created, updated (count raised), retried (a try failed; another follows on the backoff), failed (refused by the API server), dropped (given up after 12 tries, queue full, or the pod never appeared).',
    labelNames: ['type', 'result'],
    registers,
    collect() {
      for (const type of ['Warning', 'Normal']) for (const result of ['created', 'updated', 'retried', 'failed', 'dropped']) this.inc({ type, result }, 0);
      for (const [k, total] of src.counters().events) {
        const [type = '', result = ''] = k.split('/');
        follow(this, seen, `ev:${k}`, { type, result }, total);
      }
    },
  });
}

// The Kubernetes side of the prober, behind one small interface: who a path
// belongs to, which mount pod serves it, events on transitions, and whether
// the cache is current; for the opt-in actions, the pods' facts and the two
// writes (pod-writes.ts). Nothing here is on the probe path: lookups read
// memory, events are queued, writes are the actions' to wait on, and an
// unreachable API server only makes the cache stale.

import type { V1Pod } from '@kubernetes/client-node';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { BackoffPolicy } from '../shared/backoff.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { describeMountPod, healthValue, type VolumePath } from '../types.js';
import type { Kube } from './adapter.js';
import type { KubeClient } from './client.js';
import type { KubeSource } from './detect.js';
import { createEventRecorder, type EventRecorder, type EventResult } from './event-recorder.js';
import { podEventSink, REASON_RECOVERED, REASON_UNHEALTHY } from './event-sink.js';
import { createPodCache, type PodCache } from './pod-cache.js';
import { podSource } from './pod-source.js';
import { podWrites } from './pod-writes.js';
import { createResourceWatch, statusOf, type ResourceWatch } from './resource-watch.js';
import { slimPod } from './slim.js';
import type { EventType, PodRecord } from './types.js';

export type { Kube, KubeCounters, KubeStatus } from './adapter.js';
export { podEventSink } from './event-sink.js';

export interface KubeOptions {
  readonly client: KubeClient;
  readonly source: Exclude<KubeSource, { kind: 'off' }>;
  readonly nodeName: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Between failed lists and watches. */
  readonly backoff?: BackoffPolicy;
  /**
   * Server-side watch timeout; a watch is also abandoned client-side a minute after it, so one
   * whose connection went silent without closing (a half-dead peer, a stalled proxy) is noticed.
   */
  readonly watchTimeoutSeconds?: number;
  /**
   * How long a pod must be missing from a current cache before its paths are orphaned (a DELETED
   * event needs no wait). kubelet learns of a new pod from the same API; this covers the two watches' skew.
   */
  readonly orphanAfterMs?: number;
}

/** Deleted pod uids remembered, at most (their paths are orphaned at once). */
const DELETED_MEMORY = 4096;

export function createKube(opts: KubeOptions): Kube {
  const { client, logger, nodeName } = opts;
  const timeoutSeconds = opts.watchTimeoutSeconds ?? 300;
  const listeners: (() => void)[] = [];
  const mountPodsChanged = () => {
    for (const l of listeners) l();
  };
  const podListeners: (() => void)[] = [];
  const podsChanged = () => {
    for (const l of podListeners) l();
  };
  let lists = 0;
  let watchFailures = 0;
  let claimErrors = 0;
  let synced = false;
  const events = new Map<string, number>();
  const clock = opts.clock ?? systemClock;
  const orphanAfterMs = opts.orphanAfterMs ?? 5000;
  const deleted = new Set<string>();
  const missingSince = new Map<string, number>();

  const cache: PodCache = createPodCache({
    clock,
    claims: {
      async volumeOf(namespace, claim) {
        const pvc = await client.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace });
        return pvc.spec?.volumeName ?? '';
      },
    },
    onClaimError(err) {
      claimErrors++;
      logger.once(`kube-claim:${statusOf(err) ?? 'x'}`, 'warn', 'cannot read a PersistentVolumeClaim; its pods get no pvc label until it can be read', {
        error: errorMessage(err),
        status: statusOf(err) ?? null,
      });
    },
  });

  const recorder: EventRecorder = createEventRecorder({
    clock,
    sink: podEventSink(client, nodeName),
    logger,
    resolve(uid) {
      const p = cache.get(uid);
      return p ? { namespace: p.namespace, name: p.name, uid: p.uid } : undefined;
    },
    onResult(type: EventType, result: EventResult) {
      const k = `${type}/${result}`;
      events.set(k, (events.get(k) ?? 0) + 1);
    },
  });

  const podWatch: ResourceWatch = createResourceWatch<V1Pod>({
    name: 'pods',
    source: podSource({ client, nodeName, timeoutSeconds, clock }),
    onSync(items) {
      const records = items.map(slimPod).filter((p): p is PodRecord => p !== undefined);
      cache.sync(records);
      lists++;
      synced = true;
      logger.info('kubernetes pod cache synced', { pods: records.length, mount_pods: cache.mountPods.size() });
      recorder.poke();
      mountPodsChanged();
      podsChanged();
    },
    onEvent(type, raw) {
      const pod = slimPod(raw);
      if (!pod) return;
      if (type === 'DELETED') {
        cache.remove(pod);
        if (!pod.mount) {
          deleted.add(pod.uid);
          if (deleted.size > DELETED_MEMORY) deleted.delete(deleted.values().next().value as string);
        }
      } else {
        cache.upsert(pod);
      }
      recorder.poke();
      // A mount pod's (or CSI node pod's) state, or a pod gone (its paths orphaned), changes verdicts.
      if (pod.mount || pod.csiNode || type === 'DELETED') mountPodsChanged();
      podsChanged();
    },
    onFailure(err) {
      watchFailures++;
      logger.once('kube-watch', 'warn', 'the Kubernetes API cannot be reached; probing goes on, pod labels and events wait', {
        error: errorMessage(err),
        status: statusOf(err) ?? null,
      });
    },
    onStaleChange(stale) {
      if (!stale) {
        logger.forget('kube-watch');
        logger.info('kubernetes pod cache is current', {});
        recorder.apiBack();
      }
    },
    clock,
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
  });

  // Said once while it lasts, and once when it is over.
  let authFailing = false;
  client.onCredentials((authError) => {
    if (authError && !authFailing) {
      logger.warn('cannot get Kubernetes credentials; requests go without them, and are refused, until they can be had', { error: authError });
    } else if (!authError && authFailing) {
      logger.info('kubernetes credentials can be had again', {});
    }
    authFailing = authError !== undefined;
  });

  // No mount pod serves a path in process mount mode: the CSI node pod runs its client.
  const mountPodOf = (v: VolumePath) => cache.mountPods.lookup(v.podUid, v.pv) ?? cache.processHost();
  const writes = podWrites(client, clock);

  return {
    start: () => podWatch.start(),
    stop() {
      podWatch.stop();
      recorder.stop();
      cache.stop();
      client.stop();
    },
    owner(v) {
      const pod = cache.get(v.podUid);
      const mountPod = mountPodOf(v);
      if (!pod && !mountPod) return undefined;
      return {
        namespace: pod?.namespace ?? '',
        pod: pod?.name ?? '',
        pvc: cache.claimOf(v.podUid, v.pv, v.subpath?.volumeName),
        ...(mountPod ? { mountPod } : {}),
      };
    },
    ownerRevision: () => cache.revision(),
    mountPodOf,
    transition(t) {
      const to = healthValue(t.to);
      const from = t.from === undefined ? undefined : healthValue(t.from);
      const where = `volume ${t.volume.pv} at ${t.volume.path}`;
      if (to === 0) {
        const m = mountPodOf(t.volume);
        const also = m?.running ? `; ${describeMountPod(m)}, but the mount point is abnormal` : '';
        recorder.record({
          podUid: t.volume.podUid,
          subject: t.volume.path,
          type: 'Warning',
          reason: REASON_UNHEALTHY,
          message: `${where}: ${t.to} (${t.detail}${also})`,
        });
      } else if (to === 1 && from === 0) {
        recorder.record({
          podUid: t.volume.podUid,
          subject: t.volume.path,
          type: 'Normal',
          reason: REASON_RECOVERED,
          message: `${where}: healthy again (was ${t.from})`,
        });
      }
    },
    pathRemoved(v) {
      recorder.forget(v.podUid, v.path);
      missingSince.delete(v.podUid);
    },
    podGone(uid) {
      if (!synced || podWatch.isStale()) return false;
      if (cache.get(uid)) {
        missingSince.delete(uid);
        return false;
      }
      if (deleted.has(uid)) return true;
      if (cache.size() === 0) return false;
      const t = clock.monotonic();
      const since = missingSince.get(uid);
      if (since === undefined) {
        missingSince.set(uid, t);
        return orphanAfterMs <= 0;
      }
      return t - since >= orphanAfterMs;
    },
    publishedAs: (uid, volumeName) => (synced ? cache.publishedAs(uid, volumeName) : undefined),
    settled: () => synced && !podWatch.isStale() && cache.settled(),
    isStale: () => podWatch.isStale(),
    counters: () => ({ lists, watchFailures, claimErrors, authErrors: client.authErrors(), events }),
    authError: () => client.authError(),
    onMountPodChange: (l) => void listeners.push(l),
    podFacts(uid) {
      const p = cache.get(uid);
      if (!p) return undefined;
      return { uid, namespace: p.namespace, name: p.name, controllerKind: p.controllerKind, juicefsSystem: Boolean(p.mount || p.csiNode), deleting: p.deleting, conditions: p.conditions };
    },
    current: () => synced && !podWatch.isStale(),
    setPodCondition: writes.setPodCondition,
    evict: writes.evict,
    podEvent: (e) => recorder.record(e),
    onPodsChange: (l) => void podListeners.push(l),
    status() {
      return {
        source: opts.source.kind === 'kubeconfig' ? `kubeconfig ${opts.source.path}` : 'in-cluster',
        server: client.server,
        stale: podWatch.isStale(),
        synced,
        last_error: podWatch.lastError() ?? null,
        auth_error: client.authError() ?? null,
        resource_version: podWatch.resourceVersion(),
        pods: cache.size(),
        mount_pods: cache.mountPods.size(),
        events: { queued: recorder.stats().queued, ...Object.fromEntries(events) },
      };
    },
  };
}

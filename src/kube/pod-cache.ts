// The pods on this node, as records, and the PV each of their claims is bound
// to. A bound claim's volume never changes, so each claim is read once (a GET,
// no list or watch of claims or volumes), only for pods on this node. A claim
// not bound yet, or that could not be read, is read again on the backoff.

import { createBackoff, type Backoff, type BackoffPolicy } from '../shared/backoff.js';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { createFifo } from '../shared/fifo.js';
import type { MountPodState } from '../types.js';
import type { PodRecord } from './types.js';
import { createMountPodIndex, type MountPodIndex } from './mount-pods.js';

export interface ClaimReader {
  /** The PV name a claim is bound to, '' while unbound. */
  volumeOf(namespace: string, claim: string): Promise<string>;
}

export interface PodCacheOptions {
  readonly claims: ClaimReader;
  /** A claim's binding was learned. */
  readonly onChange?: () => void;
  readonly onClaimError: (err: unknown) => void;
  /** When to read an unbound or unreadable claim again. */
  readonly retry?: BackoffPolicy;
  readonly clock?: Clock;
}

export interface PodCache {
  readonly mountPods: MountPodIndex;
  sync(pods: readonly PodRecord[]): void;
  upsert(pod: PodRecord): void;
  remove(pod: PodRecord): void;
  get(uid: string): PodRecord | undefined;
  /** In process mount mode, the CSI node pod that runs every JuiceFS client of this node
   * (once deleted, as `Deleted` until its successor appears); otherwise undefined. */
  processHost(): MountPodState | undefined;
  /** The claim name through which a pod uses a PV (or a pod volume, for subPaths). */
  claimOf(uid: string, pv: string, volumeName?: string): string;
  /**
   * The directory name under `kubernetes.io~csi` a pod volume is published as (its bound PV, or
   * its own name for an inline CSI volume); null when the pod has no such claim or CSI volume
   * (an emptyDir, a hostPath, ...); undefined while unknown (pod not cached, claim not read yet).
   */
  publishedAs(uid: string, volumeName: string): string | null | undefined;
  /** No claim read is queued or running. */
  settled(): boolean;
  /** A counter that grows whenever what get, claimOf, processHost or mountPods.lookup answer may have changed. */
  revision(): number;
  size(): number;
  stop(): void;
}

const CONCURRENCY = 4;
/** A claim is usually bound within seconds of its pod's creation; an API server back within seconds too. */
export const CLAIM_RETRY: BackoffPolicy = { initialMs: 1000, maxMs: 30_000 };

export function createPodCache(opts: PodCacheOptions): PodCache {
  const clock = opts.clock ?? systemClock;
  const pods = new Map<string, PodRecord>();
  const mountPods = createMountPodIndex();
  // `<ns>/<claim>` → bound PV name; absent: not read yet; retries: failed or unbound, and when to read again.
  const bound = new Map<string, string>();
  const retries = new Map<string, { backoff: Backoff; at: number }>();
  const queued = new Set<string>();
  const queue = createFifo<string>();
  let running = 0;
  let stopped = false;
  let retryTimer: TimerHandle | undefined;
  let retryDue = Infinity;
  let revision = 0;

  const later = (key: string) => {
    const r = retries.get(key) ?? { backoff: createBackoff(opts.retry ?? CLAIM_RETRY), at: 0 };
    r.at = clock.monotonic() + r.backoff.next()!;
    retries.set(key, r);
  };

  const pump = () => {
    while (!stopped && running < CONCURRENCY && queue.length > 0) {
      const key = queue.shift()!;
      running++;
      const [ns, claim] = key.split('/') as [string, string];
      opts.claims
        .volumeOf(ns, claim)
        .then(
          (pv) => {
            if (pv) {
              bound.set(key, pv);
              revision++;
              retries.delete(key);
              opts.onChange?.();
            } else {
              later(key);
            }
          },
          (err: unknown) => {
            later(key);
            opts.onClaimError(err);
          },
        )
        .finally(() => {
          running--;
          queued.delete(key);
          armRetry();
          pump();
        });
    }
  };

  const want = (pod: PodRecord) => {
    for (const claim of pod.claims.values()) {
      const key = `${pod.namespace}/${claim}`;
      if (bound.has(key) || queued.has(key)) continue;
      const at = retries.get(key)?.at;
      if (at !== undefined && at > clock.monotonic()) continue;
      queued.add(key);
      queue.push(key);
    }
    pump();
  };

  /** One timer, for the earliest retry due. */
  const armRetry = () => {
    if (stopped) return;
    let due = Infinity;
    for (const [key, r] of retries) if (!queued.has(key)) due = Math.min(due, r.at);
    if (due === Infinity || (retryTimer !== undefined && due >= retryDue)) return;
    if (retryTimer !== undefined) clock.clearTimeout(retryTimer);
    retryDue = due;
    retryTimer = clock.setTimeout(() => {
      retryTimer = undefined;
      retryDue = Infinity;
      for (const p of pods.values()) want(p);
      armRetry();
    }, Math.max(0, due - clock.monotonic()));
  };

  // Claims no pod on this node uses any more are forgotten.
  const prune = () => {
    const used = new Set<string>();
    for (const p of pods.values()) for (const c of p.claims.values()) used.add(`${p.namespace}/${c}`);
    for (const k of bound.keys()) if (!used.has(k)) bound.delete(k);
    for (const k of retries.keys()) if (!used.has(k)) retries.delete(k);
  };

  let host: { uid: string; state: MountPodState } | undefined;
  const hostUpsert = (pod: PodRecord) => {
    const c = pod.csiNode;
    if (!c) return;
    // A CSI node pod without --by-process: mount pod mode, nothing to fold in.
    host = c.byProcess ? { uid: pod.uid, state: { namespace: pod.namespace, name: pod.name, phase: pod.phase, running: c.running, why: c.why, csiNode: true } } : undefined;
  };
  const hostGone = () => {
    if (host && host.state.phase !== 'Deleted') host = { ...host, state: { ...host.state, phase: 'Deleted', running: false, why: '' } };
  };

  const upsert = (pod: PodRecord) => {
    revision++;
    pods.set(pod.uid, pod);
    hostUpsert(pod);
    if (pod.mount) mountPods.upsert(pod);
    else want(pod);
  };

  return {
    mountPods,
    sync(list) {
      revision++;
      pods.clear();
      for (const p of list) pods.set(p.uid, p);
      mountPods.reset(list.filter((p) => p.mount));
      const csiNode = list.find((p) => p.csiNode);
      if (csiNode) hostUpsert(csiNode);
      else hostGone();
      prune();
      for (const p of list) if (!p.mount) want(p);
    },
    upsert,
    remove(pod) {
      revision++;
      pods.delete(pod.uid);
      if (pod.uid === host?.uid) hostGone();
      if (pod.mount) mountPods.remove(pod);
      else {
        mountPods.forgetApp(pod.uid);
        prune();
      }
    },
    get: (uid) => pods.get(uid),
    processHost: () => host?.state,
    claimOf(uid, pv, volumeName) {
      const pod = pods.get(uid);
      if (!pod) return '';
      if (volumeName && pod.claims.has(volumeName)) return pod.claims.get(volumeName)!;
      for (const claim of pod.claims.values()) if (bound.get(`${pod.namespace}/${claim}`) === pv) return claim;
      return '';
    },
    publishedAs(uid, volumeName) {
      const pod = pods.get(uid);
      if (!pod) return undefined;
      const claim = pod.claims.get(volumeName);
      if (claim !== undefined) return bound.get(`${pod.namespace}/${claim}`);
      return pod.inline.has(volumeName) ? volumeName : null;
    },
    settled: () => queue.length === 0 && running === 0,
    revision: () => revision,
    size: () => pods.size,
    stop() {
      stopped = true;
      if (retryTimer !== undefined) clock.clearTimeout(retryTimer);
    },
  };
}

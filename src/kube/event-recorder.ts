// Events on application pods, sent off the probe path: record() only queues.
// One event object per (pod, path, reason): a repeat updates its count and
// lastTimestamp instead of creating another; the event name is derived from
// that key, so after a restart the same object is found (409) and updated.
// Sends are rate limited, and each request has a deadline that closes its
// connection. A send that failed for a reason that may pass (event-retry.ts)
// is tried again on the backoff, holding the queue as client-go's recorder
// does, then counted dropped; one the server refused for good is counted
// failed at once. Failures are logged once until a send succeeds.

import { createHash } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { createBackoff, type BackoffPolicy } from '../shared/backoff.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { EVENT_RETRY, retryOf } from './event-retry.js';
import { statusOf } from './resource-watch.js';
import type { EventType } from './types.js';

export interface InvolvedPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface EventWrite {
  readonly name: string;
  readonly involved: InvolvedPod;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly firstTimestamp: Date;
  readonly lastTimestamp: Date;
}

/** The API calls, as the recorder needs them; errors carry the HTTP status (409, 404). `signal` abandons the request. */
export interface EventSink {
  create(e: EventWrite, signal: AbortSignal): Promise<void>;
  /** Updates message, count and lastTimestamp of an existing event. */
  update(e: EventWrite, signal: AbortSignal): Promise<void>;
}

/** created/updated: sent; retried: a try failed and another follows; failed: refused for good; dropped: given up or never sent. */
export type EventResult = 'created' | 'updated' | 'retried' | 'failed' | 'dropped';

export interface EventRecorderOptions {
  readonly sink: EventSink;
  readonly logger: Logger;
  /** The pod a uid names, if known (events wait for it, a while). */
  readonly resolve: (podUid: string) => InvolvedPod | undefined;
  readonly onResult?: (type: EventType, result: EventResult) => void;
  readonly clock?: Clock;
  readonly burst?: number;
  readonly perSecond?: number;
  readonly requestTimeoutMs?: number;
  readonly maxQueue?: number;
  /** How long an event waits for its pod to appear in the cache. */
  readonly waitForPodMs?: number;
  /** The waits between tries; `maxAttempts` retries after the first try. */
  readonly retry?: BackoffPolicy;
}

export interface EventRequest {
  readonly podUid: string;
  /** What identifies the condition on that pod (the path). */
  readonly subject: string;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

export interface EventRecorder {
  record(req: EventRequest): void;
  /** Something the pod cache learned may let waiting events go. */
  poke(): void;
  /** The API server answers again: a send waiting to be tried again goes now. */
  apiBack(): void;
  /** Forgets the events of a subject that is gone. */
  forget(podUid: string, subject: string): void;
  stats(): { queued: number; known: number };
  stop(): void;
}

interface Sent {
  name: string;
  count: number;
  first: Date;
}

interface Pending {
  req: EventRequest;
  repeats: number;
  queuedAt: number;
}

export function createEventRecorder(opts: EventRecorderOptions): EventRecorder {
  const clock = opts.clock ?? systemClock;
  const burst = opts.burst ?? 25;
  const perSecond = opts.perSecond ?? 1;
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const maxQueue = opts.maxQueue ?? 1000;
  const waitMs = opts.waitForPodMs ?? 5 * 60_000;
  const sent = new Map<string, Sent>();
  const pending = new Map<string, Pending>();
  let tokens = burst;
  let refilledAt = clock.monotonic();
  let draining = false;
  let stopped = false;
  let wake = new AbortController();

  const keyOf = (r: { podUid: string; subject: string; reason: string }) => `${r.podUid}\u0000${r.subject}\u0000${r.reason}`;
  const result = (type: EventType, r: EventResult) => opts.onResult?.(type, r);
  const pause = (ms: number) => clock.sleep(ms, wake.signal).catch(() => {});

  const take = async (): Promise<void> => {
    for (;;) {
      const t = clock.monotonic();
      tokens = Math.min(burst, tokens + ((t - refilledAt) / 1000) * perSecond);
      refilledAt = t;
      if (tokens >= 1) {
        tokens -= 1;
        return;
      }
      await clock.sleep(Math.ceil(((1 - tokens) / perSecond) * 1000));
      if (stopped) return;
    }
  };

  const call = (f: (signal: AbortSignal) => Promise<void>) => clock.deadline(timeoutMs, `event request took over ${timeoutMs}ms`, f);
  /** One try: create, or update what exists; a 409 (made before a restart) updates, a 404 (expired) creates. */
  const attempt = async (e: EventWrite, update: boolean): Promise<void> => {
    try {
      await call((s) => (update ? opts.sink.update(e, s) : opts.sink.create(e, s)));
      result(e.type, update ? 'updated' : 'created');
    } catch (err) {
      if (statusOf(err) !== (update ? 404 : 409)) throw err;
      await call((s) => (update ? opts.sink.create(e, s) : opts.sink.update(e, s)));
      result(e.type, update ? 'created' : 'updated');
    }
  };

  const send = async (key: string, p: Pending, pod: InvolvedPod): Promise<void> => {
    const backoff = createBackoff(opts.retry ?? EVENT_RETRY);
    for (;;) {
      const at = new Date(clock.now());
      const prev = sent.get(key);
      // Object names are at most 253 characters; the pod's name may already be that long.
      const name = prev?.name ?? `${pod.name.slice(0, 236)}.${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
      const e: EventWrite = { name, involved: pod, type: p.req.type, reason: p.req.reason, message: p.req.message, count: (prev?.count ?? 0) + p.repeats, firstTimestamp: prev?.first ?? at, lastTimestamp: at };
      try {
        await attempt(e, prev !== undefined);
        sent.set(key, { name, count: e.count, first: e.firstTimestamp });
        opts.logger.forget('kube-event-failed');
        return;
      } catch (err) {
        const { retry, notBeforeMs } = retryOf(err);
        const wait = retry ? backoff.next() : undefined;
        result(e.type, !retry ? 'failed' : wait === undefined ? 'dropped' : 'retried');
        opts.logger.once('kube-event-failed', 'warn', 'cannot send Kubernetes events; probing goes on (logged once until one succeeds)', {
          reason: e.reason,
          pod: `${pod.namespace}/${pod.name}`,
          error: errorMessage(err),
          status: statusOf(err) ?? null,
          will_retry: wait !== undefined,
        });
        if (wait === undefined) return;
        await pause(Math.max(wait, notBeforeMs));
        if (stopped) return;
        // The same condition recorded again meanwhile: that one goes, counting this one's repeats too.
        const newer = pending.get(key);
        if (newer) {
          newer.repeats += p.repeats;
          return;
        }
        await take();
        if (stopped) return;
      }
    }
  };

  const drain = async () => {
    if (draining) return;
    draining = true;
    try {
      while (!stopped) {
        let next: [string, Pending, InvolvedPod] | undefined;
        for (const [key, p] of pending) {
          const pod = opts.resolve(p.req.podUid);
          if (pod) {
            next = [key, p, pod];
            break;
          }
          if (clock.monotonic() - p.queuedAt > waitMs) {
            pending.delete(key);
            result(p.req.type, 'dropped');
          }
        }
        if (!next) return;
        const [key, p, pod] = next;
        await take();
        if (stopped) return;
        if (pending.get(key) !== p) continue; // replaced while waiting for a token: send the newer one
        pending.delete(key);
        await send(key, p, pod);
      }
    } finally {
      draining = false;
    }
  };

  return {
    record(req) {
      if (stopped) return;
      const key = keyOf(req);
      const prev = pending.get(key);
      // A condition seen again before its event went out is one event with a higher count.
      pending.delete(key);
      pending.set(key, { req, repeats: (prev?.repeats ?? 0) + 1, queuedAt: prev?.queuedAt ?? clock.monotonic() });
      while (pending.size > maxQueue) {
        const [oldest, p] = pending.entries().next().value as [string, Pending];
        pending.delete(oldest);
        result(p.req.type, 'dropped');
      }
      void drain();
    },
    poke() {
      if (pending.size > 0) void drain();
    },
    apiBack() {
      wake.abort();
      wake = new AbortController();
    },
    forget(podUid, subject) {
      const prefix = `${podUid}\u0000${subject}\u0000`;
      for (const k of sent.keys()) if (k.startsWith(prefix)) sent.delete(k);
    },
    stats: () => ({ queued: pending.size, known: sent.size }),
    stop() {
      stopped = true;
      wake.abort();
    },
  };
}

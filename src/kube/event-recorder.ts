// Events on application pods, sent off the probe path: record() only queues.
// One event object per (pod, path, reason): a repeat updates its count and
// lastTimestamp instead of creating another; the event name is derived from
// that key, so after a restart the same object is found (409) and updated.
// Sends are rate limited and time-bounded; a failure is counted and logged once.

import { createHash } from 'node:crypto';
import pTimeout from 'p-timeout';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { statusOf } from './resource-watch.js';
import type { EventType } from './types.js';
import { sleep } from '../shared/timers.js';

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

/** The API calls, as the recorder needs them; errors carry the HTTP status (409, 404). */
export interface EventSink {
  create(e: EventWrite): Promise<void>;
  /** Updates message, count and lastTimestamp of an existing event. */
  update(e: EventWrite): Promise<void>;
}

export type EventResult = 'created' | 'updated' | 'failed' | 'dropped';

export interface EventRecorderOptions {
  readonly sink: EventSink;
  readonly logger: Logger;
  /** The pod a uid names, if known (events wait for it, a while). */
  readonly resolve: (podUid: string) => InvolvedPod | undefined;
  readonly onResult?: (type: EventType, result: EventResult) => void;
  readonly now?: () => number;
  readonly delay?: (ms: number) => Promise<void>;
  readonly burst?: number;
  readonly perSecond?: number;
  readonly requestTimeoutMs?: number;
  readonly maxQueue?: number;
  /** How long an event waits for its pod to appear in the cache. */
  readonly waitForPodMs?: number;
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
  const now = opts.now ?? Date.now;
  const delay = opts.delay ?? sleep;
  const burst = opts.burst ?? 25;
  const perSecond = opts.perSecond ?? 1;
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const maxQueue = opts.maxQueue ?? 1000;
  const waitMs = opts.waitForPodMs ?? 5 * 60_000;
  const sent = new Map<string, Sent>();
  const pending = new Map<string, Pending>();
  let tokens = burst;
  let refilledAt = now();
  let draining = false;
  let stopped = false;

  const keyOf = (r: { podUid: string; subject: string; reason: string }) => `${r.podUid}\u0000${r.subject}\u0000${r.reason}`;
  const result = (type: EventType, r: EventResult) => opts.onResult?.(type, r);

  const take = async (): Promise<void> => {
    for (;;) {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - refilledAt) / 1000) * perSecond);
      refilledAt = t;
      if (tokens >= 1) {
        tokens -= 1;
        return;
      }
      await delay(Math.ceil(((1 - tokens) / perSecond) * 1000));
    }
  };

  const send = async (key: string, p: Pending, pod: InvolvedPod): Promise<void> => {
    const at = new Date(now());
    const prev = sent.get(key);
    // Object names are at most 253 characters; the pod's name may already be that long.
    const name = prev?.name ?? `${pod.name.slice(0, 236)}.${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
    const e: EventWrite = {
      name,
      involved: pod,
      type: p.req.type,
      reason: p.req.reason,
      message: p.req.message,
      count: (prev?.count ?? 0) + p.repeats,
      firstTimestamp: prev?.first ?? at,
      lastTimestamp: at,
    };
    const call = (f: () => Promise<void>) => pTimeout(f(), { milliseconds: timeoutMs, message: `event request took over ${timeoutMs}ms` });
    try {
      if (prev) {
        try {
          await call(() => opts.sink.update(e));
          result(e.type, 'updated');
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
          await call(() => opts.sink.create(e)); // expired on the server (events live an hour)
          result(e.type, 'created');
        }
      } else {
        try {
          await call(() => opts.sink.create(e));
          result(e.type, 'created');
        } catch (err) {
          if (statusOf(err) !== 409) throw err;
          await call(() => opts.sink.update(e)); // sent before this process started
          result(e.type, 'updated');
        }
      }
      sent.set(key, { name, count: e.count, first: e.firstTimestamp });
      opts.logger.forget('kube-event-failed');
    } catch (err) {
      result(e.type, 'failed');
      opts.logger.once('kube-event-failed', 'warn', 'cannot send Kubernetes events; probing goes on (logged once until one succeeds)', {
        reason: e.reason,
        pod: `${pod.namespace}/${pod.name}`,
        error: errorMessage(err),
        status: statusOf(err) ?? null,
      });
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
          if (now() - p.queuedAt > waitMs) {
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
      pending.set(key, { req, repeats: (prev?.repeats ?? 0) + 1, queuedAt: prev?.queuedAt ?? now() });
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
    forget(podUid, subject) {
      const prefix = `${podUid}\u0000${subject}\u0000`;
      for (const k of sent.keys()) if (k.startsWith(prefix)) sent.delete(k);
    },
    stats: () => ({ queued: pending.size, known: sent.size }),
    stop() {
      stopped = true;
    },
  };
}

// Single-flight probing per mount source. A source (device + mount root) has
// at most one call outstanding: a caller arriving while it runs joins it, and a
// caller arriving after it timed out gets `stuck` without a new syscall. Only
// when the blocked call finally returns is the source probed again.

import { HelperLostError } from '../errors.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { createDeadlines } from './deadlines.js';
import type { HelperPool } from './helper-pool.js';
import type { HelperResponse } from './helper-protocol.js';

export type ProbeOutcome =
  | { readonly kind: 'ok'; readonly dev: string; readonly ino: string; readonly ms: number }
  | { readonly kind: 'error'; readonly code: string; readonly message: string; readonly ms: number }
  /** This call did not answer within the runner's `timeoutMs`; it stays outstanding. */
  | { readonly kind: 'timeout'; readonly ms: number; readonly timeoutMs: number }
  /** An earlier call on this source is still blocked; nothing new was issued. */
  | { readonly kind: 'stuck'; readonly since: number }
  /** The helper died under the call: no verdict on the mount. */
  | { readonly kind: 'lost'; readonly reason: string };

export interface StuckProbe {
  readonly key: string;
  readonly path: string;
  /** Epoch ms when the call was sent. */
  readonly since: number;
}

export interface ProbeRunner {
  probe(key: string, path: string): Promise<ProbeOutcome>;
  /** Sources whose call has timed out and not yet returned. */
  stuck(): StuckProbe[];
  /** Calls sent and not yet returned, stuck ones included. */
  inFlight(): number;
  /** Called when a stuck call finally returns (or its helper dies), so the source can be probed again. */
  onRelease(listener: (key: string) => void): void;
  /** Probe call durations, for the histogram. */
  onDuration(listener: (seconds: number, outcome: ProbeOutcome['kind']) => void): void;
}

export interface ProbeRunnerOptions {
  readonly pool: HelperPool;
  readonly timeoutMs: number;
  /** Deadlines and durations on its monotonic time, `since` on its wall clock. */
  readonly clock?: Clock;
}

interface Flight {
  readonly path: string;
  promise: Promise<ProbeOutcome>;
  sentAt: number;
  timedOut: boolean;
}

export function createProbeRunner(opts: ProbeRunnerOptions): ProbeRunner {
  const clock = opts.clock ?? systemClock;
  const deadlines = createDeadlines({ timeoutMs: opts.timeoutMs, clock });
  /** The helper's answer, or TIMED_OUT once the deadline passes first. */
  const TIMED_OUT = Symbol('timed out');
  const withDeadline = (done: Promise<HelperResponse>) =>
    new Promise<HelperResponse | typeof TIMED_OUT>((resolve, reject) => {
      const cancel = deadlines.start(() => resolve(TIMED_OUT));
      done.then(
        (r) => {
          cancel();
          resolve(r);
        },
        (err: unknown) => {
          cancel();
          reject(err);
        },
      );
    });
  const flights = new Map<string, Flight>();
  const releaseListeners: ((key: string) => void)[] = [];
  const durationListeners: ((s: number, k: ProbeOutcome['kind']) => void)[] = [];

  const record = (ms: number, outcome: ProbeOutcome) => {
    for (const l of durationListeners) l(ms / 1000, outcome.kind);
    return outcome;
  };

  const launch = (key: string, path: string): Flight => {
    const req = opts.pool.request(path);
    const flight: Flight = { path, promise: Promise.resolve({ kind: 'lost', reason: 'not started' }), sentAt: clock.now(), timedOut: false };
    const settle = () => {
      if (flights.get(key) === flight) flights.delete(key);
      if (flight.timedOut) for (const l of releaseListeners) l(key);
    };
    // The clock starts when the helper has the request, not while it waits in our queue.
    const run = async (): Promise<ProbeOutcome> => {
      // A request refused before it was sent (helpers shut down) settles `done` instead.
      await Promise.race([req.sent, req.done.catch(() => undefined)]);
      flight.sentAt = clock.now();
      const t0 = clock.monotonic();
      try {
        const r = await withDeadline(req.done);
        const ms = clock.monotonic() - t0;
        if (r === TIMED_OUT) {
          // Slow mount, or a helper that no longer answers anything? Only the first is a verdict.
          if (!(await req.alive())) {
            settle();
            return { kind: 'lost', reason: 'the probe helper stopped answering' };
          }
          flight.timedOut = true;
          req.markStuck();
          // Keep the flight until the call really returns; that is what frees the source.
          req.done.then(settle, settle);
          return record(ms, { kind: 'timeout', ms, timeoutMs: opts.timeoutMs });
        }
        settle();
        return record(ms, r.ok ? { kind: 'ok', dev: r.dev, ino: r.ino, ms } : { kind: 'error', code: r.code, message: r.message, ms });
      } catch (err) {
        settle();
        if (err instanceof HelperLostError) return { kind: 'lost', reason: err.message };
        throw err;
      }
    };
    flights.set(key, flight);
    flight.promise = run();
    return flight;
  };

  return {
    async probe(key, path) {
      const f = flights.get(key);
      if (f) return f.timedOut ? { kind: 'stuck', since: f.sentAt } : f.promise;
      return launch(key, path).promise;
    },
    stuck() {
      const out: StuckProbe[] = [];
      for (const [key, f] of flights) if (f.timedOut) out.push({ key, path: f.path, since: f.sentAt });
      return out;
    },
    inFlight: () => flights.size,
    onRelease: (l) => void releaseListeners.push(l),
    onDuration: (l) => void durationListeners.push(l),
  };
}

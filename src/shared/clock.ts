// Time, as every module that waits or measures takes it: injected, with the
// real clock as the default, so tests move it by hand instead of sleeping.
//
// - now(): the wall clock (epoch ms), for what is shown: "since", timestamps.
// - monotonic(): for durations, deadlines and "how long ago"; never steps back.
// - setTimeout/setInterval: never hold the process open (unref'd): the HTTP
//   server and the helpers are what keep the daemon alive, not a pending timer.
// - sleep(ms, signal): a delay that an abort ends early.
// - deadline(ms, work): a promise's deadline, through p-timeout on this clock's
//   timers; `work` gets a signal that is aborted when the deadline passes, so
//   what it started (a request, a socket) is let go instead of left running.

import pTimeout, { TimeoutError } from 'p-timeout';

/** A pending timer, as the clock that set it knows it. */
export type TimerHandle = unknown;

/** The parts a clock is made of: the rest (sleep, deadline) is built on them the same way for every clock. */
export interface ClockBase {
  /** Wall-clock epoch milliseconds. */
  now(): number;
  /** Monotonic milliseconds from an arbitrary origin. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

export interface Clock extends ClockBase {
  /** Resolves after `ms`; rejects with the signal's reason if it is aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * `work`'s result, or a DeadlineError once `ms` have passed; `work`'s signal is
   * aborted then (with that error as its reason).
   */
  deadline<T>(ms: number, message: string, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

/** A deadline passed: what was waited for is abandoned, and its signal aborted. */
export class DeadlineError extends TimeoutError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    Object.defineProperty(this, 'name', { value: 'DeadlineError' });
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

export function clockFrom(base: ClockBase): Clock {
  const customTimers = {
    setTimeout: ((fn: () => void, ms: number) => base.setTimeout(fn, ms)) as unknown as typeof globalThis.setTimeout,
    clearTimeout: ((h: TimerHandle) => base.clearTimeout(h)) as unknown as typeof globalThis.clearTimeout,
  };
  return {
    now: () => base.now(),
    monotonic: () => base.monotonic(),
    setTimeout: (fn, ms) => base.setTimeout(fn, ms),
    clearTimeout: (h) => base.clearTimeout(h),
    setInterval: (fn, ms) => base.setInterval(fn, ms),
    clearInterval: (h) => base.clearInterval(h),
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(abortReason(signal));
        const onAbort = () => {
          base.clearTimeout(handle);
          reject(abortReason(signal!));
        };
        const handle = base.setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, Math.max(0, ms));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async deadline(ms, message, work) {
      const controller = new AbortController();
      const expired = new DeadlineError(message);
      try {
        return await pTimeout(work(controller.signal), { milliseconds: ms, message: expired, customTimers });
      } catch (err) {
        if (err === expired) controller.abort(expired);
        throw err;
      }
    },
  };
}

/** The real clock: Date.now, performance.now and Node's timers, unref'd. */
export const systemClock: Clock = clockFrom({
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
});

/** Holds the process open while the timer is pending (a manual clock's handles have nothing to hold). */
const held = (h: TimerHandle): TimerHandle => ((h as { ref?: () => unknown }).ref?.(), h);

/** The same clock, its timers holding the process open until they fire or are cleared: for one-shot commands. */
export function holdingOpen(clock: Clock): Clock {
  return clockFrom({
    now: clock.now,
    monotonic: clock.monotonic,
    setTimeout: (fn, ms) => held(clock.setTimeout(fn, ms)),
    clearTimeout: clock.clearTimeout,
    setInterval: (fn, ms) => held(clock.setInterval(fn, ms)),
    clearInterval: clock.clearInterval,
  });
}

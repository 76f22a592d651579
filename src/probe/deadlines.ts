// One timer for every outstanding probe. A timer and a timeout error per probe
// (p-timeout builds its error, stack trace and all, up front on every call) cost
// more CPU at 10,000 paths than the probes themselves. All deadlines of a runner
// are the same length after a monotonic start, so they expire in the order they
// were set: a FIFO queue and one timer armed for its head.

import { systemClock, type Clock } from '../shared/clock.js';
import { createFifo } from '../shared/fifo.js';

export interface Deadlines {
  /** Calls `onExpire` after the runner's timeout unless the returned cancel is called first. */
  start(onExpire: () => void): () => void;
  readonly pending: number;
}

interface Entry {
  readonly at: number;
  onExpire: (() => void) | undefined;
}

export function createDeadlines(opts: { timeoutMs: number; clock?: Clock }): Deadlines {
  const clock = opts.clock ?? systemClock;
  const queue = createFifo<Entry>();
  let live = 0;
  let timer: unknown;
  let timerAt = Infinity;

  const arm = () => {
    // Cancelled deadlines stay queued until they reach the head.
    while (queue.length > 0 && queue.peek()!.onExpire === undefined) queue.shift();
    const next = queue.peek();
    if (!next) return;
    if (timer !== undefined && timerAt <= next.at) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timerAt = next.at;
    timer = clock.setTimeout(fire, Math.max(0, next.at - clock.monotonic()));
  };

  function fire(): void {
    timer = undefined;
    timerAt = Infinity;
    const now = clock.monotonic();
    while (queue.length > 0 && queue.peek()!.at <= now) {
      const e = queue.shift()!;
      const cb = e.onExpire;
      if (cb) {
        e.onExpire = undefined;
        live--;
        cb();
      }
    }
    arm();
  }

  return {
    start(onExpire) {
      const e: Entry = { at: clock.monotonic() + opts.timeoutMs, onExpire };
      queue.push(e);
      live++;
      if (timer === undefined) arm();
      return () => {
        if (e.onExpire === undefined) return;
        e.onExpire = undefined;
        live--;
      };
    },
    get pending() {
      return live;
    },
  };
}

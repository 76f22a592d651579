// When cycles run: every interval, and soon after anything that may have
// changed a verdict (a new or removed pod, a stuck probe returning, an unmount
// to confirm). Cycles may overlap so that one waiting out a probe timeout never
// delays a new pod's first verdict; starts are spaced and at most two run at once.

import type { Logger } from '../log/logger.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { CycleReport, RunCycle } from './cycle.js';

export interface Scheduler {
  start(): void;
  /** Run a cycle soon (coalesced with other requests). */
  trigger(afterMs?: number): void;
  isReady(): boolean;
  onCycle(listener: (r: CycleReport) => void): void;
  stop(): void;
}

export interface SchedulerOptions {
  readonly runCycle: RunCycle;
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly minGapMs?: number;
  readonly maxConcurrent?: number;
}

export function createScheduler(opts: SchedulerOptions): Scheduler {
  const clock = opts.clock ?? systemClock;
  const now = () => clock.monotonic();
  const minGap = opts.minGapMs ?? 100;
  const maxConcurrent = opts.maxConcurrent ?? 2;
  const listeners: ((r: CycleReport) => void)[] = [];
  let running = 0;
  let wanted = false;
  let kickTimer: unknown;
  let kickAt = Infinity;
  let periodic: unknown;
  let lastStart = -Infinity;
  let ready = false;
  let stopped = false;

  const arm = (at: number) => {
    if (stopped || at >= kickAt) return;
    if (kickTimer !== undefined) clock.clearTimeout(kickTimer);
    kickAt = at;
    kickTimer = clock.setTimeout(
      () => {
        kickTimer = undefined;
        kickAt = Infinity;
        fire();
      },
      Math.max(0, at - now()),
    );
  };

  const fire = () => {
    if (stopped || !wanted) return;
    if (running >= maxConcurrent) return; // resumed when one finishes
    const earliest = lastStart + minGap;
    if (now() < earliest) return arm(earliest);
    wanted = false;
    running++;
    lastStart = now();
    opts
      .runCycle()
      .then(
        (report) => {
          if (report.ok) ready = true;
          if (report.recheckInMs !== undefined) request(report.recheckInMs);
          for (const l of listeners) l(report);
        },
        (err: unknown) => opts.logger.error('probe cycle failed', { error: err }),
      )
      .finally(() => {
        running--;
        if (wanted) arm(now());
      });
  };

  const request = (afterMs = 0) => {
    if (stopped) return;
    if (afterMs <= 0) {
      wanted = true;
      arm(now());
    } else {
      // A delayed look: set `wanted` only when its time comes.
      clock.setTimeout(() => request(0), afterMs);
    }
  };

  const tick = () => {
    request(0);
    periodic = clock.setTimeout(tick, opts.intervalMs);
  };

  return {
    start() {
      if (periodic === undefined && !stopped) tick();
    },
    trigger: request,
    isReady: () => ready,
    onCycle: (l) => void listeners.push(l),
    stop() {
      stopped = true;
      if (kickTimer !== undefined) clock.clearTimeout(kickTimer);
      if (periodic !== undefined) clock.clearTimeout(periodic);
    },
  };
}

// Builds the daemon's core in this process, on a clock the test can steer, for
// faults that need a hand on the clock or on the exact moment a cycle runs.

import { parseCommandLine, type Config } from '../../src/cli/args.js';
import { createLogger } from '../../src/log/logger.js';
import { createCore, type Core } from '../../src/core.js';
import { clockFrom, systemClock, type Clock } from '../../src/shared/clock.js';

export function config(args: string[]): Config {
  const r = parseCommandLine(['serve', '--listen', '127.0.0.1:0', '--node-name', 'test-node', ...args], {});
  if (r.kind !== 'run') throw new Error('not a run config');
  return r.config;
}

/** The real clock, with a hand on it: real timers, so real probes and helpers run as they would. */
export interface SteerableClock extends Clock {
  /** Moves the wall clock by `ms` (negative: backwards), as an NTP step or a VM resume would. */
  jump(ms: number): void;
  /** Moves both clocks on by `ms`, as if that much time had passed, without waiting for it. */
  pass(ms: number): void;
}

export function steerableClock(): SteerableClock {
  let wall = 0;
  let mono = 0;
  const clock = clockFrom({
    now: () => systemClock.now() + wall,
    monotonic: () => systemClock.monotonic() + mono,
    setTimeout: systemClock.setTimeout,
    clearTimeout: systemClock.clearTimeout,
    setInterval: systemClock.setInterval,
    clearInterval: systemClock.clearInterval,
  });
  return {
    ...clock,
    jump: (ms) => void (wall += ms),
    pass(ms) {
      wall += ms;
      mono += ms;
    },
  };
}

export async function core(args: string[], clock?: Clock): Promise<{ core: Core; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
  return { core: await createCore(config(args), { logger, ...(clock ? { clock } : {}) }), logs };
}

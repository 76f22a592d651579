// Builds the daemon's core in this process, with an injectable wall clock, for
// faults that need a hand on the clock or on the exact moment a cycle runs.

import { parseCommandLine, type Config } from '../../src/cli/args.js';
import { createLogger } from '../../src/log/logger.js';
import { createCore, type Core } from '../../src/core.js';

export function config(args: string[]): Config {
  const r = parseCommandLine(['serve', '--listen', '127.0.0.1:0', '--node-name', 'test-node', ...args], {});
  if (r.kind !== 'run') throw new Error('not a run config');
  return r.config;
}

export interface ShiftableClock {
  now(): number;
  /** Moves the wall clock by `ms` (negative: backwards), as an NTP step or a VM resume would. */
  jump(ms: number): void;
}

export function shiftableClock(): ShiftableClock {
  let offset = 0;
  return { now: () => Date.now() + offset, jump: (ms) => void (offset += ms) };
}

export async function core(args: string[], clock?: ShiftableClock): Promise<{ core: Core; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
  return { core: await createCore(config(args), { logger, ...(clock ? { clock } : {}) }), logs };
}

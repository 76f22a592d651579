// JSON-lines logger. One line per event; `once` keeps repeated conditions
// (a malformed file seen every scan, an unreadable mount table) to one line.

import { systemClock, type Clock } from '../shared/clock.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** Logs only the first time `key` is seen (until `forget(key)`). Returns whether it logged. */
  once(key: string, level: LogLevel, msg: string, fields?: Fields): boolean;
  forget(key: string): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  /** The clock whose wall time stamps each line. */
  clock?: Pick<Clock, 'now'>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const clock = options.clock ?? systemClock;
  const seen = new Set<string>();

  const log = (level: LogLevel, msg: string, fields?: Fields): void => {
    if (ORDER[level] < min) return;
    const entry: Fields = { ts: new Date(clock.now()).toISOString(), level, msg };
    if (fields) {
      for (const [k, v] of Object.entries(fields)) entry[k] = v instanceof Error ? describeError(v) : v;
    }
    write(JSON.stringify(entry, bigintSafe) + '\n');
  };

  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    once(key, level, msg, fields) {
      if (seen.has(key)) return false;
      // Keys name paths and files that come and go; never let them pile up without bound.
      if (seen.size >= 10_000) seen.clear();
      seen.add(key);
      log(level, msg, fields);
      return true;
    },
    forget(key) {
      seen.delete(key);
    },
  };
}

function describeError(err: Error): Fields {
  const out: Fields = { name: err.name, message: err.message };
  if (err.cause !== undefined) out.cause = err.cause instanceof Error ? describeError(err.cause) : String(err.cause);
  return out;
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

// One probe helper process: spawned, handshaken, fed request lines, answered
// by response lines, and asked whether it is alive. Its life is an explicit
// state: starting → ready → retired (takes no new work, exits once its stuck
// calls return) → gone (exited, or stopped answering a ping). The pool decides
// when to retire it; this module decides when it is gone.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HelperLostError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import { decodeResponse, encodeRequest, PING, PONG, READY, type HelperResponse } from './helper-protocol.js';

export type HelperState = 'starting' | 'ready' | 'retired' | 'gone';

export type SpawnHelper = (threads: number) => ChildProcess;

const HELPER_SCRIPT = fileURLToPath(new URL('./helper-main.js', import.meta.url));

// --lite-mode turns WebAssembly off and says so on stderr ("disabling flag --expose_wasm due
// to conflicting flags") at every start, which the daemon would log as a warning: turned off
// here first, it is silent. The helper runs no WebAssembly.
const LITE_FLAGS = ['--lite-mode', '--no-expose-wasm'];
let liteMode: boolean | undefined;
/** V8 flags come and go between Node versions, and an unknown one would stop every helper from starting: asked once. */
function supportsLiteMode(): boolean {
  liteMode ??= spawnSync(process.execPath, [...LITE_FLAGS, '-e', ''], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return liteMode;
}

export const spawnNodeHelper: SpawnHelper = (threads) =>
  // --lite-mode: no optimizing compiler; the helper's work is a few lines of JavaScript per
  // probe, and it saves ~2 MiB on every node.
  spawn(process.execPath, ['--max-old-space-size=32', '--max-semi-space-size=1', ...(supportsLiteMode() ? LITE_FLAGS : []), HELPER_SCRIPT], {
    // stderr is piped, not inherited: a helper stuck on a mount must not hold the daemon's own stdio open.
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, UV_THREADPOOL_SIZE: String(threads) },
  });

/** A request handed to a helper, until it is answered or the helper is gone. */
export interface Pending {
  readonly id: number;
  resolve(r: HelperResponse): void;
  reject(e: Error): void;
}

/** How a helper went: what the pool needs to tell an expected exit from a loss. */
export interface HelperLoss {
  readonly why: string;
  readonly fields: Record<string, unknown>;
  /** It had been retired before it went. */
  readonly retired: boolean;
  /** Requests it still held, now failed with HelperLostError. */
  readonly pending: number;
}

export interface HelperEvents {
  /** The helper has started and reads requests. */
  onReady(): void;
  /** A request was answered. */
  onAnswer(): void;
  onGone(loss: HelperLoss): void;
}

export interface HelperProcess {
  readonly pid: number | undefined;
  state(): HelperState;
  /** Requests sent and not answered, stuck ones included. */
  inFlight(): number;
  stuck(): number;
  /** Ready, not retired, and a thread free for another request. */
  accepts(): boolean;
  holds(id: number): boolean;
  /** Takes a request; it is written with the others at the next flush. */
  assign(p: Pending, path: string): void;
  /** Writes every request assigned since the last flush, in one write. */
  flush(): void;
  /** The caller gave up waiting on request `id`: it holds one of this helper's threads. Returns the stuck count. */
  markStuck(id: number): number;
  /** Whether it answers a ping in time; one that does not is gone. */
  alive(): Promise<boolean>;
  /** No new requests: stdin is closed, and the process exits once its stuck calls return. */
  retire(): void;
  /** For shutdown only. */
  kill(): void;
}

export interface HelperProcessOptions {
  readonly spawnHelper: SpawnHelper;
  readonly threads: number;
  readonly pingTimeoutMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly events: HelperEvents;
}

export function startHelperProcess(opts: HelperProcessOptions): HelperProcess {
  const { logger, events, threads, clock } = opts;
  const proc = opts.spawnHelper(threads);
  const pending = new Map<number, Pending>();
  const stuckIds = new Set<number>();
  let state: HelperState = 'starting';
  let batch = '';
  // The liveness check under way, shared by every request that asks.
  let ping: Promise<boolean> | undefined;
  let onPong: (() => void) | undefined;

  const gone = (why: string, fields: Record<string, unknown> = {}) => {
    if (state === 'gone') return;
    const retired = state === 'retired';
    state = 'gone';
    const held = pending.size;
    const lost = new HelperLostError(`probe helper ${proc.pid} ${why}`);
    for (const p of pending.values()) p.reject(lost);
    pending.clear();
    stuckIds.clear();
    onPong?.();
    events.onGone({ why, fields, retired, pending: held });
  };

  proc.stdin?.on('error', () => {}); // EPIPE after an exit is handled by 'exit'
  if (proc.stderr) {
    createInterface({ input: proc.stderr, crlfDelay: Infinity }).on('line', (line) => logger.warn('probe helper stderr', { pid: proc.pid, line: line.slice(0, 1000) }));
  }
  createInterface({ input: proc.stdout!, crlfDelay: Infinity }).on('line', (line) => {
    if (state === 'starting') {
      if (line === READY) state = 'ready';
      events.onReady();
      return;
    }
    if (line === PONG) return onPong?.();
    const r = decodeResponse(line);
    const p = r && pending.get(r.id);
    if (!r || !p) return;
    pending.delete(r.id);
    stuckIds.delete(r.id);
    p.resolve(r);
    events.onAnswer();
  });
  proc.once('exit', (code, signal) => gone(`exited (${signal ?? code})`, { code, signal }));
  // A helper that cannot even be spawned emits only 'error'.
  proc.once('error', (err) => {
    logger.error('probe helper failed', { error: err });
    if (proc.pid === undefined) gone('exited (null)', { code: null, signal: null });
  });
  logger.debug('probe helper started', { pid: proc.pid, threads });

  return {
    pid: proc.pid,
    state: () => state,
    inFlight: () => pending.size,
    stuck: () => stuckIds.size,
    accepts: () => state === 'ready' && pending.size < threads,
    holds: (id) => pending.has(id),
    assign(p, path) {
      pending.set(p.id, p);
      batch += encodeRequest(p.id, path);
    },
    flush() {
      if (!batch) return;
      proc.stdin!.write(batch);
      batch = '';
    },
    markStuck(id) {
      if (pending.has(id)) stuckIds.add(id);
      return stuckIds.size;
    },
    alive() {
      if (state === 'gone') return Promise.resolve(false);
      // A retired helper takes no input (its stdin is closed); it only holds calls already stuck.
      if (state === 'retired') return Promise.resolve(true);
      ping ??= new Promise<boolean>((resolve) => {
        const timer = clock.setTimeout(() => {
          onPong = undefined;
          ping = undefined;
          resolve(false);
          if (state === 'gone') return;
          gone(`did not answer a ping within ${opts.pingTimeoutMs} ms`);
          // Most likely dying with a thread blocked on a mount; make sure it goes.
          proc.kill('SIGKILL');
          proc.stdin?.destroy();
          proc.stdout?.destroy();
          proc.stderr?.destroy();
        }, opts.pingTimeoutMs);
        onPong = () => {
          clock.clearTimeout(timer);
          onPong = undefined;
          ping = undefined;
          resolve(state !== 'gone');
        };
        proc.stdin?.write(`${PING}\n`);
      });
      return ping;
    },
    retire() {
      if (state === 'gone') return;
      state = 'retired';
      proc.stdin?.end();
    },
    kill() {
      if (state !== 'gone') state = 'retired';
      proc.kill('SIGKILL');
    },
  };
}

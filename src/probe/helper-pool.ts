// Owns the probe helper processes. One helper takes all new requests; each
// stuck request keeps one of its pool threads. When too few threads are left
// for healthy probes, the helper is retired (it takes no new work) and a fresh
// one takes over. A retired helper is never killed while it holds stuck calls:
// killing would free the mount's request queue only to have the next probe
// block again, and a call the FUSE client has already read cannot be killed
// anyway. It exits by itself once its last call returns.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { HelperLostError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { decodeResponse, encodeRequest, PING, PONG, type HelperResponse } from './helper-protocol.js';

export interface HelperRequest {
  /** Resolves when the request has been written to a helper: the probe's clock starts here. */
  readonly sent: Promise<void>;
  /** The helper's answer; rejects with HelperLostError if the helper dies first. */
  readonly done: Promise<HelperResponse>;
  /** The caller gave up waiting: count the call as holding a helper thread. */
  markStuck(): void;
  /**
   * Whether the helper holding this request still answers. A helper killed
   * while one of its threads is blocked on a hung mount never exits (it stays
   * a zombie until the mount answers), so no exit event comes: without this,
   * every probe sent to it would time out and read as a broken mount. A helper
   * that does not answer is replaced and its requests fail with HelperLostError.
   */
  alive(): Promise<boolean>;
}

export interface HelperPoolStats {
  readonly helpers: number;
  readonly retired: number;
  readonly inFlight: number;
  readonly stuck: number;
  readonly queued: number;
  readonly spawned: number;
  readonly unexpectedExits: number;
  readonly pids: number[];
}

export interface HelperPool {
  request(path: string): HelperRequest;
  stats(): HelperPoolStats;
  /** Kills every helper without waiting: for shutdown only. */
  close(): void;
}

export type SpawnHelper = (threads: number) => ChildProcess;

export interface HelperPoolOptions {
  /** libuv pool threads per helper: stuck calls plus healthy concurrency. */
  readonly threads?: number;
  /** Threads kept for healthy probes; the helper retires when fewer are free. */
  readonly reserve?: number;
  readonly logger: Logger;
  readonly spawnHelper?: SpawnHelper;
  /** Minimum gap between spawns after a helper died unexpectedly. */
  readonly respawnDelayMs?: number;
  /** How long a helper may take to answer a ping before it is given up. */
  readonly pingTimeoutMs?: number;
}

const HELPER_SCRIPT = fileURLToPath(new URL('./helper-main.js', import.meta.url));

export const spawnNodeHelper: SpawnHelper = (threads) =>
  // --lite-mode: no optimizing compiler; the helper's work is a few lines of JavaScript per
  // probe, and it saves ~2 MiB on every node.
  spawn(process.execPath, ['--max-old-space-size=32', '--max-semi-space-size=1', '--lite-mode', HELPER_SCRIPT], {
    // stderr is piped, not inherited: a helper stuck on a mount must not hold the daemon's own stdio open.
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, UV_THREADPOOL_SIZE: String(threads) },
  });

interface Pending {
  readonly id: number;
  stuck: boolean;
  resolve(r: HelperResponse): void;
  reject(e: Error): void;
}

interface Helper {
  readonly proc: ChildProcess;
  readonly pending: Map<number, Pending>;
  /** Started and reading requests. */
  ready: boolean;
  stuck: number;
  retired: boolean;
  exited: boolean;
  /** The liveness check under way, shared by every request that asks. */
  ping?: Promise<boolean>;
  onPong?: () => void;
}

interface Queued {
  readonly path: string;
  readonly pending: Pending;
  readonly onSent: () => void;
  readonly onHelper: (h: Helper) => void;
}

export function createHelperPool(opts: HelperPoolOptions): HelperPool {
  const threads = opts.threads ?? 128;
  const reserve = Math.min(opts.reserve ?? 16, threads - 1);
  const spawnHelper = opts.spawnHelper ?? spawnNodeHelper;
  const respawnDelayMs = opts.respawnDelayMs ?? 1000;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 3000;
  const { logger } = opts;
  const helpers = new Set<Helper>();
  // FIFO with a moving head: Array#shift is linear, and a cycle can queue 10,000 requests.
  let queue: Queued[] = [];
  let head = 0;
  let drainScheduled = false;
  let active: Helper | undefined;
  let nextId = 1;
  let spawned = 0;
  let unexpectedExits = 0;
  let lastUnexpectedExit = -Infinity;
  let respawnTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const start = (): Helper | undefined => {
    if (closed) return undefined;
    const wait = lastUnexpectedExit + respawnDelayMs - performance.now();
    if (wait > 0) {
      respawnTimer ??= setTimeout(() => {
        respawnTimer = undefined;
        drain();
      }, wait).unref();
      return undefined;
    }
    const proc = spawnHelper(threads);
    spawned++;
    const h: Helper = { proc, pending: new Map(), ready: false, stuck: 0, retired: false, exited: false };
    helpers.add(h);
    proc.stdin?.on('error', () => {}); // EPIPE after an exit is handled by 'exit'
    if (proc.stderr) {
      createInterface({ input: proc.stderr, crlfDelay: Infinity }).on('line', (line) =>
        logger.warn('probe helper stderr', { pid: proc.pid, line: line.slice(0, 1000) }),
      );
    }
    createInterface({ input: proc.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      if (!h.ready) {
        h.ready = line === 'ready';
        drain();
        return;
      }
      if (line === PONG) return h.onPong?.();
      const r = decodeResponse(line);
      const p = r && h.pending.get(r.id);
      if (!r || !p) return;
      h.pending.delete(r.id);
      if (p.stuck) h.stuck--;
      p.resolve(r);
      afterAnswer(h);
    });
    const onGone = (code: number | null, signal: NodeJS.Signals | null) => {
      if (h.exited) return;
      lose(h, `exited (${signal ?? code})`, { code, signal });
    };
    proc.once('exit', onGone);
    // A helper that cannot even be spawned emits only 'error'.
    proc.once('error', (err) => {
      logger.error('probe helper failed', { error: err });
      if (proc.pid === undefined) onGone(null, null);
    });
    logger.debug('probe helper started', { pid: proc.pid, threads });
    return h;
  };

  /** A helper is gone (exited, or stopped answering): fail its requests and let a new one take over. */
  const lose = (h: Helper, why: string, fields: Record<string, unknown> = {}) => {
    h.exited = true;
    helpers.delete(h);
    if (!closed && (!h.retired || h.pending.size > 0)) {
      unexpectedExits++;
      lastUnexpectedExit = performance.now();
      logger.warn(why.startsWith('exited') ? 'probe helper exited unexpectedly' : 'probe helper stopped answering; replacing it', {
        pid: h.proc.pid,
        ...fields,
        pending: h.pending.size,
      });
    }
    const lost = new HelperLostError(`probe helper ${h.proc.pid} ${why}`);
    for (const p of h.pending.values()) p.reject(lost);
    h.pending.clear();
    h.onPong?.();
    if (active === h) active = undefined;
    drain();
  };

  const checkAlive = (h: Helper): Promise<boolean> => {
    if (h.exited) return Promise.resolve(false);
    // A retired helper takes no input (its stdin is closed); it only holds calls already stuck.
    if (h.retired) return Promise.resolve(true);
    h.ping ??= new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        h.onPong = undefined;
        h.ping = undefined;
        resolve(false);
        if (h.exited) return;
        lose(h, `did not answer a ping within ${pingTimeoutMs} ms`);
        // Most likely dying with a thread blocked on a mount; make sure it goes.
        h.proc.kill('SIGKILL');
        h.proc.stdin?.destroy();
        h.proc.stdout?.destroy();
        h.proc.stderr?.destroy();
      }, pingTimeoutMs);
      h.onPong = () => {
        clearTimeout(timer);
        h.onPong = undefined;
        h.ping = undefined;
        resolve(!h.exited);
      };
      h.proc.stdin?.write(`${PING}\n`);
    });
    return h.ping;
  };

  const retire = (h: Helper) => {
    h.retired = true;
    if (active === h) active = undefined;
    logger.info('retiring probe helper with stuck calls; a new one takes new probes', {
      pid: h.proc.pid,
      stuck: h.stuck,
    });
    // No more requests: the helper exits by itself once its stuck calls return.
    h.proc.stdin?.end();
  };

  const afterAnswer = (h: Helper) => {
    if (!h.retired) scheduleDrain();
  };

  // Requests made in one tick go out in one write.
  const scheduleDrain = () => {
    if (drainScheduled) return;
    drainScheduled = true;
    queueMicrotask(() => {
      drainScheduled = false;
      drain();
    });
  };

  const canTake = (h: Helper) => h.ready && !h.retired && !h.exited && h.pending.size < threads;

  const drain = () => {
    let batch = '';
    let to: Helper | undefined;
    const sent: Queued[] = [];
    while (head < queue.length) {
      if (active && active.stuck >= threads - reserve) retire(active);
      active ??= start();
      const h = active;
      if (!h || !canTake(h)) break;
      if (to && to !== h) break;
      to = h;
      const q = queue[head]!;
      queue[head++] = undefined as never;
      h.pending.set(q.pending.id, q.pending);
      q.onHelper(h);
      batch += encodeRequest(q.pending.id, q.path);
      sent.push(q);
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    if (to && batch) {
      to.proc.stdin!.write(batch);
      for (const q of sent) q.onSent();
    }
    // A helper switch (retirement) mid-batch: carry on with the new one.
    if (to && head < queue.length && canTake(active ?? to)) scheduleDrain();
  };

  return {
    request(path) {
      let helper: Helper | undefined;
      let stuckMarked = false;
      let onSent!: () => void;
      const sent = new Promise<void>((res) => (onSent = res));
      let pending!: Pending;
      const done = new Promise<HelperResponse>((resolve, reject) => {
        pending = { id: nextId++, stuck: false, resolve, reject };
      });
      if (closed) {
        pending.reject(new HelperLostError('probe helpers are shut down'));
      } else {
        queue.push({ path, pending, onSent, onHelper: (h) => (helper = h) });
        scheduleDrain();
      }
      return {
        sent,
        done,
        alive: () => (helper ? checkAlive(helper) : Promise.resolve(true)),
        markStuck() {
          if (stuckMarked || !helper || !helper.pending.has(pending.id)) return;
          stuckMarked = true;
          pending.stuck = true;
          helper.stuck++;
          if (!helper.retired && helper.stuck >= threads - reserve) {
            retire(helper);
            drain();
          }
        },
      };
    },
    stats() {
      let inFlight = 0;
      let stuck = 0;
      let retired = 0;
      const pids: number[] = [];
      for (const h of helpers) {
        inFlight += h.pending.size;
        stuck += h.stuck;
        if (h.retired) retired++;
        if (h.proc.pid !== undefined) pids.push(h.proc.pid);
      }
      return { helpers: helpers.size, retired, inFlight, stuck, queued: queue.length - head, spawned, unexpectedExits, pids };
    },
    close() {
      closed = true;
      if (respawnTimer) clearTimeout(respawnTimer);
      const lost = new HelperLostError('probe helpers are shut down');
      for (const q of queue.slice(head)) q.pending.reject(lost);
      queue = [];
      head = 0;
      for (const h of helpers) {
        h.retired = true;
        h.proc.kill('SIGKILL');
      }
    },
  };
}

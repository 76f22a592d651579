// Owns the probe helper processes. One helper takes all new requests; each
// stuck request keeps one of its pool threads. When too few threads are left
// for healthy probes, the helper is retired (it takes no new work) and a fresh
// one takes over. A retired helper is never killed while it holds stuck calls:
// killing would free the mount's request queue only to have the next probe
// block again, and a call the FUSE client has already read cannot be killed
// anyway. It exits by itself once its last call returns.

import { HelperLostError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { createBackoff } from '../shared/backoff.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { createFifo } from '../shared/fifo.js';
import type { HelperResponse } from './helper-protocol.js';
import { spawnNodeHelper, startHelperProcess, type HelperLoss, type HelperProcess, type Pending, type SpawnHelper } from './helper-process.js';

export { spawnNodeHelper, type SpawnHelper } from './helper-process.js';

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

export interface HelperPoolOptions {
  /** libuv pool threads per helper: stuck calls plus healthy concurrency. */
  readonly threads?: number;
  /** Threads kept for healthy probes; the helper retires when fewer are free. */
  readonly reserve?: number;
  readonly logger: Logger;
  readonly spawnHelper?: SpawnHelper;
  /**
   * Gap before the next spawn after a helper died unexpectedly; it doubles while helpers keep
   * dying before they start (up to RESPAWN_MAX_MS), and starts over once one starts.
   */
  readonly respawnDelayMs?: number;
  /** How long a helper may take to answer a ping before it is given up. */
  readonly pingTimeoutMs?: number;
  readonly clock?: Clock;
}

/** The longest wait between spawns of a helper that cannot start. */
const RESPAWN_MAX_MS = 30_000;

interface Queued {
  readonly path: string;
  readonly pending: Pending;
  readonly onSent: () => void;
  readonly onHelper: (h: HelperProcess) => void;
}

export function createHelperPool(opts: HelperPoolOptions): HelperPool {
  const threads = opts.threads ?? 128;
  const reserve = Math.min(opts.reserve ?? 16, threads - 1);
  const spawnHelper = opts.spawnHelper ?? spawnNodeHelper;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 3000;
  const clock = opts.clock ?? systemClock;
  // Deterministic: the only helpers that could retry in step are this node's own.
  const respawnGap = createBackoff({ initialMs: opts.respawnDelayMs ?? 1000, maxMs: RESPAWN_MAX_MS, jitter: 0 });
  const { logger } = opts;
  const helpers = new Set<HelperProcess>();
  const queue = createFifo<Queued>();
  let drainScheduled = false;
  let active: HelperProcess | undefined;
  let nextId = 1;
  let spawned = 0;
  let unexpectedExits = 0;
  /** Monotonic ms before which no helper is spawned (after an unexpected exit). */
  let spawnAfter = -Infinity;
  let respawnTimer: unknown;
  let closed = false;

  const start = (): HelperProcess | undefined => {
    if (closed) return undefined;
    // After a helper died unexpectedly, spawns are spaced: a helper that cannot start must not spin.
    const wait = spawnAfter - clock.monotonic();
    if (wait > 0) {
      respawnTimer ??= clock.setTimeout(() => {
        respawnTimer = undefined;
        drain();
      }, wait);
      return undefined;
    }
    spawned++;
    const h: HelperProcess = startHelperProcess({
      spawnHelper,
      threads,
      pingTimeoutMs,
      logger,
      clock,
      events: {
        onReady: () => {
          // Started: a helper that dies from now on is not one that cannot start.
          if (h.state() === 'ready') respawnGap.reset();
          drain();
        },
        onAnswer: () => {
          if (h.state() !== 'retired') scheduleDrain();
        },
        onGone: (loss) => lose(h, loss),
      },
    });
    helpers.add(h);
    return h;
  };

  /** A helper is gone: count and log it if it was not an expected exit, and let a new one take over. */
  const lose = (h: HelperProcess, loss: HelperLoss) => {
    helpers.delete(h);
    if (!closed && (!loss.retired || loss.pending > 0)) {
      unexpectedExits++;
      spawnAfter = clock.monotonic() + respawnGap.next()!;
      logger.warn(loss.why.startsWith('exited') ? 'probe helper exited unexpectedly' : 'probe helper stopped answering; replacing it', {
        pid: h.pid,
        ...loss.fields,
        pending: loss.pending,
      });
    }
    if (active === h) active = undefined;
    drain();
  };

  const retire = (h: HelperProcess) => {
    if (active === h) active = undefined;
    logger.info('retiring probe helper with stuck calls; a new one takes new probes', { pid: h.pid, stuck: h.stuck() });
    h.retire();
  };
  const tooStuck = (h: HelperProcess) => h.stuck() >= threads - reserve;

  // Requests made in one tick go out in one write.
  const scheduleDrain = () => {
    if (drainScheduled) return;
    drainScheduled = true;
    queueMicrotask(() => {
      drainScheduled = false;
      drain();
    });
  };

  const drain = () => {
    let to: HelperProcess | undefined;
    const sent: Queued[] = [];
    while (queue.length > 0) {
      if (active && tooStuck(active)) retire(active);
      active ??= start();
      const h = active;
      if (!h || !h.accepts()) break;
      if (to && to !== h) break;
      to = h;
      const q = queue.shift()!;
      h.assign(q.pending, q.path);
      q.onHelper(h);
      sent.push(q);
    }
    if (to && sent.length > 0) {
      to.flush();
      for (const q of sent) q.onSent();
    }
    // A helper switch (retirement) mid-batch: carry on with the new one.
    if (to && queue.length > 0 && (active ?? to).accepts()) scheduleDrain();
  };

  return {
    request(path) {
      let helper: HelperProcess | undefined;
      let stuckMarked = false;
      let onSent!: () => void;
      const sent = new Promise<void>((res) => (onSent = res));
      let pending!: Pending;
      const done = new Promise<HelperResponse>((resolve, reject) => {
        pending = { id: nextId++, resolve, reject };
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
        alive: () => (helper ? helper.alive() : Promise.resolve(true)),
        markStuck() {
          if (stuckMarked || !helper || !helper.holds(pending.id)) return;
          stuckMarked = true;
          helper.markStuck(pending.id);
          if (helper.state() !== 'retired' && tooStuck(helper)) {
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
        inFlight += h.inFlight();
        stuck += h.stuck();
        if (h.state() === 'retired') retired++;
        if (h.pid !== undefined) pids.push(h.pid);
      }
      return { helpers: helpers.size, retired, inFlight, stuck, queued: queue.length, spawned, unexpectedExits, pids };
    },
    close() {
      closed = true;
      if (respawnTimer !== undefined) clock.clearTimeout(respawnTimer);
      const lost = new HelperLostError('probe helpers are shut down');
      for (const q of queue.drain()) q.pending.reject(lost);
      for (const h of helpers) h.kill();
    },
  };
}

// The probe helper: a separate process whose libuv pool absorbs the stat calls
// that a hung FUSE client never answers. The daemon never touches a mount
// itself, so its own event loop, pool and exit stay free of blocked syscalls.
//
// Requests come on stdin, answers go to stdout (see helper-protocol.ts). When
// stdin closes the helper stops reading and exits once its pending calls return;
// it never calls process.exit() while a call may be stuck, because that waits
// for the stuck thread.

import { lstat } from 'node:fs';
import { createInterface } from 'node:readline';
import { systemClock as clock } from '../shared/clock.js';
import { createFifo } from '../shared/fifo.js';
import { decodeRequest, devToString, encodeErr, encodeOk, errnoName, PING, PONG, READY } from './helper-protocol.js';

process.title = 'juicefs-path-prober-helper';

let out: string[] = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  const chunk = out.join('');
  out = [];
  process.stdout.write(chunk);
};
// Batch answers per tick: one write for many probes.
const emit = (line: string) => {
  out.push(line);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
};

process.stdout.on('error', () => {
  // The daemon is gone; nothing left to answer.
  process.exitCode = 0;
});

// A burst of lstat calls, one per pool thread, woke every one of the 128 pool
// threads at once to fight over libuv's queue lock: most of the helper's CPU.
// So only a few calls run at a time. A call that has not answered within SLOW_MS
// (a slow or hung mount) stops counting against that window, so it never holds
// the others back; it keeps its thread until it returns, as before.
const WINDOW = 16;
const SLOW_MS = 5;
interface Call {
  fresh: boolean;
  readonly at: number;
}
const queue = createFifo<{ id: number; path: string }>();
let fresh: Call[] = [];
let freshCount = 0;
let slowTimer: unknown;

const demoteSlow = () => {
  slowTimer = undefined;
  const cutoff = clock.monotonic() - SLOW_MS;
  for (const c of fresh) {
    if (c.fresh && c.at <= cutoff) {
      c.fresh = false;
      freshCount--;
    }
  }
  fresh = fresh.filter((c) => c.fresh);
  pump();
};

const pump = () => {
  while (freshCount < WINDOW && queue.length > 0) {
    const req = queue.shift()!;
    const call: Call = { fresh: true, at: clock.monotonic() };
    fresh.push(call);
    freshCount++;
    // lstat: a mount point is never a symlink, and a path swapped for one is not followed.
    lstat(req.path, { bigint: true }, (err, st) => {
      if (call.fresh) {
        call.fresh = false;
        freshCount--;
      }
      if (err) emit(encodeErr(req.id, errnoName(err), err.message));
      else emit(encodeOk(req.id, devToString(st.dev), st.ino.toString()));
      pump();
    });
  }
  if (queue.length > 0) slowTimer ??= clock.setTimeout(demoteSlow, SLOW_MS);
  if (fresh.length > 4 * WINDOW) fresh = fresh.filter((c) => c.fresh);
};

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
// Tell the daemon we are listening, so its probe clock never counts our start-up.
process.stdout.write(`${READY}\n`);
rl.on('line', (line) => {
  if (line === PING) return emit(`${PONG}\n`);
  const req = decodeRequest(line);
  if (!req) return;
  queue.push(req);
  pump();
});
rl.on('close', () => {
  // Let pending calls finish and the loop drain; the process then exits by itself.
  process.stdin.destroy();
});

// One helper process, real and unprivileged: its states, its answers, and the
// liveness decision. Stand-in helpers are real processes too (node -e), each
// doing one thing wrong.

import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HelperLostError } from '../../src/errors.js';
import { spawnNodeHelper, startHelperProcess, type HelperLoss, type SpawnHelper } from '../../src/probe/helper-process.js';
import { encodeRequest, type HelperResponse } from '../../src/probe/helper-protocol.js';
import { createLogger } from '../../src/log/logger.js';
import { manualTime } from '../fixtures/manual-time.js';

const logger = createLogger({ write: () => {} });

/** A helper whose ping deadline runs on the manual clock (`time`). */
function start(spawnHelper: SpawnHelper, pingTimeoutMs = 3000) {
  const time = manualTime();
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  let goneWith!: (l: HelperLoss) => void;
  const gone = new Promise<HelperLoss>((r) => (goneWith = r));
  const h = startHelperProcess({ spawnHelper, threads: 4, pingTimeoutMs, logger, clock: time.clock, events: { onReady: ready, onAnswer: () => {}, onGone: goneWith } });
  return { h, ready: readyP, gone, time };
}

function ask(h: ReturnType<typeof start>['h'], id: number, p: string): Promise<HelperResponse> {
  return new Promise((resolve, reject) => {
    h.assign({ id, resolve, reject }, p);
    h.flush();
  });
}

/** A helper that says it is ready and then reads everything and answers nothing, pings included. */
const mute: SpawnHelper = () => spawn(process.execPath, ['-e', "process.stdout.write('ready\\n'); process.stdin.resume();"], { stdio: ['pipe', 'pipe', 'pipe'] });

test('a helper starts, answers stats, and once retired exits by itself: an expected loss', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-helper-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const s = start(spawnNodeHelper);
  t.is(s.h.state(), 'starting');
  t.false(s.h.accepts());
  await s.ready;
  t.is(s.h.state(), 'ready');
  t.true(s.h.accepts());
  const ok = await ask(s.h, 1, dir);
  t.like(ok, { id: 1, ok: true });
  const missing = await ask(s.h, 2, path.join(dir, 'nope'));
  t.like(missing, { id: 2, ok: false, code: 'ENOENT' });
  t.is(s.h.inFlight(), 0);
  t.true(await s.h.alive());
  s.h.retire();
  t.is(s.h.state(), 'retired');
  t.false(s.h.accepts());
  t.true(await s.h.alive(), 'a retired helper is not pinged: its stdin is closed');
  const loss = await s.gone;
  t.is(s.h.state(), 'gone');
  t.like(loss, { retired: true, pending: 0 });
  t.regex(loss.why, /^exited/);
});

test('a helper that does not answer a ping in time is gone, and its requests fail with HelperLostError', async (t) => {
  const s = start(mute, 300);
  await s.ready;
  const answer = ask(s.h, 7, '/');
  t.is(s.h.markStuck(7), 1);
  t.is(s.h.stuck(), 1);
  const alive = s.h.alive();
  s.time.advance(299);
  t.is(s.h.state(), 'ready', 'not given up before its ping deadline');
  s.time.advance(1);
  t.false(await alive);
  t.is(s.h.state(), 'gone');
  const err = await t.throwsAsync(answer);
  t.true(err instanceof HelperLostError);
  const loss = await s.gone;
  t.like(loss, { retired: false, pending: 1 });
  t.regex(loss.why, /did not answer a ping within 300 ms/);
  t.false(await s.h.alive(), 'gone stays gone');
});

test('a helper that dies fails what it held; one that never says ready takes nothing', async (t) => {
  const s = start(mute);
  await s.ready;
  const answer = ask(s.h, 1, '/');
  s.h.kill();
  await t.throwsAsync(answer, { instanceOf: HelperLostError, message: /exited \(SIGKILL\)/ });
  t.like(await s.gone, { pending: 1 });

  const silent = start(() => spawn(process.execPath, ['-e', 'process.stdin.resume()'], { stdio: ['pipe', 'pipe', 'pipe'] }));
  t.teardown(() => silent.h.kill());
  t.is(silent.h.state(), 'starting');
  t.false(silent.h.accepts());
});

test('the real helper starts and answers without a word on stderr, which the daemon would log as a warning', async (t) => {
  const child = spawnNodeHelper(4);
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const lines = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.split('\n').length > 2) resolve(out);
    });
    child.stdin!.write(`${encodeRequest(1, os.tmpdir())}\n`);
  });
  child.kill();
  await new Promise((r) => child.once('exit', r));
  t.regex(lines, /^ready\n/);
  t.is(err, '');
});

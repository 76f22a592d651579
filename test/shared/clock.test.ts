import test from 'ava';
import { DeadlineError, systemClock } from '../../src/shared/clock.js';
import { backoffDelay, createBackoff } from '../../src/shared/backoff.js';
import { MANUAL_EPOCH, manualTime } from '../fixtures/manual-time.js';

test('a deadline that passes aborts the work it was given and rejects with a DeadlineError', async (t) => {
  const m = manualTime();
  let signal: AbortSignal | undefined;
  const p = m.clock.deadline(1000, 'event request took over 1s', (s) => {
    signal = s;
    return new Promise<never>(() => {});
  });
  await m.settle(999);
  t.false(signal!.aborted);
  await m.settle(1);
  const err = await t.throwsAsync(p, { instanceOf: DeadlineError, message: 'event request took over 1s' });
  t.true(signal!.aborted);
  t.is(signal!.reason, err);
});

test('work that finishes in time is not aborted and leaves no timer behind', async (t) => {
  const m = manualTime();
  let signal: AbortSignal | undefined;
  const v = await m.clock.deadline(1000, 'late', async (s) => {
    signal = s;
    return 42;
  });
  t.is(v, 42);
  t.false(signal!.aborted);
  t.is(m.armed(), 0);
});

test('sleep ends when its time comes, or at once with the reason when aborted', async (t) => {
  const m = manualTime();
  let done = false;
  const p = m.clock.sleep(500).then(() => (done = true));
  await m.settle(499);
  t.false(done);
  await m.settle(1);
  await p;
  t.true(done);
  const ac = new AbortController();
  const q = m.clock.sleep(10_000, ac.signal);
  ac.abort(new Error('stopping'));
  await t.throwsAsync(q, { message: 'stopping' });
  t.is(m.armed(), 0);
});

test('an interval fires once per period until cleared; wall and monotonic time move together', (t) => {
  const m = manualTime();
  const seen: number[] = [];
  const h = m.clock.setInterval(() => seen.push(m.clock.monotonic()), 100);
  m.advance(350);
  t.deepEqual(seen, [100, 200, 300]);
  t.is(m.clock.now(), MANUAL_EPOCH + 350);
  m.clock.clearInterval(h);
  m.advance(1000);
  t.is(seen.length, 3);
});

test('the real clock never holds the process open: its timers are unref\'d', (t) => {
  const h = systemClock.setTimeout(() => {}, 60_000) as NodeJS.Timeout;
  t.false(h.hasRef());
  systemClock.clearTimeout(h);
  const i = systemClock.setInterval(() => {}, 60_000) as NodeJS.Timeout;
  t.false(i.hasRef());
  systemClock.clearInterval(i);
});

test('backoff grows by its factor up to its cap, with jitter below the full delay, and stops after maxAttempts', (t) => {
  const policy = { initialMs: 100, maxMs: 1000, factor: 3, jitter: 0.5, maxAttempts: 4 };
  t.deepEqual([0, 1, 2, 3].map((a) => backoffDelay(policy, a, 1)), [100, 300, 900, 1000]);
  t.deepEqual([0, 1, 2, 3].map((a) => backoffDelay(policy, a, 0)), [50, 150, 450, 500]);
  const b = createBackoff(policy, () => 1);
  t.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 300, 900, 1000, undefined]);
  t.is(b.attempts, 4);
  b.reset();
  t.is(b.next(), 100);
});

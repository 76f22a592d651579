// When cycles run, on the manual clock: every interval, soon after
// a trigger (coalesced), spaced, at most two at once, again when a report asks.

import test from 'ava';
import type { CycleReport } from '../../src/cycle/cycle.js';
import { createScheduler } from '../../src/cycle/scheduler.js';
import { createLogger } from '../../src/log/logger.js';
import { manualTime } from '../fixtures/manual-time.js';

const OK: CycleReport = { ok: true, paths: 1, sources: 1, durationMs: 1 };
/** A cycle function whose cycles end when the test says; records when each started. */
function fakeCycles(now: () => number) {
  const runs: { at: number; end: (r?: CycleReport) => void; fail: (e: unknown) => void }[] = [];
  const runCycle = () => new Promise<CycleReport>((resolve, reject) => runs.push({ at: now(), end: (r = OK) => resolve(r), fail: reject }));
  return { runs, runCycle, running: () => runs.length };
}

function setup(o: { intervalMs?: number; minGapMs?: number } = {}) {
  const time = manualTime();
  const cycles = fakeCycles(time.now);
  const logs: string[] = [];
  const scheduler = createScheduler({
    runCycle: cycles.runCycle,
    intervalMs: o.intervalMs ?? 1000,
    logger: createLogger({ write: (l) => logs.push(l) }),
    clock: time.clock,
    minGapMs: o.minGapMs ?? 100,
  });
  return { now: time.now, advance: time.settle, ...cycles, scheduler, logs };
}

test('a cycle runs at start and then every interval', async (t) => {
  const s = setup({ intervalMs: 1000 });
  s.scheduler.start();
  await s.advance(0);
  t.deepEqual(s.runs.map((r) => r.at), [0]);
  s.runs[0]!.end();
  await s.advance(2500);
  t.deepEqual(s.runs.map((r) => r.at), [0, 1000, 2000]);
  s.scheduler.stop();
});

test('triggers while nothing runs are coalesced into one cycle, spaced from the last start', async (t) => {
  const s = setup({ intervalMs: 60_000, minGapMs: 100 });
  s.scheduler.start();
  await s.advance(0);
  s.runs[0]!.end();
  await s.advance(10);
  s.scheduler.trigger();
  s.scheduler.trigger();
  s.scheduler.trigger();
  await s.advance(200);
  t.deepEqual(s.runs.map((r) => r.at), [0, 100], 'one more cycle, 100 ms after the previous start');
  s.scheduler.stop();
});

test('at most two cycles run at once; a request made meanwhile runs when one ends', async (t) => {
  const s = setup({ intervalMs: 60_000, minGapMs: 100 });
  s.scheduler.start();
  await s.advance(0);
  s.scheduler.trigger();
  await s.advance(150);
  t.is(s.runs.length, 2, 'the first still running, a second started');
  s.scheduler.trigger();
  await s.advance(1000);
  t.is(s.runs.length, 2, 'no third while two run');
  s.runs[0]!.end();
  await s.advance(0);
  t.is(s.runs.length, 3);
  t.is(s.runs[2]!.at, 1150, 'started as soon as one ended');
  s.scheduler.stop();
});

test('ready after the first cycle that could read the mount table, not before', async (t) => {
  const s = setup({ intervalMs: 1000 });
  s.scheduler.start();
  await s.advance(0);
  s.runs[0]!.end({ ok: false, paths: 0, sources: 0, durationMs: 1 });
  await s.advance(0);
  t.false(s.scheduler.isReady());
  await s.advance(1000);
  s.runs[1]!.end({ ...OK, paths: 7 });
  await s.advance(0);
  t.true(s.scheduler.isReady());
  s.scheduler.stop();
});

test('a report asking for a recheck gets a cycle after that delay, not before', async (t) => {
  const s = setup({ intervalMs: 60_000 });
  const seen: CycleReport[] = [];
  s.scheduler.onCycle((r) => seen.push(r));
  s.scheduler.start();
  await s.advance(0);
  s.runs[0]!.end({ ...OK, recheckInMs: 700 });
  await s.advance(699);
  t.is(s.runs.length, 1);
  await s.advance(1);
  t.is(s.runs.length, 2);
  t.is(s.runs[1]!.at, 700);
  t.is(seen.length, 1, 'listeners get each report');
  s.scheduler.stop();
});

test('a cycle that throws is logged and the next ones still run', async (t) => {
  const s = setup({ intervalMs: 1000 });
  s.scheduler.start();
  await s.advance(0);
  s.runs[0]!.fail(new Error('boom'));
  await s.advance(1000);
  t.is(s.runs.length, 2);
  t.true(s.logs.some((l) => l.includes('probe cycle failed') && l.includes('boom')));
  s.scheduler.stop();
});

test('after stop nothing runs, whatever is triggered', async (t) => {
  const s = setup({ intervalMs: 1000 });
  s.scheduler.start();
  await s.advance(0);
  s.runs[0]!.end();
  s.scheduler.stop();
  s.scheduler.trigger();
  await s.advance(5000);
  t.is(s.runs.length, 1);
});

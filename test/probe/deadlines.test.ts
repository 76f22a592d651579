import test from 'ava';
import { createDeadlines } from '../../src/probe/deadlines.js';
import { manualTime } from '../fixtures/manual-time.js';

test('deadlines expire in the order they were set, each after the timeout, with one timer armed', (t) => {
  const m = manualTime();
  const d = createDeadlines({ timeoutMs: 100, clock: m.clock });
  const fired: string[] = [];
  d.start(() => fired.push('a'));
  m.advance(30);
  d.start(() => fired.push('b'));
  d.start(() => fired.push('c'));
  t.is(m.armed(), 1);
  m.advance(69);
  t.deepEqual(fired, []);
  m.advance(1);
  t.deepEqual(fired, ['a']);
  m.advance(29);
  t.deepEqual(fired, ['a']);
  m.advance(1);
  t.deepEqual(fired, ['a', 'b', 'c']);
  t.is(d.pending, 0);
  t.is(m.armed(), 0);
});

test('a cancelled deadline never fires, and the ones after it still do', (t) => {
  const m = manualTime();
  const d = createDeadlines({ timeoutMs: 100, clock: m.clock });
  const fired: string[] = [];
  const cancelA = d.start(() => fired.push('a'));
  m.advance(10);
  const cancelB = d.start(() => fired.push('b'));
  m.advance(10);
  d.start(() => fired.push('c'));
  cancelA();
  cancelB();
  cancelB();
  t.is(d.pending, 1);
  m.advance(200);
  t.deepEqual(fired, ['c']);
  t.is(d.pending, 0);
});

test('many deadlines: every uncancelled one fires once', (t) => {
  const m = manualTime();
  const d = createDeadlines({ timeoutMs: 100, clock: m.clock });
  let fired = 0;
  const cancels: (() => void)[] = [];
  for (let i = 0; i < 5000; i++) {
    cancels.push(d.start(() => fired++));
    if (i % 100 === 0) m.advance(1);
  }
  for (let i = 0; i < 5000; i += 2) cancels[i]!();
  m.advance(1000);
  t.is(fired, 2500);
  t.is(d.pending, 0);
});

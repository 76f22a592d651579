import test from 'ava';
import { createFifo } from '../../src/shared/fifo.js';

test('a FIFO gives items back in order, peeks without taking, and drains what is left', (t) => {
  const q = createFifo<number>();
  for (let i = 0; i < 5000; i++) q.push(i);
  t.is(q.peek(), 0);
  for (let i = 0; i < 3000; i++) t.is(q.shift(), i);
  t.is(q.length, 2000);
  q.push(5000);
  t.is(q.peek(), 3000);
  const rest = q.drain();
  t.is(rest.length, 2001);
  t.is(rest[0], 3000);
  t.is(rest.at(-1), 5000);
  t.is(q.length, 0);
  t.is(q.shift(), undefined);
  t.is(q.peek(), undefined);
});

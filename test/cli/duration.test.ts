import test from 'ava';
import { formatDuration, parseDuration } from '../../src/cli/duration.js';

test('parses the duration forms operators write', (t) => {
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('10s'), 10_000);
  t.is(parseDuration('1m'), 60_000);
  t.is(parseDuration('2h'), 7_200_000);
  t.is(parseDuration('1m30s'), 90_000);
  t.is(parseDuration('1.5s'), 1500);
  t.is(parseDuration(' 5s '), 5000);
});

test('rejects numbers without units and anything else', (t) => {
  for (const bad of ['', '10', 's', '10x', '-1s', '1s junk', '1 s', 'ms10', '1e3s']) t.is(parseDuration(bad), undefined, bad);
});

test('formats back to the shortest whole unit', (t) => {
  t.is(formatDuration(120_000), '2m');
  t.is(formatDuration(1500), '1500ms');
  t.is(formatDuration(5000), '5s');
});

test('a duration too large to be a whole number of milliseconds is not a duration', (t) => {
  t.is(parseDuration('800000000000m'), undefined);
  t.is(parseDuration(`${'9'.repeat(40)}h`), undefined);
});

// The harness's own logic: the metrics reader and the guard's reasons.

import test from 'ava';
import { eventually, parseMetrics, pathStates, sampleValue, samples, unmet } from './fixtures/harness.js';

const TEXT = `# HELP juicefs_volume_path_health 1 healthy
# TYPE juicefs_volume_path_health gauge
juicefs_volume_path_health{volume_id="pv-a",volume_path="/k/a b\\tc/mount",pod_uid="u1"} 1
juicefs_volume_path_health{volume_id="pv-b",volume_path="/k/q\\"uote\\\\d/mount",pod_uid="u2"} 0
juicefs_path_prober_cycle_duration_seconds_bucket{le="+Inf"} 12
juicefs_path_prober_cycle_duration_seconds_count 12
process_start_time_seconds 1.7e9 1700000000000
`;

test('samples are read with their labels unescaped, bare names and timestamps included', (t) => {
  const all = parseMetrics(TEXT);
  t.is(all.length, 5);
  t.deepEqual(all[1], { name: 'juicefs_volume_path_health', labels: { volume_id: 'pv-b', volume_path: '/k/q"uote\\d/mount', pod_uid: 'u2' }, value: 0 });
  t.is(sampleValue(TEXT, 'juicefs_volume_path_health', { volume_path: '/k/a b\\tc/mount' }), 1);
  t.is(sampleValue(TEXT, 'juicefs_path_prober_cycle_duration_seconds_count'), 12);
  t.is(sampleValue(TEXT, 'process_start_time_seconds'), 1.7e9);
  t.is(samples(TEXT, 'juicefs_path_prober_cycle_duration_seconds_bucket')[0]!.labels.le, '+Inf');
});

test('labels match exactly: a prefix of a value, or a missing series, is no match', (t) => {
  t.is(sampleValue(TEXT, 'juicefs_volume_path_health', { volume_id: 'pv' }), undefined);
  t.is(sampleValue(TEXT, 'juicefs_volume_path_health', { volume_id: 'pv-a', pod_uid: 'u2' }), undefined);
  t.is(sampleValue(TEXT, 'juicefs_volume_path_state'), undefined);
  t.is(samples(TEXT, 'juicefs_volume_path_health').length, 2);
});

test('a path’s state is its state series, else healthy when its health is 1, else absent', (t) => {
  const text = `${TEXT}juicefs_volume_path_state{volume_id="pv-b",volume_path="/k/q\\"uote\\\\d/mount",pod_uid="u2",state="io_error"} 1
juicefs_volume_path_state{volume_id="pv-c",volume_path="/k/c/mount",pod_uid="u3",state="pending"} 1
juicefs_volume_path_health{volume_id="pv-d",volume_path="/k/d/mount",pod_uid="u4"} 0
`;
  t.deepEqual(
    [...pathStates(text)].sort(),
    [
      ['/k/a b\\tc/mount', 'healthy'],
      ['/k/c/mount', 'pending'],
      ['/k/q"uote\\d/mount', 'io_error'],
    ],
  );
  t.is(pathStates(TEXT).get('/k/q"uote\\d/mount'), undefined, 'a health of 0 alone says no state');
});

test('the guard names what is missing', (t) => {
  t.is(unmet([{ tool: 'no-such-tool-here', why: 'Debian package x' }]), 'needs no-such-tool-here (Debian package x)');
  t.is(unmet([{ tool: 'sh' }]), undefined);
  t.is(unmet(['root']), process.getuid?.() === 0 ? undefined : 'needs root');
});

test('eventually returns the first truthy answer, and names what it waited for when none comes', async (t) => {
  let n = 0;
  t.is(await eventually('three calls', () => (++n >= 3 ? n : false), { intervalMs: 1 }), 3);
  await t.throwsAsync(eventually('never', () => false, { timeoutMs: 30, intervalMs: 5 }), { message: 'timed out waiting for never' });
  await t.throwsAsync(eventually('a throwing check', () => { throw new Error('not yet'); }, { timeoutMs: 30, intervalMs: 5 }), { message: 'timed out waiting for a throwing check: not yet' });
});

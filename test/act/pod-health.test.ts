import test from 'ava';
import { HEALTHY_REASON, podHealth, reasonOf, sameCondition } from '../../src/act/pod-health.js';
import type { PathState, PathStatus } from '../../src/types.js';

const status = (path: string, state: PathState, detail = 'why'): PathStatus => ({
  volume: { path, kind: 'volume', podUid: 'u1', pv: `pv-${path}`, volumeId: `pv-${path}`, driver: 'csi.juicefs.com' },
  state,
  detail,
  since: 0,
});
const rules = (held: Record<string, number> = {}, timeoutGraceMs = 60_000) => ({ timeoutHeldMs: (p: string) => held[p] ?? 0, timeoutGraceMs });

test('every path healthy is True; no path, or only orphaned ones, is no opinion', (t) => {
  t.like(podHealth([status('a', 'healthy'), status('b', 'healthy')], rules()), { status: 'True', reason: HEALTHY_REASON });
  t.is(podHealth([], rules()), undefined);
  t.is(podHealth([status('a', 'orphaned')], rules()), undefined);
});

test('a path still pending never says False: with the rest healthy there is no opinion yet, so a new pod waits rather than flips', (t) => {
  t.is(podHealth([status('a', 'pending')], rules()), undefined);
  t.is(podHealth([status('a', 'healthy'), status('b', 'pending')], rules()), undefined);
});

test('timeout says False only after the grace, and then names the path', (t) => {
  t.is(podHealth([status('a', 'timeout')], rules({ a: 59_999 })), undefined);
  t.is(podHealth([status('a', 'healthy'), status('b', 'timeout')], rules({ b: 10_000 })), undefined);
  t.like(podHealth([status('a', 'timeout', 'blocked 61s')], rules({ a: 60_000 })), { status: 'False', reason: 'Timeout', message: 'volume pv-a at a: timeout (blocked 61s)' });
  t.like(podHealth([status('a', 'timeout')], rules({}, 0)), { status: 'False' });
});

test('False carries the worst path and how many more are unhealthy', (t) => {
  const c = podHealth([status('a', 'timeout'), status('b', 'disconnected', 'ENOTCONN'), status('c', 'not_mounted', 'no mount'), status('d', 'healthy')], rules({ a: 120_000 }));
  t.like(c, { status: 'False', reason: 'NotMounted', message: 'volume pv-c at c: not_mounted (no mount); 2 more paths unhealthy' });
  t.is(reasonOf('mount_pod_not_running'), 'MountPodNotRunning');
  t.is(reasonOf('io_error'), 'IoError');
});

test('a condition is the same when status and reason are, whatever the message', (t) => {
  t.true(sameCondition({ status: 'False', reason: 'Timeout', message: 'x' }, { status: 'False', reason: 'Timeout', message: 'y' }));
  t.false(sameCondition({ status: 'False', reason: 'Timeout', message: 'x' }, { status: 'False', reason: 'IoError', message: 'x' }));
  t.false(sameCondition(undefined, { status: 'True', reason: HEALTHY_REASON, message: '' }));
});

// The lifecycle's decisions from plain facts: pending within the publish grace,
// broken after it, gone when kubelet tears the path down, and the unmount hold.

import test from 'ava';
import { unmountedOutcome, unmountHold } from '../../src/lifecycle/rules.js';

const grace = { everMounted: false, ageMs: 5_000, watchedMs: 5_000, publishGraceMs: 60_000 };

test('a path published and never mounted is pending within the grace, then not_mounted or not_found', (t) => {
  t.like(unmountedOutcome({ kind: 'unmounted', publishedAt: 0 }, grace), { kind: 'verdict', verdict: { state: 'pending', detail: 'published 5.0s ago, not mounted yet (grace 1m)' } });
  t.like(unmountedOutcome({ kind: 'missing', publishedAt: 0 }, grace), { kind: 'verdict', verdict: { state: 'pending' } });
  t.is((unmountedOutcome({ kind: 'unmounted', publishedAt: 0 }, grace) as { recheckInMs?: number }).recheckInMs, 2500, 'a pending path is looked at again after half its age');
  t.like(unmountedOutcome({ kind: 'unmounted', publishedAt: 0 }, { ...grace, ageMs: 60_000 }), { kind: 'verdict', verdict: { state: 'not_mounted', detail: 'nothing is mounted here' } });
  t.like(unmountedOutcome({ kind: 'missing', publishedAt: 0 }, { ...grace, ageMs: 61_000 }), { kind: 'verdict', verdict: { state: 'not_found', detail: 'the mount directory does not exist' } });
});

test('the grace ends by the prober’s own watch too, should the wall clock have stepped back', (t) => {
  t.like(unmountedOutcome({ kind: 'unmounted', publishedAt: 0 }, { ...grace, ageMs: -3_600_000, watchedMs: 60_000 }), { kind: 'verdict', verdict: { state: 'not_mounted' } });
  t.like(unmountedOutcome({ kind: 'unmounted', publishedAt: 0 }, { ...grace, ageMs: -3_600_000, watchedMs: 1_000 }), {
    kind: 'verdict',
    verdict: { state: 'pending', detail: 'published 0ms ago, not mounted yet (grace 1m)' },
  });
});

test('a path that was mounted once gets no grace; a symlinked mount directory never does', (t) => {
  t.like(unmountedOutcome({ kind: 'unmounted', publishedAt: 0 }, { ...grace, everMounted: true }), { kind: 'verdict', verdict: { state: 'not_mounted' } });
  t.like(unmountedOutcome({ kind: 'symlink', publishedAt: 0 }, grace), { kind: 'verdict', verdict: { state: 'not_mounted', detail: 'the mount directory is a symlink; it is not followed' } });
});

test('a path kubelet is tearing down is removed with its reason; an inspection that failed decides nothing', (t) => {
  t.deepEqual(unmountedOutcome({ kind: 'gone', why: 'vol_data.json removed' }, grace), { kind: 'remove', why: 'vol_data.json removed' });
  const error = new Error('EACCES');
  t.deepEqual(unmountedOutcome({ kind: 'unknown', error }, grace), { kind: 'unknown', error });
});

test('an unmount of a mounted, working path is held until confirmed; the hold keeps its start', (t) => {
  const first = unmountHold({ verdict: 'not_mounted', previous: 'healthy', everMounted: true, unmountSeenAt: undefined, asOf: 10_000, confirmMs: 2_000 });
  t.deepEqual(first, { hold: true, unmountSeenAt: 10_000, recheckInMs: 2_000 });
  t.deepEqual(unmountHold({ verdict: 'not_found', previous: 'healthy', everMounted: true, unmountSeenAt: 10_000, asOf: 11_500, confirmMs: 2_000 }), {
    hold: true,
    unmountSeenAt: 10_000,
    recheckInMs: 500,
  });
  t.deepEqual(unmountHold({ verdict: 'not_mounted', previous: 'healthy', everMounted: true, unmountSeenAt: 10_000, asOf: 12_000, confirmMs: 2_000 }), { hold: false });
});

test('nothing is held for a path never mounted, one already unmounted or pending, or a verdict that is not an unmount', (t) => {
  const base = { previous: 'healthy' as const, everMounted: true, unmountSeenAt: undefined, asOf: 0, confirmMs: 2_000 };
  t.false(unmountHold({ ...base, verdict: 'not_mounted', everMounted: false }).hold);
  t.false(unmountHold({ ...base, verdict: 'not_mounted', previous: undefined }).hold);
  t.false(unmountHold({ ...base, verdict: 'not_mounted', previous: 'pending' }).hold);
  t.false(unmountHold({ ...base, verdict: 'not_found', previous: 'not_mounted' }).hold);
  t.false(unmountHold({ ...base, verdict: 'disconnected' }).hold);
  t.true(unmountHold({ ...base, verdict: 'not_mounted', previous: 'timeout' }).hold, 'a failing mount that is unmounted is held too');
});

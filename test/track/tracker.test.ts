// The tracker records states and their transitions, and drops a path when its
// lifecycle removes it; it decides nothing about either.

import test from 'ava';
import { createPathLifecycle } from '../../src/lifecycle/path-lifecycle.js';
import { createLogger } from '../../src/log/logger.js';
import { createPathTracker } from '../../src/track/tracker.js';
import type { Transition, VolumePath } from '../../src/types.js';
import { manualTime } from '../fixtures/manual-time.js';

const vol: VolumePath = { path: '/k/pods/u/volumes/kubernetes.io~csi/pv/mount', kind: 'volume', podUid: 'u', pv: 'pv', volumeId: 'pv', driver: 'csi.juicefs.com' };

function setup() {
  const time = manualTime();
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>), clock: time.clock });
  const lifecycle = createPathLifecycle({ clock: time.clock, publishGraceMs: 0 });
  const tracker = createPathTracker({ logger, clock: time.clock, removals: lifecycle });
  const transitions: Transition[] = [];
  tracker.onTransition((t) => transitions.push(t));
  return { tracker, lifecycle, lines, transitions, advance: time.advance, wall: time.clock.now };
}

test('a state change is logged once with its detail and announced once, not every cycle', (t) => {
  const { tracker, lines, transitions, advance } = setup();
  tracker.record(vol, { state: 'healthy', detail: '' });
  for (let i = 0; i < 5; i++) {
    advance(1000);
    tracker.record(vol, { state: 'disconnected', detail: 'ENOTCONN: Transport endpoint is not connected' });
  }
  const changes = lines.filter((l) => l.msg === 'volume path state');
  t.is(changes.length, 2);
  t.like(changes[1], { level: 'warn', state: 'disconnected', previous: 'healthy', detail: 'ENOTCONN: Transport endpoint is not connected' });
  t.deepEqual(
    transitions.map((x) => [x.from, x.to]),
    [
      [undefined, 'healthy'],
      ['healthy', 'disconnected'],
    ],
  );
});

test('since is kept while the state holds and moves when it changes', (t) => {
  const { tracker, advance, wall } = setup();
  tracker.record(vol, { state: 'healthy', detail: '' });
  const since = tracker.get(vol.path)!.since;
  advance(5000);
  tracker.record(vol, { state: 'healthy', detail: '' });
  t.is(tracker.get(vol.path)!.since, since);
  advance(5000);
  tracker.record(vol, { state: 'timeout', detail: 'x' });
  t.is(tracker.get(vol.path)!.since, wall());
});

test('a path its lifecycle removes is dropped from every view and logged with why', (t) => {
  const { tracker, lifecycle, lines } = setup();
  lifecycle.admit(vol, 'healthy', 0);
  tracker.record(vol, { state: 'healthy', detail: '' });
  lifecycle.unpublished([vol]);
  t.is(tracker.get(vol.path), undefined);
  t.deepEqual(tracker.list(), []);
  t.is(tracker.counts().size, 0);
  t.like(lines.find((l) => l.msg === 'volume path removed'), { path: vol.path, why: 'volume unpublished or pod removed' });
});

test('the revision moves when a path appears, changes state or volume, or goes; the probe revision with each probe', (t) => {
  const { tracker, lifecycle, advance, wall } = setup();
  const seen = { r: tracker.revision(), p: tracker.probeRevision() };
  const moved = () => {
    const now = { r: tracker.revision(), p: tracker.probeRevision() };
    const m = { state: now.r > seen.r, probe: now.p > seen.p };
    Object.assign(seen, now);
    return m;
  };
  const probe = () => ({ at: wall(), ms: 1, source: '0:50 /' });
  lifecycle.mounted(vol, 0);
  t.deepEqual(moved(), { state: false, probe: false }, 'not listed before its first verdict');
  advance(1000);
  tracker.record(vol, { state: 'healthy', detail: '' }, probe());
  t.deepEqual(moved(), { state: true, probe: true }, 'appears');
  tracker.record(vol, { state: 'healthy', detail: '' }, probe());
  t.deepEqual(moved(), { state: false, probe: true }, 'the same verdict again');
  tracker.probed(vol.path, probe());
  t.deepEqual(moved(), { state: false, probe: true }, 'a probe with no verdict');
  tracker.record(vol, { state: 'io_error', detail: 'EIO' });
  t.deepEqual(moved(), { state: true, probe: false }, 'a new state, no probe');
  tracker.record({ ...vol }, { state: 'io_error', detail: 'EIO' });
  t.deepEqual(moved(), { state: false, probe: false }, 'the same volume found again');
  tracker.record({ ...vol, volumeId: 'other' }, { state: 'io_error', detail: 'EIO' });
  t.deepEqual(moved(), { state: true, probe: false }, 'a new volume for the path');
  // A subPath not yet tied to its volume (its claim unread), found anew each cycle.
  const sub: VolumePath = { ...vol, path: '/k/pods/u/volume-subpaths/data/app/0', kind: 'subpath', pv: '', volumeId: '', subpath: { volumeName: 'data', container: 'app', index: '0' } };
  tracker.record(sub, { state: 'healthy', detail: '' });
  moved();
  tracker.record({ ...sub, subpath: { ...sub.subpath! } }, { state: 'healthy', detail: '' });
  t.deepEqual(moved(), { state: false, probe: false }, 'the same subPath found again');
  tracker.record({ ...sub, pv: 'pv', volumeId: 'pv' }, { state: 'healthy', detail: '' });
  t.deepEqual(moved(), { state: true, probe: false }, 'the subPath tied to its volume');
  lifecycle.unpublished([vol]);
  t.deepEqual(moved(), { state: true, probe: false }, 'goes');
  lifecycle.unpublished([vol]);
  t.deepEqual(moved(), { state: false, probe: false }, 'already gone');
});

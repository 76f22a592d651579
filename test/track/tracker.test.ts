import test from 'ava';
import { createPathTracker } from '../../src/track/tracker.js';
import { createLogger } from '../../src/log/logger.js';
import type { VolumePath } from '../../src/types.js';

const vol: VolumePath = { path: '/k/pods/u/volumes/kubernetes.io~csi/pv/mount', kind: 'volume', podUid: 'u', pv: 'pv', volumeId: 'pv', driver: 'csi.juicefs.com' };

function setup() {
  let now = 1_000;
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>), now: () => now });
  const tracker = createPathTracker({ logger, now: () => now, monotonic: () => now, unmountConfirmMs: 2000 });
  return { tracker, lines, advance: (ms: number) => (now += ms), at: () => now };
}

test('a state change is logged once with its detail, not every cycle', (t) => {
  const { tracker, lines, advance, at } = setup();
  tracker.observe(vol, { state: 'healthy', detail: '' }, at());
  for (let i = 0; i < 5; i++) {
    advance(1000);
    tracker.observe(vol, { state: 'disconnected', detail: 'ENOTCONN: Transport endpoint is not connected' }, at());
  }
  const changes = lines.filter((l) => l.msg === 'volume path state');
  t.is(changes.length, 2);
  t.like(changes[1], { level: 'warn', state: 'disconnected', previous: 'healthy', detail: 'ENOTCONN: Transport endpoint is not connected' });
});

test('since is kept while the state holds and moves when it changes', (t) => {
  const { tracker, advance, at } = setup();
  tracker.observe(vol, { state: 'healthy', detail: '' }, at());
  const since = tracker.get(vol.path)!.since;
  advance(5000);
  tracker.observe(vol, { state: 'healthy', detail: '' }, at());
  t.is(tracker.get(vol.path)!.since, since);
  advance(5000);
  tracker.observe(vol, { state: 'timeout', detail: 'x' }, at());
  t.is(tracker.get(vol.path)!.since, at());
});

test('an unmount of a mounted path is held back until it is confirmed', (t) => {
  const { tracker, advance, at } = setup();
  tracker.markMounted(vol, at());
  tracker.observe(vol, { state: 'healthy', detail: '' }, at());
  advance(100);
  const again = tracker.observe(vol, { state: 'not_mounted', detail: '' }, at());
  t.is(again, 2000);
  t.is(tracker.get(vol.path)!.state, 'healthy');
  advance(1500);
  t.is(tracker.observe(vol, { state: 'not_mounted', detail: '' }, at()), 500);
  advance(600);
  t.is(tracker.observe(vol, { state: 'not_mounted', detail: '' }, at()), undefined);
  t.is(tracker.get(vol.path)!.state, 'not_mounted');
});

test('a path never mounted reports not_mounted without waiting', (t) => {
  const { tracker, at } = setup();
  t.is(tracker.observe(vol, { state: 'not_mounted', detail: '' }, at()), undefined);
  t.is(tracker.get(vol.path)!.state, 'not_mounted');
});

test('an observation older than the last applied one is ignored', (t) => {
  const { tracker, at } = setup();
  tracker.observe(vol, { state: 'healthy', detail: '' }, at() + 10);
  tracker.observe(vol, { state: 'io_error', detail: 'late' }, at());
  t.is(tracker.get(vol.path)!.state, 'healthy');
});

test('removing a path drops it from every view and tells listeners', (t) => {
  const { tracker, at } = setup();
  const removed: string[] = [];
  tracker.onRemove((v) => removed.push(v.path));
  tracker.observe(vol, { state: 'healthy', detail: '' }, at());
  tracker.remove(vol.path, 'test');
  t.is(tracker.get(vol.path), undefined);
  t.deepEqual(tracker.list(), []);
  t.is(tracker.counts().size, 0);
  t.deepEqual(removed, [vol.path]);
});

test('a verdict from a cycle that began before the path was removed does not bring it back', (t) => {
  const { tracker, advance, at } = setup();
  const startedAt = at();
  tracker.observe(vol, { state: 'healthy', detail: '' }, startedAt);
  advance(100);
  tracker.remove(vol.path, 'pod deleted');
  tracker.observe(vol, { state: 'timeout', detail: 'late' }, startedAt);
  tracker.markMounted(vol, startedAt);
  t.is(tracker.get(vol.path), undefined);
  t.deepEqual(tracker.tracked(), []);
  advance(100);
  tracker.observe(vol, { state: 'healthy', detail: '' }, at());
  t.is(tracker.get(vol.path)!.state, 'healthy', 'a cycle after the removal may add it again');
});

test('the revision moves when a path appears, changes state or volume, or goes; the probe revision with each probe', (t) => {
  const { tracker, advance, at } = setup();
  const seen = { r: tracker.revision(), p: tracker.probeRevision() };
  const moved = () => {
    const now = { r: tracker.revision(), p: tracker.probeRevision() };
    const m = { state: now.r > seen.r, probe: now.p > seen.p };
    Object.assign(seen, now);
    return m;
  };
  const probe = () => ({ at: at(), ms: 1, source: '0:50 /' });
  tracker.markMounted(vol, at());
  t.deepEqual(moved(), { state: false, probe: false }, 'not listed before its first verdict');
  tracker.observe(vol, { state: 'healthy', detail: '' }, advance(1000), probe());
  t.deepEqual(moved(), { state: true, probe: true }, 'appears');
  tracker.observe(vol, { state: 'healthy', detail: '' }, advance(1000), probe());
  t.deepEqual(moved(), { state: false, probe: true }, 'the same verdict again');
  tracker.probed(vol.path, probe());
  t.deepEqual(moved(), { state: false, probe: true }, 'a probe with no verdict');
  tracker.observe(vol, { state: 'io_error', detail: 'EIO' }, advance(1000));
  t.deepEqual(moved(), { state: true, probe: false }, 'a new state, no probe');
  tracker.observe({ ...vol }, { state: 'io_error', detail: 'EIO' }, advance(1000));
  t.deepEqual(moved(), { state: false, probe: false }, 'the same volume found again');
  tracker.observe({ ...vol, volumeId: 'other' }, { state: 'io_error', detail: 'EIO' }, advance(1000));
  t.deepEqual(moved(), { state: true, probe: false }, 'a new volume for the path');
  // A subPath not yet tied to its volume (its claim unread), found anew each cycle.
  const sub: VolumePath = { ...vol, path: '/k/pods/u/volume-subpaths/data/app/0', kind: 'subpath', pv: '', volumeId: '', subpath: { volumeName: 'data', container: 'app', index: '0' } };
  tracker.observe(sub, { state: 'healthy', detail: '' }, advance(1000));
  moved();
  tracker.observe({ ...sub, subpath: { ...sub.subpath! } }, { state: 'healthy', detail: '' }, advance(1000));
  t.deepEqual(moved(), { state: false, probe: false }, 'the same subPath found again');
  tracker.observe({ ...sub, pv: 'pv', volumeId: 'pv' }, { state: 'healthy', detail: '' }, advance(1000));
  t.deepEqual(moved(), { state: true, probe: false }, 'the subPath tied to its volume');
  tracker.remove(vol.path, 'gone');
  t.deepEqual(moved(), { state: true, probe: false }, 'goes');
  tracker.remove(vol.path, 'gone');
  t.deepEqual(moved(), { state: false, probe: false }, 'already gone');
});

// A path's life as the lifecycle holds it, on the manual clock: what it admits,
// what it holds back, what it carries from one cycle to the next, and the one
// place a path goes.

import test from 'ava';
import { createPathLifecycle } from '../../src/lifecycle/path-lifecycle.js';
import { UNPUBLISHED } from '../../src/lifecycle/rules.js';
import type { VolumePath } from '../../src/types.js';
import { manualTime } from '../fixtures/manual-time.js';

const vol = (pv: string): VolumePath => ({ path: `/k/pods/u/volumes/kubernetes.io~csi/${pv}/mount`, kind: 'volume', podUid: 'u', pv, volumeId: pv, driver: 'csi.juicefs.com' });
const sub = (name: string): VolumePath => ({
  path: `/k/pods/u/volume-subpaths/${name}/app/0`,
  kind: 'subpath',
  podUid: 'u',
  pv: 'pv-a',
  volumeId: 'pv-a',
  driver: 'csi.juicefs.com',
  subpath: { volumeName: name, container: 'app', index: '0' },
});

function setup(o: { publishGraceMs?: number } = {}) {
  const time = manualTime();
  const lifecycle = createPathLifecycle({ clock: time.clock, publishGraceMs: o.publishGraceMs ?? 0, unmountConfirmMs: 2000 });
  const removed: [string, string][] = [];
  lifecycle.onRemove((v, why) => removed.push([v.path, why]));
  return { lifecycle, removed, time, at: time.now };
}

test('an unmount of a mounted path is held back until it is confirmed, then recorded', (t) => {
  const { lifecycle, time, at } = setup();
  const v = vol('pv');
  lifecycle.mounted(v, at());
  t.deepEqual(lifecycle.admit(v, 'healthy', at()), { kind: 'record' });
  time.advance(100);
  t.deepEqual(lifecycle.admit(v, 'not_mounted', at()), { kind: 'hold', recheckInMs: 2000 });
  time.advance(1500);
  t.deepEqual(lifecycle.admit(v, 'not_mounted', at()), { kind: 'hold', recheckInMs: 500 });
  time.advance(500);
  t.deepEqual(lifecycle.admit(v, 'not_mounted', at()), { kind: 'record' });
});

test('a path never mounted is not held; a verdict older than the last one recorded is stale', (t) => {
  const { lifecycle, at } = setup();
  const v = vol('pv');
  t.deepEqual(lifecycle.admit(v, 'healthy', at() + 10), { kind: 'record' });
  t.deepEqual(lifecycle.admit(v, 'not_mounted', at() + 20), { kind: 'record' });
  t.deepEqual(lifecycle.admit(v, 'io_error', at()), { kind: 'stale' });
});

test('a path is removed once, with its reason, and a verdict from a cycle that began before the removal does not bring it back', (t) => {
  const { lifecycle, removed, time, at } = setup();
  const v = vol('pv');
  const startedAt = at();
  lifecycle.admit(v, 'healthy', startedAt);
  time.advance(100);
  lifecycle.unpublished([v]);
  lifecycle.unpublished([v]);
  t.deepEqual(removed, [[v.path, UNPUBLISHED]], 'told once');
  t.deepEqual(lifecycle.admit(v, 'timeout', startedAt), { kind: 'stale' });
  lifecycle.mounted(v, startedAt);
  t.deepEqual([...lifecycle.reconcile(new Map())], [], 'nothing held');
  time.advance(100);
  t.deepEqual(lifecycle.admit(v, 'healthy', at()), { kind: 'record' }, 'a cycle after the removal may add it again');
});

test('a path it never held is not announced when unpublished, but a late verdict for it is still stale', (t) => {
  const { lifecycle, removed, time, at } = setup();
  const v = vol('pv');
  const startedAt = at();
  time.advance(10);
  lifecycle.unpublished([v]);
  t.deepEqual(removed, []);
  t.deepEqual(lifecycle.admit(v, 'healthy', startedAt), { kind: 'stale' });
});

test('reconcile: what discovery found, plus held subPaths that left the mount table; held volumes it did not find go', (t) => {
  const { lifecycle, removed, at } = setup();
  const [a, old] = [vol('pv-a'), vol('pv-old')];
  const left = sub('logs');
  for (const v of [a, old, left]) lifecycle.admit(v, 'healthy', at());
  const paths = lifecycle.reconcile(new Map([[a.path, a]]));
  t.deepEqual([...paths.keys()].sort(), [a.path, left.path].sort());
  t.deepEqual(removed, [[old.path, UNPUBLISHED]]);
});

test('an unmounted path is pending through the grace from when it was first seen, unless it was ever mounted', (t) => {
  const { lifecycle, time, at } = setup({ publishGraceMs: 3000 });
  const [fresh, once] = [vol('pv-fresh'), vol('pv-once')];
  // Published an hour from now by its mtime: the wall clock stepped back.
  const publishedAt = time.clock.now() + 3_600_000;
  t.like(lifecycle.unmounted(fresh, { kind: 'unmounted', publishedAt }), { kind: 'verdict', verdict: { state: 'pending' } });
  lifecycle.admit(fresh, 'pending', at());
  lifecycle.mounted(once, at());
  t.like(lifecycle.unmounted(once, { kind: 'unmounted', publishedAt }), { kind: 'verdict', verdict: { state: 'not_mounted' } });
  time.advance(2999);
  t.like(lifecycle.unmounted(fresh, { kind: 'unmounted', publishedAt }), { kind: 'verdict', verdict: { state: 'pending' } });
  time.advance(1);
  t.like(lifecycle.unmounted(fresh, { kind: 'unmounted', publishedAt }), { kind: 'verdict', verdict: { state: 'not_mounted' } });
});

test('an unmounted path kubelet is tearing down is removed, with the inspection’s reason', (t) => {
  const { lifecycle, removed, at } = setup();
  const v = vol('pv');
  lifecycle.admit(v, 'healthy', at());
  t.deepEqual(lifecycle.unmounted(v, { kind: 'gone', why: 'vol_data.json is gone' }), { kind: 'removed', why: 'vol_data.json is gone' });
  t.deepEqual(removed, [[v.path, 'vol_data.json is gone']]);
});

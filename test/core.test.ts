// Kubernetes mode's two sides as the core wires them: events out (transitions,
// removals) and a cycle asked for when a mount pod changes, on the manual clock.

import test from 'ava';
import { cycleOnMountPodChange, reportToKube } from '../src/core.js';
import type { KubeEvents } from '../src/kube/adapter.js';
import { createPathLifecycle } from '../src/lifecycle/path-lifecycle.js';
import { createLogger } from '../src/log/logger.js';
import { createPathTracker } from '../src/track/tracker.js';
import type { VolumePath } from '../src/types.js';
import { manualTime } from './fixtures/manual-time.js';

const vol: VolumePath = { path: '/k/pods/u/volumes/kubernetes.io~csi/pv/mount', kind: 'volume', podUid: 'u', pv: 'pv', volumeId: 'pv', driver: 'csi.juicefs.com' };

test('the events side hears every transition and every removal, and is asked nothing', (t) => {
  const time = manualTime();
  const lifecycle = createPathLifecycle({ clock: time.clock, publishGraceMs: 0 });
  const tracker = createPathTracker({ logger: createLogger({ write: () => {} }), clock: time.clock, removals: lifecycle });
  const heard: string[] = [];
  const events: KubeEvents = {
    transition: (x) => void heard.push(`${x.from ?? '-'} → ${x.to}`),
    pathRemoved: (v) => void heard.push(`removed ${v.pv}`),
  };
  reportToKube({ tracker, lifecycle }, events);
  lifecycle.admit(vol, 'healthy', 0);
  tracker.record(vol, { state: 'healthy', detail: '' });
  tracker.record(vol, { state: 'io_error', detail: 'EIO' });
  lifecycle.unpublished([vol]);
  t.deepEqual(heard, ['- → healthy', 'healthy → io_error', 'removed pv']);
});

test('a burst of mount pod changes asks for one cycle a second later; nothing once stopped', (t) => {
  const time = manualTime();
  let change = () => {};
  let cycles = 0;
  const stop = cycleOnMountPodChange({ onMountPodChange: (l) => void (change = l) }, () => cycles++, time.clock);
  change();
  time.advance(300);
  change();
  change();
  time.advance(699);
  t.is(cycles, 0);
  time.advance(1);
  t.is(cycles, 1, 'one cycle for the burst, a second after its first change');
  change();
  stop();
  change();
  time.advance(5000);
  t.is(cycles, 1);
  t.is(time.armed(), 0);
});

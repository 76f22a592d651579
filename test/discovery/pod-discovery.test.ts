// Pod discovery's decisions on fakes of its inventory, file system and watch,
// on the manual clock: what is rescanned when, when the watch runs, and what is
// said about a pods directory that cannot be listed. No root, no disk.

import test from 'ava';
import { createPodDiscovery, type PodDiscoveryOptions } from '../../src/discovery/pod-discovery.js';
import type { Inventory } from '../../src/discovery/inventory.js';
import { createKubeletLayout } from '../../src/discovery/kubelet-layout.js';
import type { PodWatcherOptions } from '../../src/discovery/watcher.js';
import { createLogger } from '../../src/log/logger.js';
import { manualTime } from '../fixtures/manual-time.js';

const layout = createKubeletLayout('/k');
const enoent = Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });

/** Time that moves only when the test moves it. */
function manualClock() {
  const m = manualTime();
  return { clock: m.clock, pending: m.armed, advance: m.settle };
}
function setup(over: Partial<PodDiscoveryOptions> = {}) {
  const clock = manualClock();
  const lines: { level: string; msg: string }[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as { level: string; msg: string }) });
  let podsDirPresent = true;
  const calls = { resync: 0, rescan: [] as string[] };
  const inventory = {
    resync: async () => {
      calls.resync++;
      return podsDirPresent;
    },
    podsDirError: () => (podsDirPresent ? undefined : enoent),
    rescanPod: async (uid: string) => void calls.rescan.push(uid),
  } as unknown as Inventory;
  const watches: { opts: PodWatcherOptions; closed: boolean }[] = [];
  const watching: boolean[] = [];
  const polling: number[] = [];
  const d = createPodDiscovery({
    layout,
    inventory,
    logger,
    resyncMs: 1000,
    clock: clock.clock,
    fs: {
      list: async () => {
        if (!podsDirPresent) throw enoent;
        return [];
      },
      listEntries: async () => [],
      realpath: async (p) => p,
      readSmallFile: async () => '',
    },
    watch: (opts) => {
      const w = { opts, closed: false };
      watches.push(w);
      return { ready: Promise.resolve(), close: async () => void (w.closed = true) } as never;
    },
    onWatching: (on) => watching.push(on),
    onWatchPolling: (dirs) => polling.push(dirs),
    ...over,
  });
  return {
    d,
    clock,
    lines,
    calls,
    watches,
    watching,
    polling,
    setPodsDir: (present: boolean) => (podsDirPresent = present),
    live: () => watches.filter((w) => !w.closed),
  };
}

test('start scans once, then watches the pods directory and resyncs every period', async (t) => {
  const s = setup();
  t.false(s.d.scanned());
  await s.d.start();
  t.true(s.d.scanned());
  t.is(s.calls.resync, 1);
  t.is(s.live().length, 1);
  t.deepEqual(s.watching, [true]);
  await s.clock.advance(999);
  t.is(s.calls.resync, 1);
  await s.clock.advance(1);
  t.is(s.calls.resync, 2);
  await s.clock.advance(3000);
  t.is(s.calls.resync, 5);
  t.is(s.watches.length, 1, 'the one watch is kept across resyncs');
});

test('a burst of changes to one pod is one rescan of that pod, after the debounce', async (t) => {
  const s = setup();
  await s.d.start();
  const change = s.watches[0]!.opts.onPodChange;
  for (let i = 0; i < 20; i++) change('pod-a');
  change('pod-b');
  t.deepEqual(s.calls.rescan, []);
  await s.clock.advance(50);
  t.deepEqual(s.calls.rescan.sort(), ['pod-a', 'pod-b']);
  change('pod-a');
  await s.clock.advance(50);
  t.deepEqual(s.calls.rescan.sort(), ['pod-a', 'pod-a', 'pod-b'], 'a later change is a new burst');
});

test('a missing pods directory is named once as a misconfiguration, not watched, and cleared when it appears', async (t) => {
  const s = setup();
  s.setPodsDir(false);
  await s.d.start();
  t.true(s.d.scanned());
  t.regex(s.d.podsDirProblem() ?? '', /\/k\/pods does not exist; .*--kubelet-dir is likely wrong/);
  t.is(s.live().length, 0);
  await s.clock.advance(3000);
  t.is(s.calls.resync, 4);
  t.is(s.lines.filter((l) => l.level === 'error').length, 1, 'one error line, however many resyncs');

  s.setPodsDir(true);
  await s.clock.advance(1000);
  t.is(s.d.podsDirProblem(), undefined);
  t.is(s.live().length, 1, 'watched once it is there');
  t.true(s.lines.some((l) => l.msg === 'the kubelet pods directory can be listed again'));
});

test('a watch on a pods directory that went away is dropped, and a new one started when it is back', async (t) => {
  const s = setup();
  await s.d.start();
  s.setPodsDir(false);
  await s.clock.advance(1000);
  t.is(s.live().length, 0);
  t.deepEqual(s.watching, [true, false]);
  t.true(s.lines.some((l) => l.level === 'warn' && /gone; watching again/.test(l.msg)));
  s.setPodsDir(true);
  await s.clock.advance(1000);
  t.is(s.watches.length, 2);
  t.is(s.live().length, 1);
});

test('directories polled for want of inotify watches are reported, the watch is kept, and a dropped watch polls nothing', async (t) => {
  const s = setup();
  await s.d.start();
  s.watches[0]!.opts.onPolling!(3);
  t.deepEqual(s.polling, [3]);
  await s.clock.advance(5000);
  t.is(s.live().length, 1, 'the watch stays: it polls what inotify refused');
  t.is(s.watches.length, 1);
  t.is(s.calls.resync, 6);
  s.setPodsDir(false);
  await s.clock.advance(1000);
  t.deepEqual(s.polling, [3, 0], 'nothing polled once the watch is dropped');
});

test('stop cancels the resync and pending rescans and closes the watch', async (t) => {
  const s = setup();
  await s.d.start();
  s.watches[0]!.opts.onPodChange('pod-a');
  await s.d.stop();
  t.is(s.live().length, 0);
  t.is(s.clock.pending(), 0);
  await s.clock.advance(10_000);
  t.deepEqual(s.calls.rescan, []);
  t.is(s.calls.resync, 1);
});

// The list+watch loop against a scripted source: what it lists, where it
// resumes, when it relists, how it backs off, and when it says stale.

import test from 'ava';
import { createResourceWatch, type ListPage, type ResourceWatchSource, type WatchEventType } from '../../src/kube/resource-watch.js';
import { eventually } from '../fixtures/harness.js';
import { manualTime } from '../fixtures/manual-time.js';

type Item = { metadata: { name: string; resourceVersion?: string } };
const item = (name: string, rv?: string): Item => ({ metadata: { name, ...(rv ? { resourceVersion: rv } : {}) } });

interface OpenWatch {
  readonly rv: string;
  line(type: string, object: unknown): void;
  end(err: unknown): void;
  aborted: boolean;
}

/** A source whose list answers come from `lists` (one entry per call: pages, or an Error) and whose watches the test drives. */
function scriptedSource(lists: (ListPage<Item>[] | Error)[]) {
  const listCalls: (string | undefined)[] = [];
  const watches: OpenWatch[] = [];
  let call = 0;
  let page = 0;
  const source: ResourceWatchSource<Item> = {
    async list(token) {
      listCalls.push(token);
      const answer = lists[Math.min(call, lists.length - 1)]!;
      if (answer instanceof Error) {
        call++;
        throw answer;
      }
      const p = answer[page]!;
      page++;
      if (page === answer.length) {
        page = 0;
        call++;
      }
      return p;
    },
    async watch(rv, onLine, done) {
      const w: OpenWatch = {
        rv,
        line: onLine,
        end: (err) => done(err),
        aborted: false,
      };
      watches.push(w);
      return {
        abort() {
          w.aborted = true;
          done(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        },
      };
    },
  };
  return { source, listCalls, watches };
}

function setup(lists: (ListPage<Item>[] | Error)[]) {
  const s = scriptedSource(lists);
  const time = manualTime();
  const synced: string[][] = [];
  const events: [WatchEventType, string][] = [];
  const delays: number[] = [];
  const stale: boolean[] = [];
  const failures: unknown[] = [];
  const watch = createResourceWatch<Item>({
    name: 'pods',
    source: s.source,
    onSync: (items) => synced.push(items.map((i) => i.metadata.name)),
    onEvent: (type, i) => events.push([type, i.metadata.name]),
    onFailure: (err) => failures.push(err),
    onStaleChange: (st) => stale.push(st),
    // The backoff's waits are recorded and pass at once; the manual clock measures how long a watch held.
    clock: { ...time.clock, sleep: async (ms) => void delays.push(ms) },
    backoff: { initialMs: 100, maxMs: 800 },
  });
  return { ...s, time, watch, synced, events, delays, stale, failures };
}

test('it lists every page, hands over the whole set, and watches from the list’s version', async (t) => {
  const s = setup([[{ items: [item('a'), item('b')], resourceVersion: '10', continueToken: 'more' }, { items: [item('c')], resourceVersion: '11' }]]);
  t.teardown(() => s.watch.stop());
  t.true(s.watch.isStale(), 'stale until listed');
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  t.deepEqual(s.listCalls, [undefined, 'more']);
  t.deepEqual(s.synced, [['a', 'b', 'c']]);
  t.is(s.watches[0]!.rv, '11');
  t.false(s.watch.isStale());
  t.deepEqual(s.stale, [false]);
});

test('watch events are handed over and move the version; a bookmark moves it without an event', async (t) => {
  const s = setup([[{ items: [], resourceVersion: '5' }]]);
  t.teardown(() => s.watch.stop());
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  const w = s.watches[0]!;
  w.line('ADDED', item('a', '6'));
  w.line('MODIFIED', item('a', '7'));
  w.line('DELETED', item('a', '8'));
  w.line('BOOKMARK', item('', '12'));
  t.deepEqual(s.events, [['ADDED', 'a'], ['MODIFIED', 'a'], ['DELETED', 'a']]);
  t.is(s.watch.resourceVersion(), '12');
});

test('a watch that ends cleanly is resumed from the last version seen, without a relist', async (t) => {
  const s = setup([[{ items: [], resourceVersion: '5' }]]);
  t.teardown(() => s.watch.stop());
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  s.watches[0]!.line('ADDED', item('a', '9'));
  s.watches[0]!.end(null);
  await eventually('a second watch', () => s.watches.length === 2);
  t.is(s.watches[1]!.rv, '9');
  t.is(s.listCalls.length, 1);
  t.deepEqual(s.synced, [[]]);
});

test('410 Gone on the watch relists at once, and the new list replaces everything', async (t) => {
  const s = setup([[{ items: [item('a')], resourceVersion: '5' }], [{ items: [item('b')], resourceVersion: '20' }]]);
  t.teardown(() => s.watch.stop());
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  s.watches[0]!.line('ADDED', item('x', '6'));
  s.watches[0]!.line('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
  await eventually('a watch after the relist', () => s.watches.length === 2);
  t.deepEqual(s.synced, [['a'], ['b']]);
  t.is(s.watches[1]!.rv, '20');
  t.true(s.watches[0]!.aborted, 'the expired stream is closed');
  t.deepEqual(s.delays, [], 'no wait: the version was a watch’s, not the list’s');
});

test('failed lists make it stale and back off, growing and capped; a success makes it current again', async (t) => {
  const down = new Error('connection refused');
  const s = setup([down, down, down, down, down, down, [{ items: [item('a')], resourceVersion: '3' }]]);
  t.teardown(() => s.watch.stop());
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  t.is(s.failures.length, 6);
  t.is(s.delays.length, 6);
  s.delays.forEach((ms, i) => {
    const cap = Math.min(800, 100 * 2 ** i);
    t.true(ms >= cap / 2 && ms <= cap, `wait ${i + 1}: ${ms} ms, want ${cap / 2}–${cap}`);
  });
  t.deepEqual(s.stale, [false], 'stale from the start; current once listed');
  t.false(s.watch.isStale());
  t.is(s.watch.lastError(), undefined);
});

test('a watch that fails makes the cache stale, with the error, until a watch is open again', async (t) => {
  const s = setup([[{ items: [], resourceVersion: '5' }]]);
  t.teardown(() => s.watch.stop());
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  s.watches[0]!.end(Object.assign(new Error('socket hang up'), { statusCode: 500 }));
  await eventually('a second watch', () => s.watches.length === 2);
  t.deepEqual(s.stale, [false, true, false]);
  t.is(s.failures.length, 1);
  t.is(s.delays.length, 1, 'backed off once');
  t.is(s.watches[1]!.rv, '5', 'resumed from where it was');
});

test('stop closes the open watch and nothing more is asked of the source', async (t) => {
  const s = setup([[{ items: [], resourceVersion: '5' }]]);
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  s.watch.stop();
  t.true(s.watches[0]!.aborted);
  await new Promise((r) => setImmediate(r));
  t.is(s.watches.length, 1);
  t.is(s.listCalls.length, 1);
});

test('a continue token that expired mid-list starts the list over at once, with nothing of the partial list kept', async (t) => {
  const expired = Object.assign(new Error('The provided continue parameter is too old'), { code: 410 });
  const s = setup([[{ items: [item('a')], resourceVersion: '10', continueToken: 'p2' }], expired, [{ items: [item('b')], resourceVersion: '30' }]]);
  t.teardown(() => s.watch.stop());
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  t.deepEqual(s.listCalls, [undefined, 'p2', undefined]);
  t.deepEqual(s.synced, [['b']]);
  t.is(s.watches[0]!.rv, '30');
  t.deepEqual(s.delays, [], 'no wait, no failure');
  t.deepEqual(s.failures, []);
});

test('a version newer than the server’s history (504 Too large resource version) lists again instead of resuming', async (t) => {
  const s = setup([[{ items: [item('a')], resourceVersion: '500' }], [{ items: [item('a')], resourceVersion: '12' }]]);
  t.teardown(() => s.watch.stop());
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  s.watches[0]!.line('ERROR', { kind: 'Status', code: 504, reason: 'Timeout', message: 'Timeout: Too large resource version: 500, current: 12', details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 } });
  await eventually('a watch after the relist', () => s.watches.length === 2);
  t.is(s.listCalls.length, 2);
  t.is(s.watches[1]!.rv, '12');
  t.is(s.delays.length, 1, 'after a backoff');
});

test('any other ERROR on the watch is a failure: stale, backed off, resumed from where it was', async (t) => {
  const s = setup([[{ items: [], resourceVersion: '5' }]]);
  t.teardown(() => s.watch.stop());
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  s.watches[0]!.line('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcdserver: request timed out' });
  await eventually('a second watch', () => s.watches.length === 2);
  t.deepEqual(s.stale, [false, true, false]);
  t.regex(String((s.failures[0] as Error).message), /etcdserver: request timed out/);
  t.is(s.watches[1]!.rv, '5');
  t.is(s.listCalls.length, 1, 'no relist');
});

test('a watch that held over a second ends a run of failures: the next backoff starts from the beginning', async (t) => {
  const s = setup([[{ items: [], resourceVersion: '5' }]]);
  t.teardown(() => s.watch.stop());
  s.watch.start();
  await eventually('a watch', () => s.watches.length === 1);
  for (let i = 1; i <= 4; i++) {
    s.watches[i - 1]!.end(Object.assign(new Error('socket hang up'), { statusCode: 500 }));
    await eventually(`watch ${i + 1}`, () => s.watches.length === i + 1);
  }
  t.true(s.delays[3]! >= 400, `the fourth wait grew: ${s.delays.join(', ')}`);
  s.time.advance(1001);
  s.watches[4]!.end(Object.assign(new Error('socket hang up'), { statusCode: 500 }));
  await eventually('watch 6', () => s.watches.length === 6);
  t.true(s.delays[4]! <= 100, `starts over: ${s.delays[4]} ms`);
});

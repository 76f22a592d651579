// The event recorder against the list/watch server over real HTTP, with its
// clock and waits injected: rate limit, time limit, waiting for a pod.

import test from 'ava';
import { createEventRecorder, type EventResult } from '../../src/kube/event-recorder.js';
import { podEventSink } from '../../src/kube/kube.js';
import { openKube } from '../../src/kube/open.js';
import { createLogger } from '../../src/log/logger.js';
import { eventually as until } from '../fixtures/harness.js';
import { startFakeApiServer } from '../fixtures/kube-api-server.js';

async function setup(opts: { burst?: number; perSecond?: number; requestTimeoutMs?: number; waitForPodMs?: number } = {}) {
  const api = await startFakeApiServer();
  const client = openKube({ kind: 'kubeconfig', path: api.kubeconfig });
  // Timed requests below: not counting the configuration's loading.
  await client.loaded;
  let clock = 1_000_000;
  const waits: number[] = [];
  const results: string[] = [];
  const logs: string[] = [];
  const known = new Set<string>(['u1']);
  const asked: string[] = [];
  const recorder = createEventRecorder({
    sink: podEventSink(client, 'n1'),
    logger: createLogger({ write: (l) => logs.push(l), now: () => clock }),
    resolve: (uid) => {
      asked.push(uid);
      return known.has(uid) ? { namespace: 'default', name: `pod-${uid}`, uid } : undefined;
    },
    onResult: (type, r: EventResult) => results.push(`${type}/${r}`),
    now: () => clock,
    delay: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
    ...opts,
  });
  return { api, recorder, waits, results, logs, known, asked, advance: (ms: number) => (clock += ms) };
}

test('a burst goes out at once, the rest at the refill rate', async (t) => {
  const { api, recorder, waits, results } = await setup({ burst: 3, perSecond: 0.5 });
  t.teardown(() => api.close());
  for (let i = 0; i < 5; i++) recorder.record({ podUid: 'u1', subject: `/p/${i}`, type: 'Warning', reason: 'VolumePathUnhealthy', message: `m${i}` });
  await until('five events', () => results.length === 5);
  t.deepEqual(results, Array(5).fill('Warning/created'));
  t.deepEqual(waits, [2000, 2000], 'two waits of one token each at 0.5/s');
  t.deepEqual(api.events.map((e) => e.body.message), ['m0', 'm1', 'm2', 'm3', 'm4']);
});

test('a request that hangs is given up after the time limit, counted as failed and logged once', async (t) => {
  const { api, recorder, results, logs } = await setup({ requestTimeoutMs: 300 });
  t.teardown(() => api.close());
  api.hangEvents = true;
  recorder.record({ podUid: 'u1', subject: '/a', type: 'Warning', reason: 'VolumePathUnhealthy', message: 'a' });
  recorder.record({ podUid: 'u1', subject: '/b', type: 'Warning', reason: 'VolumePathUnhealthy', message: 'b' });
  await until('two failures', () => results.length === 2);
  t.deepEqual(results, ['Warning/failed', 'Warning/failed']);
  t.is(logs.filter((l) => l.includes('cannot send Kubernetes events')).length, 1);
  api.hangEvents = false;
  recorder.record({ podUid: 'u1', subject: '/c', type: 'Normal', reason: 'VolumePathRecovered', message: 'c' });
  await until('a success', () => results.length === 3);
  t.is(results[2], 'Normal/created');
});

test('an event waits for its pod to be known, and is dropped if it never is', async (t) => {
  const { api, recorder, results, known, asked, advance } = await setup({ waitForPodMs: 60_000 });
  t.teardown(() => api.close());
  recorder.record({ podUid: 'u2', subject: '/x', type: 'Warning', reason: 'VolumePathUnhealthy', message: 'x' });
  recorder.record({ podUid: 'u3', subject: '/y', type: 'Warning', reason: 'VolumePathUnhealthy', message: 'y' });
  // Both pods were looked up and neither was known: nothing is sent, both wait.
  await until('both pods looked up', () => asked.includes('u2') && asked.includes('u3'));
  t.deepEqual(results, []);
  t.is(api.events.length, 0);
  t.is(recorder.stats().queued, 2);
  known.add('u2');
  recorder.poke();
  await until('the known pod’s event', () => results.length === 1);
  t.is(api.events[0]!.body.involvedObject.name, 'pod-u2');
  advance(61_000);
  recorder.poke();
  await until('the other dropped', () => results.length === 2);
  t.deepEqual(results, ['Warning/created', 'Warning/dropped']);
  t.is(recorder.stats().queued, 0);
});

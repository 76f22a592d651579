// The event recorder against the API stand-in over real HTTP, on the manual
// clock: rate limit, request deadlines that close their connection, retries
// on the backoff for what may pass and none for what the server refused,
// waiting for a pod.

import test from 'ava';
import { createEventRecorder, type EventRecorderOptions, type EventResult } from '../../src/kube/event-recorder.js';
import { retryOf } from '../../src/kube/event-retry.js';
import { podEventSink } from '../../src/kube/kube.js';
import { openKube } from '../../src/kube/open.js';
import { createLogger } from '../../src/log/logger.js';
import { KubeApiError } from '../../src/kube/client.js';
import { eventually as until } from '../fixtures/harness.js';
import { startFakeApiServer } from '../fixtures/kube-api-server.js';
import { manualTime } from '../fixtures/manual-time.js';

async function setup(t: { teardown(fn: () => unknown): void }, opts: Partial<EventRecorderOptions> = {}) {
  const api = await startFakeApiServer();
  const time = manualTime();
  const client = openKube({ kind: 'kubeconfig', path: api.kubeconfig }, { clock: time.clock });
  await client.loaded;
  const waits: number[] = [];
  const results: string[] = [];
  const logs: string[] = [];
  const known = new Set<string>(['u1']);
  const asked: string[] = [];
  // The clock's waits, recorded: the rate limiter's and the backoff's.
  const clock = { ...time.clock, sleep: (ms: number, signal?: AbortSignal) => (waits.push(ms), time.clock.sleep(ms, signal)) };
  const recorder = createEventRecorder({
    sink: podEventSink(client, 'n1'),
    logger: createLogger({ write: (l) => logs.push(l) }),
    resolve: (uid) => {
      asked.push(uid);
      return known.has(uid) ? { namespace: 'default', name: `pod-${uid}`, uid } : undefined;
    },
    onResult: (type, r: EventResult) => results.push(`${type}/${r}`),
    clock,
    ...opts,
  });
  t.teardown(async () => {
    recorder.stop();
    client.stop();
    await api.close();
  });
  return { api, time, recorder, waits, results, logs, known, asked };
}

const warning = (subject: string, message = subject) => ({ podUid: 'u1', subject, type: 'Warning' as const, reason: 'VolumePathUnhealthy', message });

/** Moves the manual clock on in steps until `cond` holds, letting real I/O happen between steps. */
async function advanceUntil(time: ReturnType<typeof manualTime>, what: string, cond: () => boolean, stepMs = 500) {
  await until(what, async () => {
    if (cond()) return true;
    await time.settle(stepMs);
    return cond();
  });
}

test('a burst goes out at once, the rest at the refill rate', async (t) => {
  const { api, time, recorder, waits, results } = await setup(t, { burst: 3, perSecond: 0.5 });
  for (let i = 0; i < 5; i++) recorder.record(warning(`/p/${i}`, `m${i}`));
  await until('the burst', () => results.length === 3);
  await advanceUntil(time, 'five events', () => results.length === 5, 1000);
  t.deepEqual(results, Array(5).fill('Warning/created'));
  t.deepEqual(waits, [2000, 2000], 'two waits of one token each at 0.5/s');
  t.deepEqual(api.events.map((e) => e.body.message), ['m0', 'm1', 'm2', 'm3', 'm4']);
});

test('a request past its deadline is abandoned with its connection closed, and tried again on the backoff until it goes', async (t) => {
  const { api, time, recorder, results, logs } = await setup(t, { requestTimeoutMs: 300 });
  api.hangEvents = true;
  recorder.record(warning('/a'));
  await until('the request hanging at the server', () => api.hungEvents() === 1);
  await time.settle(300);
  // Abandoned means its socket is closed: the server sees the connection go, it is not left for a minute.
  await until('the hung request closed by the client', () => api.hungEvents() === 0);
  await until('a retry counted', () => results.includes('Warning/retried'));
  t.is(logs.filter((l) => l.includes('cannot send Kubernetes events')).length, 1);
  api.hangEvents = false;
  await advanceUntil(time, 'sent on a later try', () => results.includes('Warning/created'));
  t.deepEqual(results.filter((r) => r !== 'Warning/retried'), ['Warning/created']);
  t.is(api.events.filter((e) => e.status === 201).length, 1);
});

test('with the API server down an event is tried 12 times on the backoff, then counted dropped', async (t) => {
  const { api, time, recorder, results, waits } = await setup(t);
  await api.down();
  recorder.record(warning('/down'));
  await advanceUntil(time, 'given up', () => results.includes('Warning/dropped'), 5000);
  t.is(results.filter((r) => r === 'Warning/retried').length, 11, '11 retries after the first try');
  t.deepEqual(results.at(-1), 'Warning/dropped');
  // The backoff's waits: from about a second, doubling, capped at 30 s, each jittered within [half, all].
  const backoff = waits.filter((w) => w >= 500);
  t.is(backoff.length, 11);
  backoff.forEach((ms, i) => {
    const cap = Math.min(30_000, 1000 * 2 ** i);
    t.true(ms >= cap / 2 && ms <= cap, `wait ${i + 1}: ${ms} ms, want ${cap / 2}–${cap}`);
  });
});

test('an event that failed while the API server was down is sent once it is back, at once when the watch says so', async (t) => {
  const { api, time, recorder, results } = await setup(t);
  await api.down();
  recorder.record(warning('/back'));
  await advanceUntil(time, 'two retries', () => results.filter((r) => r === 'Warning/retried').length >= 2, 1000);
  await api.up();
  recorder.apiBack();
  await until('sent without waiting out the backoff', () => results.includes('Warning/created'));
  t.is(api.events.filter((e) => e.status === 201).length, 1);
});

test('an event the server refuses (403, 422) is not tried again; 429 and 5xx are, not before Retry-After', async (t) => {
  const { api, time, recorder, results, waits } = await setup(t);
  api.failNext({ status: 403, verb: 'create' });
  recorder.record(warning('/forbidden'));
  await until('refused', () => results.includes('Warning/failed'));
  t.is(api.events.length, 0);
  api.takeProblems();

  api.failNext({ status: 429, verb: 'create', retryAfterSeconds: 7 });
  api.failNext({ status: 503, verb: 'create' });
  recorder.record(warning('/busy'));
  await advanceUntil(time, 'sent after 429 and 503', () => results.includes('Warning/created'), 1000);
  t.deepEqual(results, ['Warning/failed', 'Warning/retried', 'Warning/retried', 'Warning/created']);
  t.true(waits.some((w) => w >= 7000), `a wait of Retry-After at least: ${waits.join(', ')}`);

  t.deepEqual(retryOf(new KubeApiError(422, '')), { retry: false, notBeforeMs: 0 });
  t.deepEqual(retryOf(new KubeApiError(401, '')), { retry: true, notBeforeMs: 0 });
  t.deepEqual(retryOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), { retry: true, notBeforeMs: 0 });
});

test('an event waits for its pod to be known, and is dropped if it never is', async (t) => {
  const { api, time, recorder, results, known, asked } = await setup(t, { waitForPodMs: 60_000 });
  recorder.record({ ...warning('/x'), podUid: 'u2' });
  recorder.record({ ...warning('/y'), podUid: 'u3' });
  // Both pods were looked up and neither was known: nothing is sent, both wait.
  await until('both pods looked up', () => asked.includes('u2') && asked.includes('u3'));
  t.deepEqual(results, []);
  t.is(api.events.length, 0);
  t.is(recorder.stats().queued, 2);
  known.add('u2');
  recorder.poke();
  await until('the known pod’s event', () => results.length === 1);
  t.is(api.events[0]!.body.involvedObject.name, 'pod-u2');
  await time.settle(61_000);
  recorder.poke();
  await until('the other dropped', () => results.length === 2);
  t.deepEqual(results, ['Warning/created', 'Warning/dropped']);
  t.is(recorder.stats().queued, 0);
});

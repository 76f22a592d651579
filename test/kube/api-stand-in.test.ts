// The API stand-in answers as kube-apiserver answers, byte for byte where a
// client reads it: the Status of a 401, a 403 and a 422, field selectors,
// watch ERROR events, continue tokens. If it drifted, the daemon's tests
// would prove nothing about the real server.

import test from 'ava';
import { appPod, startFakeApiServer, type FakeApiServer, type Json } from '../fixtures/kube-api-server.js';

async function get(a: FakeApiServer, path: string, token = a.defaultToken): Promise<{ status: number; body: Json }> {
  const r = await fetch(a.url + path, { headers: { Authorization: `Bearer ${token}` } });
  return { status: r.status, body: (await r.json()) as Json };
}
async function send(a: FakeApiServer, method: string, path: string, body: unknown, type = 'application/json'): Promise<{ status: number; body: Json }> {
  const r = await fetch(a.url + path, { method, headers: { Authorization: `Bearer ${a.defaultToken}`, 'Content-Type': type }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Json };
}
/** The lines of a watch, until it ends or `n` lines came. */
async function watchLines(a: FakeApiServer, query: string, n = Infinity): Promise<Json[]> {
  const ac = new AbortController();
  const r = await fetch(`${a.url}/api/v1/pods?watch=true&${query}`, { headers: { Authorization: `Bearer ${a.defaultToken}` }, signal: ac.signal });
  const out: Json[] = [];
  let buf = '';
  try {
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString('utf8');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        out.push(JSON.parse(buf.slice(0, i)) as Json);
        buf = buf.slice(i + 1);
        if (out.length >= n) {
          ac.abort();
          return out;
        }
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
  return out;
}

test('a token it does not hold gets the 401 Status; anything no rule of the rendered ClusterRole allows gets the 403 Status', async (t) => {
  const a = await startFakeApiServer();
  t.teardown(() => a.close());
  t.is(a.identity, 'system:serviceaccount:kube-system:juicefs-path-prober', 'from the ClusterRoleBinding');
  t.deepEqual(await get(a, '/api/v1/pods', 'no-such-token'), {
    status: 401,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 },
  });
  t.deepEqual(await get(a, '/api/v1/nodes'), {
    status: 403,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'nodes is forbidden: User "system:serviceaccount:kube-system:juicefs-path-prober" cannot list resource "nodes" in API group "" at the cluster scope',
      reason: 'Forbidden',
      details: { kind: 'nodes' },
      code: 403,
    },
  });
  const del = await send(a, 'DELETE', '/api/v1/namespaces/default/events/x', {});
  t.is(del.body.message, 'events "x" is forbidden: User "system:serviceaccount:kube-system:juicefs-path-prober" cannot delete resource "events" in API group "" in the namespace "default"');
  const status = await send(a, 'PATCH', '/api/v1/namespaces/default/pods/web-0/status', {}, 'application/merge-patch+json');
  t.regex(status.body.message, /cannot patch resource "pods\/status" in API group ""/);
  t.is((await get(a, '/api/v1/pods')).status, 200);
  // No credentials at all: anonymous (kube-apiserver's default), which RBAC refuses.
  const anonymous = await fetch(`${a.url}/api/v1/pods`);
  t.is(anonymous.status, 403);
  t.is(((await anonymous.json()) as Json).message, 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" at the cluster scope');
  t.is(a.takeProblems().length, 5, 'each refusal is a problem for the test');
  // Revoked: refused from then on; added: accepted.
  a.addToken('rotated');
  t.is((await get(a, '/api/v1/pods', 'rotated')).status, 200);
  a.revokeToken('rotated');
  t.is((await get(a, '/api/v1/pods', 'rotated')).status, 401);
  a.takeProblems();
});

test('the rules no request needed are reported, as `verb resource`', async (t) => {
  const a = await startFakeApiServer();
  t.teardown(() => a.close());
  const all = a.unusedRules();
  t.true(all.includes('list pods') && all.includes('get persistentvolumeclaims') && all.includes('create events'), all.join(', '));
  await get(a, '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1');
  t.false(a.unusedRules().includes('list pods'));
  t.true(a.unusedRules().includes('watch pods'));
});

test('field selectors are applied as the server applies them, and an unsupported field is a 400', async (t) => {
  const a = await startFakeApiServer();
  t.teardown(() => a.close());
  a.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1' }));
  a.putPod(appPod({ uid: 'u2', name: 'web-1', node: 'n1', namespace: 'prod' }));
  a.putPod(appPod({ uid: 'u3', name: 'web-0', node: 'n2' }));
  const names = async (sel: string) => ((await get(a, `/api/v1/pods?fieldSelector=${encodeURIComponent(sel)}`)).body.items as Json[]).map((p) => `${p.metadata.namespace}/${p.metadata.name}@${p.spec.nodeName}`);
  t.deepEqual(await names('spec.nodeName=n1'), ['default/web-0@n1', 'prod/web-1@n1']);
  t.deepEqual(await names('spec.nodeName==n1,metadata.namespace!=prod'), ['default/web-0@n1']);
  t.deepEqual(await names('metadata.name=web-0'), ['default/web-0@n1', 'default/web-0@n2']);
  t.deepEqual(await names('spec.host=n2'), ['default/web-0@n2'], 'the old name of spec.nodeName');
  t.deepEqual(await names('spec.nodeName!=n1'), ['default/web-0@n2']);
  t.deepEqual(await names(''), ['default/web-0@n1', 'default/web-0@n2', 'prod/web-1@n1']);
  const bad = await get(a, `/api/v1/pods?fieldSelector=${encodeURIComponent('spec.node=n1')}`);
  t.deepEqual(bad, { status: 400, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'field label not supported: spec.node', reason: 'BadRequest', code: 400 } });
  t.is((await get(a, `/api/v1/pods?fieldSelector=${encodeURIComponent('spec.nodeName')}`)).body.message, "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'");
  t.is(a.takeProblems().length, 2);
  // The watch applies the same selector, and a pod that stops matching is DELETED for it.
  const from = a.resourceVersion();
  a.putPod({ ...appPod({ uid: 'u1', name: 'web-0', node: 'n1' }), status: { phase: 'Succeeded' } });
  const lines = await watchLines(a, `resourceVersion=${from}&fieldSelector=${encodeURIComponent('status.phase=Running')}`, 1);
  t.deepEqual(lines.map((l) => [l.type, l.object.metadata.name]), [['DELETED', 'web-0']]);
});

test('a watch from a compacted version gets ERROR 410 Expired, one from beyond the history 504, and bookmarks only when asked for', async (t) => {
  const a = await startFakeApiServer();
  t.teardown(() => a.close());
  a.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1' }));
  const old = a.resourceVersion();
  a.putPod(appPod({ uid: 'u2', name: 'web-1', node: 'n1' }));
  a.compact();
  const expired = await watchLines(a, `resourceVersion=${old}`);
  t.deepEqual(expired, [{ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${old} (${a.resourceVersion()})`, reason: 'Expired', code: 410 } }]);
  const beyond = await watchLines(a, 'resourceVersion=99999');
  t.is(beyond[0]!.object.code, 504);
  t.deepEqual(beyond[0]!.object.details.causes, [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }]);

  const now = a.resourceVersion();
  const withBookmarks = watchLines(a, `resourceVersion=${now}&allowWatchBookmarks=true`, 1);
  const without = watchLines(a, `resourceVersion=${now}`, 1);
  while (a.openWatches() < 2) await new Promise((r) => setTimeout(r, 10));
  const rv = a.bookmark();
  a.putPod(appPod({ uid: 'u3', name: 'web-2', node: 'n1' }));
  t.deepEqual(await withBookmarks, [{ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: rv } } }]);
  t.deepEqual((await without).map((l) => l.type), ['ADDED'], 'no bookmark for a watch that did not ask');
});

test('a list is paged with continue tokens, which expire with compaction (410 Expired)', async (t) => {
  const a = await startFakeApiServer();
  t.teardown(() => a.close());
  for (let i = 0; i < 5; i++) a.putPod(appPod({ uid: `u${i}`, name: `web-${i}`, node: 'n1' }));
  const p1 = await get(a, '/api/v1/pods?limit=2');
  t.is(p1.body.items.length, 2);
  t.is(p1.body.metadata.remainingItemCount, 3);
  const p2 = await get(a, `/api/v1/pods?limit=2&continue=${encodeURIComponent(p1.body.metadata.continue)}`);
  t.deepEqual(p2.body.items.map((p: Json) => p.metadata.name), ['web-2', 'web-3']);
  t.is(p2.body.metadata.resourceVersion, p1.body.metadata.resourceVersion, 'one consistent snapshot');
  // The store moves on and is compacted past the snapshot.
  a.putPod(appPod({ uid: 'u9', name: 'web-9', node: 'n1' }));
  a.compact();
  const p3 = await get(a, `/api/v1/pods?limit=2&continue=${encodeURIComponent(p2.body.metadata.continue)}`);
  t.is(p3.status, 410);
  t.is(p3.body.reason, 'Expired');
  t.regex(p3.body.message, /^The provided continue parameter is too old/);
});

test('Events are validated as the API server validates core/v1 Events: namespace, names, decoding, the patch result', async (t) => {
  const a = await startFakeApiServer();
  t.teardown(() => a.close());
  const event = (o: Json = {}) => ({
    metadata: { name: 'web-0.abc', namespace: 'default' },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-0', uid: 'u1' },
    type: 'Warning',
    reason: 'VolumePathUnhealthy',
    message: 'm',
    count: 1,
    firstTimestamp: '2026-01-01T00:00:00.000Z',
    lastTimestamp: '2026-01-01T00:00:00.000Z',
    source: { component: 'juicefs-path-prober', host: 'n1' },
    ...o,
  });
  const wrongNs = await send(a, 'POST', '/api/v1/namespaces/default/events', event({ involvedObject: { kind: 'Pod', namespace: 'prod', name: 'web-0' } }));
  t.deepEqual(wrongNs, {
    status: 422,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Event "web-0.abc" is invalid: involvedObject.namespace: Invalid value: "prod": does not match event.namespace',
      reason: 'Invalid',
      details: { name: 'web-0.abc', kind: 'Event', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "prod": does not match event.namespace', field: 'involvedObject.namespace' }] },
      code: 422,
    },
  });
  t.is((await send(a, 'POST', '/api/v1/namespaces/default/events', event({ metadata: { name: 'x', namespace: 'prod' } }))).body.message, 'the namespace of the provided object does not match the namespace sent on the request');
  t.regex((await send(a, 'POST', '/api/v1/namespaces/default/events', event({ metadata: { name: 'a/b' } }))).body.message, /metadata.name: Invalid value: "a\/b": may not contain '\/'/);
  t.regex((await send(a, 'POST', '/api/v1/namespaces/default/events', event({ metadata: {} }))).body.message, /metadata.name: Required value: name or generateName is required/);
  t.is((await send(a, 'POST', '/api/v1/namespaces/default/events', event({ count: '1' }))).status, 400);
  // An event with eventTime is a "new" one: reportingComponent, reportingInstance, action and reason are required.
  const fresh = await send(a, 'POST', '/api/v1/namespaces/default/events', event({ eventTime: '2026-01-01T00:00:00.000000Z', reason: '' }));
  t.deepEqual(fresh.body.details.causes.map((c: Json) => c.field), ['reportingComponent', 'reportingInstance', 'action', 'reason']);
  t.is(a.takeProblems().length, 6);

  t.is((await send(a, 'POST', '/api/v1/namespaces/default/events', event())).status, 201);
  t.is((await send(a, 'POST', '/api/v1/namespaces/default/events', event())).status, 409);
  const merge = 'application/merge-patch+json';
  const patched = await send(a, 'PATCH', '/api/v1/namespaces/default/events/web-0.abc', { count: 2, lastTimestamp: '2026-01-01T00:01:00.000Z' }, merge);
  t.like(patched, { status: 200, body: { count: 2, lastTimestamp: '2026-01-01T00:01:00.000Z', firstTimestamp: '2026-01-01T00:00:00.000Z' } });
  const badCount = await send(a, 'PATCH', '/api/v1/namespaces/default/events/web-0.abc', { count: 'three' }, merge);
  t.is(badCount.status, 422);
  t.regex(badCount.body.message, /^ "" is invalid: patch: Invalid value: ".*": json: cannot unmarshal string into Go struct field Event.count of type int32$/);
  t.is((await send(a, 'PATCH', '/api/v1/namespaces/default/events/web-0.abc', { lastTimestamp: 'yesterday' }, merge)).status, 422);
  t.is((await send(a, 'PATCH', '/api/v1/namespaces/default/events/web-0.abc', { count: 3 }, 'application/json')).status, 415);
  t.is((await send(a, 'PATCH', '/api/v1/namespaces/default/events/gone', { count: 3 }, merge)).status, 404);
  t.is(a.takeProblems().length, 3);
});

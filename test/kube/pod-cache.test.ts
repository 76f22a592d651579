// The pod cache's decisions about claims: read each once, retry the unbound
// and the unreadable, forget what no pod uses, at most four reads at a time.

import test from 'ava';
import { createPodCache, type ClaimReader } from '../../src/kube/pod-cache.js';
import type { PodRecord } from '../../src/kube/types.js';
import { eventually } from '../fixtures/harness.js';
import { manualTime } from '../fixtures/manual-time.js';

function appPod(uid: string, claims: Record<string, string>, namespace = 'default'): PodRecord {
  return { uid, namespace, name: `pod-${uid}`, phase: 'Running', deleting: false, claims: new Map(Object.entries(claims)), inline: new Set(), controllerKind: 'ReplicaSet', conditions: new Map() };
}

/** Claims answered from a table ('' while unbound, an Error to fail); every read recorded. */
function claimTable(table: Record<string, string | Error>): ClaimReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async volumeOf(ns, claim) {
      const key = `${ns}/${claim}`;
      reads.push(key);
      const v = table[key] ?? '';
      if (v instanceof Error) throw v;
      return v;
    },
  };
}

test('a pod’s claims are read and map its PVs to claim names; a second pod on the same claim costs no read', async (t) => {
  const claims = claimTable({ 'default/data-0': 'pv-a', 'default/logs-0': 'pv-b' });
  let changes = 0;
  const cache = createPodCache({ claims, onClaimError: () => t.fail('no error'), onChange: () => changes++ });
  t.teardown(() => cache.stop());
  cache.sync([appPod('u1', { data: 'data-0', logs: 'logs-0' })]);
  await eventually('both claims read', () => cache.claimOf('u1', 'pv-b') === 'logs-0');
  t.is(cache.claimOf('u1', 'pv-a'), 'data-0');
  t.is(cache.claimOf('u1', 'pv-zzz'), '', 'a PV no claim of the pod is bound to');
  t.is(changes, 2);
  cache.upsert(appPod('u2', { data: 'data-0' }));
  t.is(cache.claimOf('u2', 'pv-a'), 'data-0');
  t.deepEqual(claims.reads.sort(), ['default/data-0', 'default/logs-0']);
});

test('a subPath maps through its pod volume name without any read', (t) => {
  const claims = claimTable({});
  const cache = createPodCache({ claims, onClaimError: () => {} });
  t.teardown(() => cache.stop());
  cache.upsert(appPod('u1', { data: 'data-0' }));
  t.is(cache.claimOf('u1', 'pv-unknown', 'data'), 'data-0');
  t.is(cache.claimOf('u-unknown', 'pv-a', 'data'), '', 'an unknown pod has no claim');
});

test('an unbound claim is read again on the backoff, and maps once bound', async (t) => {
  const time = manualTime();
  const table: Record<string, string | Error> = {};
  const claims = claimTable(table);
  const cache = createPodCache({ claims, onClaimError: () => {}, clock: time.clock, retry: { initialMs: 1000, maxMs: 8000, jitter: 0 } });
  t.teardown(() => cache.stop());
  cache.upsert(appPod('u1', { data: 'data-0' }));
  await time.settle(0);
  t.is(claims.reads.length, 1);
  // Before the retry is due, an update of the pod does not read again.
  cache.upsert(appPod('u1', { data: 'data-0' }));
  await time.settle(999);
  t.is(claims.reads.length, 1);
  await time.settle(1);
  t.is(claims.reads.length, 2, 'after 1 s');
  await time.settle(2000);
  t.is(claims.reads.length, 3, 'after 2 s more');
  await time.settle(3999);
  t.is(claims.reads.length, 3);
  table['default/data-0'] = 'pv-a';
  await time.settle(1);
  t.is(claims.reads.length, 4, 'after 4 s more');
  t.is(cache.claimOf('u1', 'pv-a'), 'data-0');
  t.is(time.armed(), 0, 'nothing left to retry');
});

test('a claim that cannot be read is reported and read again on the backoff, not after a fixed half minute', async (t) => {
  const time = manualTime();
  const table: Record<string, string | Error> = { 'default/data-0': new Error('Unauthorized') };
  const claims = claimTable(table);
  const errors: unknown[] = [];
  const cache = createPodCache({ claims, onClaimError: (e) => errors.push(e), clock: time.clock });
  t.teardown(() => cache.stop());
  cache.upsert(appPod('u1', { data: 'data-0' }));
  await time.settle(0);
  t.is(errors.length, 1);
  t.is((errors[0] as Error).message, 'Unauthorized');
  table['default/data-0'] = 'pv-a';
  // The shipped policy: the first retry within a second (jittered between half and all of it).
  await time.settle(1000);
  t.is(cache.claimOf('u1', 'pv-a'), 'data-0');
  t.is(claims.reads.length, 2);
});

test('at most four claims are read at a time', async (t) => {
  let running = 0;
  let most = 0;
  const release: (() => void)[] = [];
  const claims: ClaimReader = {
    volumeOf: (_ns, claim) =>
      new Promise((resolve) => {
        running++;
        most = Math.max(most, running);
        release.push(() => {
          running--;
          resolve(`pv-${claim}`);
        });
      }),
  };
  const cache = createPodCache({ claims, onClaimError: () => {} });
  t.teardown(() => cache.stop());
  cache.sync(Array.from({ length: 10 }, (_, i) => appPod(`u${i}`, { data: `c${i}` })));
  t.is(running, 4);
  for (let done = 0; done < 10; done++) {
    await eventually('a read waiting', () => release.length > 0);
    release.shift()!();
  }
  await eventually('all bound', () => Array.from({ length: 10 }, (_, i) => cache.claimOf(`u${i}`, `pv-c${i}`)).every((c, i) => c === `c${i}`));
  t.is(most, 4);
});

test('mount pods go to the mount pod index, not to claim reads; a removed pod is forgotten with its claims', async (t) => {
  const claims = claimTable({ 'default/data-0': 'pv-a' });
  const cache = createPodCache({ claims, onClaimError: () => {} });
  t.teardown(() => cache.stop());
  const target = '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-a/mount';
  const mp: PodRecord = { ...appPod('m1', {}, 'kube-system'), mount: { targets: [target], running: true, why: '' } };
  const app = appPod('u1', { data: 'data-0' });
  cache.sync([app, mp]);
  t.is(cache.mountPods.lookup('u1', 'pv-a')?.name, 'pod-m1');
  await eventually('bound', () => cache.claimOf('u1', 'pv-a') === 'data-0');
  t.is(cache.size(), 2);

  cache.remove(app);
  t.is(cache.get('u1'), undefined);
  t.is(cache.claimOf('u1', 'pv-a'), '');
  t.is(cache.mountPods.lookup('u1', 'pv-a'), undefined, 'the gone pod’s path is forgotten by the index too');
  // Its claim was pruned: a pod using it later reads it afresh.
  cache.upsert(appPod('u3', { data: 'data-0' }));
  await eventually('read again', () => claims.reads.length === 2);
});

test('a sync replaces the pods: those not listed any more are gone', (t) => {
  const cache = createPodCache({ claims: claimTable({}), onClaimError: () => {} });
  t.teardown(() => cache.stop());
  cache.sync([appPod('u1', {}), appPod('u2', {})]);
  cache.sync([appPod('u2', {})]);
  t.is(cache.get('u1'), undefined);
  t.truthy(cache.get('u2'));
  t.is(cache.size(), 1);
});

test('a pod volume is published as its bound PV, an inline volume as itself; another kind is not ours, an unread claim unknown', async (t) => {
  const claims = claimTable({ 'default/data-0': 'pv-a' });
  const cache = createPodCache({ claims, onClaimError: () => {} });
  t.teardown(() => cache.stop());
  t.is(cache.publishedAs('u1', 'data'), undefined, 'pod not known yet');
  cache.upsert({ ...appPod('u1', { data: 'data-0', logs: 'logs-0' }), inline: new Set(['cache']) });
  await eventually('settled', () => cache.settled());
  t.is(cache.publishedAs('u1', 'data'), 'pv-a');
  t.is(cache.publishedAs('u1', 'logs'), undefined, 'unbound: not known');
  t.is(cache.publishedAs('u1', 'cache'), 'cache');
  t.is(cache.publishedAs('u1', 'tmp'), null);
});

test('in process mount mode the CSI node pod hosts the clients, and reads Deleted once gone', (t) => {
  const cache = createPodCache({ claims: claimTable({}), onClaimError: () => {} });
  t.teardown(() => cache.stop());
  const node = (byProcess: boolean): PodRecord => ({ ...appPod('c1', {}, 'kube-system'), csiNode: { byProcess, running: true, why: '' } });
  cache.upsert(node(false));
  t.is(cache.processHost(), undefined, 'mount pod mode: no host');
  cache.upsert(node(true));
  t.like(cache.processHost(), { name: 'pod-c1', running: true, csiNode: true });
  cache.remove(node(true));
  t.like(cache.processHost(), { phase: 'Deleted', running: false });
});

test('the revision moves when a pod changes or goes and when a claim binding is learned', async (t) => {
  let bind: (pv: string) => void = () => t.fail('no read yet');
  const cache = createPodCache({ claims: { volumeOf: () => new Promise<string>((r) => (bind = r)) }, onClaimError: () => t.fail('no error') });
  t.teardown(() => cache.stop());
  let seen = cache.revision();
  const moved = () => {
    const r = cache.revision();
    const m = r > seen;
    seen = r;
    return m;
  };
  cache.upsert(appPod('u1', { data: 'data-0' }));
  t.true(moved(), 'a pod added');
  t.is(cache.claimOf('u1', 'pv-a'), '');
  bind('pv-a');
  await eventually('the claim read', () => cache.claimOf('u1', 'pv-a') === 'data-0');
  t.true(moved(), 'a binding learned');
  cache.remove(appPod('u1', { data: 'data-0' }));
  t.true(moved(), 'a pod gone');
  cache.sync([]);
  t.true(moved(), 'a fresh list');
});

// The Kubernetes adapter against the API stand-in as the shipped RBAC and the
// server's own checks see it: every call it makes is one the rendered
// ClusterRole allows, every rule the ClusterRole grants is one it uses, the
// Events it sends are ones the server accepts, and the field selector it asks
// with is one the server takes and applies.

import test from 'ava';
import { createKube } from '../../src/kube/kube.js';
import { openKube } from '../../src/kube/open.js';
import { createLogger } from '../../src/log/logger.js';
import type { VolumePath } from '../../src/types.js';
import { eventually as until } from '../fixtures/harness.js';
import { appPod, mountPod, startFakeApiServer } from '../fixtures/kube-api-server.js';

const quiet = createLogger({ write: () => {} });
const volume = (podUid: string, pv: string): VolumePath => ({ path: `/var/lib/kubelet/pods/${podUid}/volumes/kubernetes.io~csi/${pv}/mount`, kind: 'volume', podUid, pv, volumeId: pv, driver: 'csi.juicefs.com' });

test('every request the adapter makes is allowed by the rendered ClusterRole, every rule it grants is needed, every Event is accepted', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  api.putPod(appPod({ uid: 'u1', name: 'web-0', namespace: 'prod', node: 'n1', claims: { data: 'data-web-0' } }));
  api.putPod(mountPod({ uid: 'm1', name: 'juicefs-n1-pv-a', node: 'n1', targets: [volume('u1', 'pv-a').path] }));
  api.setClaim('prod', 'data-web-0', 'pv-a');
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source), source, nodeName: 'n1', logger: quiet });
  t.teardown(() => kube.stop());
  kube.start();
  await until('listed, watching, claims read', () => kube.settled() && api.openWatches() === 1);

  const v = volume('u1', 'pv-a');
  const at = 0;
  kube.transition({ volume: v, from: 'healthy', to: 'io_error', detail: 'EIO: Input/output error', at });
  kube.transition({ volume: v, from: 'io_error', to: 'healthy', detail: '', at });
  await until('a Warning and a Normal created', () => api.events.filter((e) => e.status === 201).length === 2);
  kube.transition({ volume: v, from: 'healthy', to: 'io_error', detail: 'EIO: Input/output error', at });
  await until('the Warning updated', () => api.events.some((e) => e.method === 'PATCH' && e.status === 200));

  t.deepEqual(api.problems(), [], 'no request refused: no 403, no 401, no rejected Event');
  t.deepEqual(api.unusedRules(), [], 'no rule of the ClusterRole goes unused');
  t.deepEqual([...new Set(api.calls.map((c) => `${c.verb} ${c.resource} ${c.status}`))].sort(), [
    'create events 201',
    'get persistentvolumeclaims 200',
    'list pods 200',
    'patch events 200',
    'watch pods 200',
  ]);
  t.like(api.events[0]!.body, { metadata: { namespace: 'prod' }, involvedObject: { kind: 'Pod', namespace: 'prod', name: 'web-0', uid: 'u1' }, type: 'Warning', count: 1 });
  t.like(api.events.at(-1)!.body, { count: 2, type: 'Warning', contentType: 'application/merge-patch+json' });
});

test('the pods are asked for with a field selector the server takes, and only this node’s come back, on the list and on the watch', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  api.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1' }));
  api.putPod(appPod({ uid: 'u2', name: 'web-0', namespace: 'other', node: 'n2' }));
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source), source, nodeName: 'n1', logger: quiet });
  t.teardown(() => kube.stop());
  kube.start();
  await until('synced and watching', () => kube.status().synced && api.openWatches() === 1);
  t.is(kube.status().pods, 1);
  api.putPod(appPod({ uid: 'u3', name: 'web-1', node: 'n2' }));
  api.putPod(appPod({ uid: 'u4', name: 'web-2', node: 'n1' }));
  await until('the new pod of this node', () => kube.status().pods === 2);
  t.is(kube.owner(volume('u4', 'pv'))?.pod, 'web-2');
  t.is(kube.owner(volume('u3', 'pv')), undefined, 'another node’s pod never reaches the cache');
  t.deepEqual(
    api.requests.map((r) => r.query.fieldSelector),
    ['spec.nodeName=n1', 'spec.nodeName=n1'],
  );
  t.deepEqual(api.problems(), []);
});

test('a node with more pods than a page holds is listed in pages, every one of them', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  for (let i = 0; i < 620; i++) api.putPod(appPod({ uid: `u${i}`, name: `web-${i}`, node: 'n1' }));
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source), source, nodeName: 'n1', logger: quiet });
  t.teardown(() => kube.stop());
  kube.start();
  await until('synced', () => kube.status().synced);
  t.is(kube.status().pods, 620);
  const lists = api.requests.filter((r) => r.kind === 'list');
  t.deepEqual(lists.map((r) => [r.query.limit, r.query.continue !== undefined]), [['500', false], ['500', true]]);
  t.deepEqual(api.problems(), []);
});

// The info series follow the Kubernetes API from one scrape to the next, though
// the per-path text is kept between scrapes.

import test from 'ava';
import { gunzipSync } from 'node:zlib';
import { createKube } from '../../src/kube/kube.js';
import { openKube } from '../../src/kube/open.js';
import { createLogger } from '../../src/log/logger.js';
import { registerKubeMetrics } from '../../src/metrics/kube-metrics.js';
import type { VolumePath } from '../../src/types.js';
import { eventually as until, samples } from '../fixtures/harness.js';
import { appPod, mountPod, startFakeApiServer } from '../fixtures/kube-api-server.js';
import { testMetrics, testTracking } from '../fixtures/metrics.js';

const logger = createLogger({ write: () => {} });
const path = '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-a/mount';
const volume: VolumePath = { path, kind: 'volume', podUid: 'u1', pv: 'pv-a', volumeId: 'pv-a', driver: 'csi.juicefs.com' };

test('a scrape right after the pod cache changes shows the new owner labels', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  api.putPod(mountPod({ uid: 'm1', name: 'juicefs-n1-pv-a', node: 'n1', targets: [path] }));
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source), source, nodeName: 'n1', logger });
  t.teardown(() => kube.stop());
  kube.start();
  await until('the mount pod known', () => kube.mountPodOf(volume) !== undefined);

  const paths = testTracking();
  const metrics = testMetrics({ tracker: paths.tracker, nodeName: 'n1' });
  paths.observe(volume, { state: 'healthy', detail: '' });
  const info = async (gzip = false) => {
    const body = await metrics.body.render('prometheus', gzip);
    return samples((gzip ? gunzipSync(body) : body).toString(), 'juicefs_volume_path_info', { volume_path: path })[0]?.labels;
  };
  t.is(await info(), undefined, 'no info family before Kubernetes mode is on');
  registerKubeMetrics({ registry: metrics.registry, pathSeries: metrics.pathSeries, owner: kube.owner, ownerRevision: kube.ownerRevision, stale: kube.isStale, counters: kube.counters });
  t.like(await info(), { pod_name: '', pvc_name: '', mount_pod: 'juicefs-n1-pv-a' });
  t.like(await info(true), { pod_name: '', pvc_name: '', mount_pod: 'juicefs-n1-pv-a' });

  api.setClaim('default', 'data-web-0', 'pv-a');
  api.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1', claims: { data: 'data-web-0' } }));
  await until('the pod and its claim known', () => kube.owner(volume)?.pvc === 'data-web-0');
  t.like(await info(), { pod_namespace: 'default', pod_name: 'web-0', pvc_name: 'data-web-0', mount_pod: 'juicefs-n1-pv-a' });
  t.like(await info(true), { pod_name: 'web-0', pvc_name: 'data-web-0' });

  api.deletePod('m1');
  await until('the mount pod gone', () => kube.mountPodOf(volume)?.phase === 'Deleted');
  t.like(await info(), { pod_name: 'web-0', mount_pod: '' });

  api.deletePod('u1');
  await until('the pod gone', () => kube.owner(volume) === undefined);
  t.like(await info(), { pod_namespace: '', pod_name: '', pvc_name: '', mount_pod: '' });
  t.like(await info(true), { pod_name: '', pvc_name: '' });
});

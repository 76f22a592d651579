// The /status document built from plain data: its fields, the Kubernetes part
// only in Kubernetes mode, paths in path order, one stuck entry per source.

import test from 'ava';
import { statusDocument, type StatusSources } from '../../src/http/status-document.js';
import type { PathOwner, PathStatus } from '../../src/types.js';

const vol = (pv: string, extra: Partial<PathStatus['volume']> = {}): PathStatus['volume'] => ({
  path: `/k/pods/u1/volumes/kubernetes.io~csi/${pv}/mount`,
  kind: 'volume',
  podUid: 'u1',
  pv,
  volumeId: `vol-${pv}`,
  driver: 'csi.juicefs.com',
  ...extra,
});
const paths: PathStatus[] = [
  { volume: vol('pv-b'), state: 'disconnected', detail: 'ENOTCONN: Transport endpoint is not connected', since: Date.UTC(2026, 0, 1), lastProbeAt: Date.UTC(2026, 0, 1, 0, 1), lastProbeMs: 0.12345, source: '0:52 /' },
  { volume: vol('pv-a'), state: 'pending', detail: 'published, not mounted yet', since: Date.UTC(2026, 0, 1) },
  {
    volume: vol('pv-a', { path: '/k/pods/u1/volume-subpaths/data/app/0', kind: 'subpath', subpath: { volumeName: 'data', container: 'app', index: '0' } }),
    state: 'healthy',
    detail: '',
    since: Date.UTC(2026, 0, 1),
  },
];

function sources(kube: ReturnType<StatusSources['kube']>): StatusSources {
  return {
    node: 'node-a',
    version: '1.2.3',
    startedAt: '2026-01-01T00:00:00.000Z',
    ready: () => false,
    notReady: () => 'the kubelet pods directory /k/pods does not exist',
    kube: () => kube,
    inFlight: () => 3,
    stuck: () => [
      { key: '0:52 /', since: Date.UTC(2026, 0, 1, 0, 2) },
      { key: '0:52 /', since: Date.UTC(2026, 0, 1, 0, 2) },
    ],
    helpers: () => ({ helpers: 1, retired: 0, inFlight: 3, stuck: 1, queued: 0, spawned: 1, unexpectedExits: 0, pids: [42] }),
    paths: () => paths,
  };
}

test('the document has every path in path order with its state, health, times and source; not-ready says why', (t) => {
  const d = statusDocument(sources({ mode: 'off', why: '--kube=off' }));
  t.like(d, { node: 'node-a', version: '1.2.3', ready: false, not_ready: 'the kubelet pods directory /k/pods does not exist', kube: { mode: 'off', why: '--kube=off' } });
  t.deepEqual(
    d.paths.map((p) => p.path),
    ['/k/pods/u1/volume-subpaths/data/app/0', '/k/pods/u1/volumes/kubernetes.io~csi/pv-a/mount', '/k/pods/u1/volumes/kubernetes.io~csi/pv-b/mount'],
  );
  t.deepEqual(d.paths[2], {
    path: '/k/pods/u1/volumes/kubernetes.io~csi/pv-b/mount',
    kind: 'volume',
    pod_uid: 'u1',
    pv: 'pv-b',
    volume_id: 'vol-pv-b',
    state: 'disconnected',
    health: 0,
    detail: 'ENOTCONN: Transport endpoint is not connected',
    since: '2026-01-01T00:00:00.000Z',
    last_probe: '2026-01-01T00:01:00.000Z',
    last_probe_ms: 0.123,
    source: '0:52 /',
  });
  t.like(d.paths[1], { state: 'pending', health: null, last_probe: null, last_probe_ms: null, source: null });
  t.deepEqual(d.paths[0]!.subpath, { volumeName: 'data', container: 'app', index: '0' });
  t.false('kube' in d.paths[0]!, 'no Kubernetes part with the mode off');
  t.deepEqual(d.probe.stuck, [{ source: '0:52 /', since: '2026-01-01T00:02:00.000Z' }], 'one entry per stuck source');
  t.is(d.probe.in_flight, 3);
});

test('in Kubernetes mode each path names its pod, claim and mount pod, and a running mount pod with a broken path is marked', (t) => {
  const owner: PathOwner = { namespace: 'shop', pod: 'web-0', pvc: 'data', mountPod: { namespace: 'kube-system', name: 'juicefs-n-pv-b', phase: 'Running', running: true, why: '' } };
  const kubeStatus = { source: 'in-cluster', server: 'https://10.0.0.1', stale: false, synced: true, last_error: null, resource_version: '7', pods: 2, mount_pods: 1, events: { queued: 0 } };
  const d = statusDocument(sources({ mode: 'on', status: () => kubeStatus, owner: (s) => (s.volume.pv === 'pv-b' ? owner : undefined) }));
  t.deepEqual(d.kube, { mode: 'on', ...kubeStatus });
  const broken = d.paths.find((p) => p.pv === 'pv-b')!;
  t.deepEqual(broken.kube, {
    namespace: 'shop',
    pod: 'web-0',
    pvc: 'data',
    mount_pod: { namespace: 'kube-system', name: 'juicefs-n-pv-b', phase: 'Running', running: true, why: null },
    mount_pod_running_but_path_broken: true,
  });
  t.deepEqual(d.paths.find((p) => p.state === 'pending')!.kube, { namespace: null, pod: null, pvc: null, mount_pod: null });
});

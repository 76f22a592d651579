// Process mount mode end to end: no mount pods; the CSI node pod runs the
// JuiceFS clients, so its state is what explains a dead mount. Real daemon,
// real FUSE mount, an HTTP server speaking list/watch on 127.0.0.1.

import path from 'node:path';
import { byPath, FAST_FLAGS, type DaemonProcess, type StatusPath } from './fixtures/daemon.js';
import { mountTest, sandbox } from './fixtures/harness.js';
import { appPod, csiNodePod } from './fixtures/kube-api-server.js';
import { newPodUid } from './fixtures/kubelet-tree.js';
import { startFuse } from './fixtures/mounts.js';

const NODE = 'test-node';
const box = sandbox();

type KubePath = StatusPath & { kube?: { mount_pod: null | { name: string; running: boolean; csi_node?: boolean }; mount_pod_running_but_path_broken?: boolean } };

mountTest('in process mount mode a dead mount is explained by the CSI node pod: marked while it runs, mount_pod_not_running while it does not', async (t) => {
  const k = box.tree('process-mode');
  const a = await box.api();
  const uid = newPodUid();
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const v = k.publish(uid, 'pv-p', { mountFrom: path.join(fuse.mnt, 'pv-p') });
  a.putPod(appPod({ uid, name: 'db-0', namespace: 'prod', node: NODE, claims: { data: 'data-db-0' } }));
  a.setClaim('prod', 'data-db-0', 'pv-p');
  const csi = { uid: newPodUid(), name: 'juicefs-csi-node-x7k2p', node: NODE, byProcess: true };
  a.putPod(csiNodePod(csi));
  const d = await box.daemon(['--kubelet-dir', k.kubeletDir, '--kubeconfig', a.kubeconfig, ...FAST_FLAGS], { JFS_PROBER_KUBE: 'auto' });
  const kp = (s: Awaited<ReturnType<DaemonProcess['status']>>) => byPath(s, v.mountPath) as KubePath | undefined;

  await d.waitFor((s) => kp(s)?.state === 'healthy' && kp(s)?.kube?.mount_pod?.csi_node === true, 20_000, 'healthy, its client host known');
  t.like(kp(await d.status())!.kube!.mount_pod, { name: csi.name, running: true, csi_node: true });

  await fuse.kill();
  let s = await d.waitFor((s) => kp(s)?.state === 'disconnected', 20_000, 'disconnected');
  t.true(kp(s)!.kube!.mount_pod_running_but_path_broken, 'the client host runs, the mount does not');

  a.putPod(csiNodePod({ ...csi, waiting: 'CrashLoopBackOff' }));
  s = await d.waitFor((s) => kp(s)?.state === 'mount_pod_not_running', 20_000, 'explained by the CSI node pod');
  t.regex(kp(s)!.detail, /^CSI node pod kube-system\/juicefs-csi-node-x7k2p \(process mount mode\) is not running \(Running, container juicefs-plugin waiting: CrashLoopBackOff\); ENOTCONN/);
  t.is(kp(s)!.health, 0);
  const text = await d.metrics();
  t.regex(text, new RegExp(`juicefs_volume_path_info\\{[^}]*mount_pod="${csi.name}"`));

  // Back, but the mount it lost stays dead: the probe's own reason again.
  a.putPod(csiNodePod(csi));
  s = await d.waitFor((s) => kp(s)?.state === 'disconnected', 20_000, 'the CSI node pod running again');
  t.regex(kp(s)!.detail, /^ENOTCONN/);
});

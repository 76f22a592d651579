import fs from 'node:fs';
import path from 'node:path';
import { byPath } from '../fixtures/daemon.js';
import { counterAtLeast, mountTest, poll, sampleValue, sandbox } from '../fixtures/harness.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { startFuse } from '../fixtures/mounts.js';

const box = sandbox();
const WATCH_ACTIVE = 'juicefs_path_prober_watch_active';
const PODS_DIR_ERRORS = ['juicefs_path_prober_discovery_errors_total', { kind: 'pods_dir' }] as const;

mountTest('a kubelet directory absent at start makes /readyz 503 naming it, logged once as an error; its pods are found once it appears', async (t) => {
  const k = box.tree('late');
  const away = `${k.kubeletDir}.away`;
  fs.renameSync(k.kubeletDir, away);
  const d = await box.daemon(['--kubelet-dir', k.kubeletDir, '--interval', '300ms', '--timeout', '1s', '--resync', '1s', '--publish-grace', '0s']);
  const podsDir = path.join(k.kubeletDir, 'pods');
  // kubelet makes its pods directory before any pod runs: its absence is a misconfiguration, not "nothing published".
  // The start and a resync both found no directory.
  await counterAtLeast(d, ...PODS_DIR_ERRORS, 2);
  t.is((await d.get('/healthz')).status, 200);
  const notReady = await d.get('/readyz');
  t.is(notReady.status, 503);
  t.is(await notReady.text(), `the kubelet pods directory ${podsDir} does not exist; kubelet creates it before any pod runs, so --kubelet-dir is likely wrong (k0s: /var/lib/k0s/kubelet, MicroK8s: /var/snap/microk8s/common/var/lib/kubelet)\n`);
  const s0 = (await d.status()) as unknown as { ready: boolean; not_ready?: string };
  t.false(s0.ready);
  t.true(s0.not_ready?.startsWith(`the kubelet pods directory ${podsDir} does not exist`));
  t.is(sampleValue(await d.metrics(), WATCH_ACTIVE), 0);
  const errors = d.logs.filter((l) => l.level === 'error' && typeof l.msg === 'string' && l.msg.startsWith(`the kubelet pods directory ${podsDir} does not exist`));
  t.is(errors.length, 1, 'logged once, as an error');
  t.false(d.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('will retry')), 'a missing directory is not a transient failure');

  fs.renameSync(away, k.kubeletDir);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const v = k.publish(newPodUid(), 'pv-late', { mountFrom: path.join(fuse.mnt, 'pv-late') });
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy', 20_000, 'the path once the directory is there');
  t.is((await d.get('/readyz')).status, 200, 'ready once it is there');
  t.true(d.logs.some((l) => l.msg === 'the kubelet pods directory can be listed again'));
  await counterAtLeast(d, WATCH_ACTIVE, {}, 1);
  // Watched now: a pod added next is found without waiting for the scan.
  const v2 = k.publish(newPodUid(), 'pv-later', { mountFrom: path.join(fuse.mnt, 'pv-later') });
  await d.waitFor((s) => byPath(s, v2.mountPath)?.state === 'healthy', 20_000, 'a second path');
});

mountTest('a kubelet directory removed while running takes its series with it, and is watched again when it comes back', async (t) => {
  const k = box.tree('removed');
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const v = k.publish(newPodUid(), 'pv-a', { mountFrom: path.join(fuse.mnt, 'pv-a') });
  // A long resync: the directory coming back must be noticed by the next one, and pods after that by the watch.
  const d = await box.daemon(['--kubelet-dir', k.kubeletDir, '--interval', '300ms', '--timeout', '1s', '--resync', '2s', '--publish-grace', '0s']);
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy', 20_000, 'healthy');

  const health = poll(async () => sampleValue(await d.metrics(), 'juicefs_volume_path_health', { volume_path: v.mountPath }), 30);
  const errors0 = sampleValue(await d.metrics(), ...PODS_DIR_ERRORS) ?? 0;
  k.removePod(v.podUid);
  fs.rmSync(k.kubeletDir, { recursive: true, force: true });
  await d.waitFor((s) => s.paths.length === 0, 20_000, 'no paths');
  // Two resyncs without the directory.
  await counterAtLeast(d, ...PODS_DIR_ERRORS, errors0 + 2);
  const seen = new Set(await health.stop());
  t.false(seen.has(0), 'the removal never reads as a broken mount');
  t.is((await d.get('/healthz')).status, 200);
  const text = await d.metrics();
  t.false(text.includes(v.mountPath));
  t.is(sampleValue(text, WATCH_ACTIVE), 0);

  fs.mkdirSync(k.podsDir, { recursive: true });
  await counterAtLeast(d, WATCH_ACTIVE, {}, 1);
  const v2 = k.publish(newPodUid(), 'pv-b', { mountFrom: path.join(fuse.mnt, 'pv-b') });
  await d.waitFor((s) => byPath(s, v2.mountPath)?.state === 'healthy', 20_000, 'a new pod after the directory came back');
});

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { byPath, sampleValue, startDaemon, type DaemonProcess } from '../fixtures/daemon.js';
import { mountTest } from '../fixtures/guard.js';
import { createKubeletTree, newPodUid, type KubeletTree } from '../fixtures/kubelet-tree.js';
import { cleanupAll, startFuse } from '../fixtures/mounts.js';

const trees: KubeletTree[] = [];
const daemons: DaemonProcess[] = [];
test.after.always(async () => {
  for (const d of daemons) await d.stop('SIGKILL');
  cleanupAll();
  for (const t of trees) t.remove();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gauge = (text: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)`, 'm').exec(text)?.[1]);

mountTest('a kubelet directory absent at start makes /readyz 503 naming it, logged once as an error; its pods are found once it appears', async (t) => {
  const k = createKubeletTree('late');
  trees.push(k);
  const away = `${k.kubeletDir}.away`;
  fs.renameSync(k.kubeletDir, away);
  const d = await startDaemon(['--kubelet-dir', k.kubeletDir, '--interval', '300ms', '--timeout', '1s', '--resync', '1s', '--publish-grace', '0s']);
  daemons.push(d);
  const podsDir = path.join(k.kubeletDir, 'pods');
  // kubelet makes its pods directory before any pod runs: its absence is a misconfiguration, not "nothing published".
  let text = '';
  const deadline0 = Date.now() + 20_000;
  while (!((sampleValue((text = await d.metrics()), 'juicefs_path_prober_discovery_errors_total', { kind: 'pods_dir' }) ?? 0) >= 2) && Date.now() < deadline0) await sleep(100);
  t.true(sampleValue(text, 'juicefs_path_prober_discovery_errors_total', { kind: 'pods_dir' })! >= 2, 'two resyncs without it');
  t.is((await d.get('/healthz')).status, 200);
  const notReady = await d.get('/readyz');
  t.is(notReady.status, 503);
  t.is(await notReady.text(), `the kubelet pods directory ${podsDir} does not exist; kubelet creates it before any pod runs, so --kubelet-dir is likely wrong (k0s: /var/lib/k0s/kubelet, MicroK8s: /var/snap/microk8s/common/var/lib/kubelet)\n`);
  const s0 = (await d.status()) as unknown as { ready: boolean; not_ready?: string };
  t.false(s0.ready);
  t.true(s0.not_ready?.startsWith(`the kubelet pods directory ${podsDir} does not exist`));
  t.is(gauge(text, 'juicefs_path_prober_watch_active'), 0);
  const errors = d.logs.filter((l) => l.level === 'error' && typeof l.msg === 'string' && l.msg.startsWith(`the kubelet pods directory ${podsDir} does not exist`));
  t.is(errors.length, 1, 'logged once, as an error');
  t.false(d.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('will retry')), 'a missing directory is not a transient failure');

  fs.renameSync(away, k.kubeletDir);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const v = k.publish(newPodUid(), 'pv-late', { mountFrom: path.join(fuse.mnt, 'pv-late') });
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy', 20_000, 'the path once the directory is there');
  t.is((await d.get('/readyz')).status, 200, 'ready once it is there');
  t.true(d.logs.some((l) => l.msg === 'the kubelet pods directory can be listed again'));
  await d.waitFor(() => true, 1);
  const deadline = Date.now() + 20_000;
  while (gauge((text = await d.metrics()), 'juicefs_path_prober_watch_active') !== 1 && Date.now() < deadline) await sleep(200);
  t.is(gauge(text, 'juicefs_path_prober_watch_active'), 1, 'and it is watched');
  // Watched now: a pod added next is found without waiting for the scan.
  const v2 = k.publish(newPodUid(), 'pv-later', { mountFrom: path.join(fuse.mnt, 'pv-later') });
  await d.waitFor((s) => byPath(s, v2.mountPath)?.state === 'healthy', 20_000, 'a second path');
});

mountTest('a kubelet directory removed while running takes its series with it, and is watched again when it comes back', async (t) => {
  const k = createKubeletTree('removed');
  trees.push(k);
  const fuse = await startFuse(path.join(k.root, 'jfs'));
  const v = k.publish(newPodUid(), 'pv-a', { mountFrom: path.join(fuse.mnt, 'pv-a') });
  // A long resync: the directory coming back must be noticed by the next one, and pods after that by the watch.
  const d = await startDaemon(['--kubelet-dir', k.kubeletDir, '--interval', '300ms', '--timeout', '1s', '--resync', '2s', '--publish-grace', '0s']);
  daemons.push(d);
  await d.waitFor((s) => byPath(s, v.mountPath)?.state === 'healthy', 20_000, 'healthy');

  let polling = true;
  const seen = new Set<number | undefined>();
  const poll = (async () => {
    while (polling) {
      seen.add(sampleValue(await d.metrics(), 'juicefs_volume_path_health', { volume_path: v.mountPath }));
      await sleep(30);
    }
  })();
  k.removePod(v.podUid);
  fs.rmSync(k.kubeletDir, { recursive: true, force: true });
  await d.waitFor((s) => s.paths.length === 0, 20_000, 'no paths');
  await sleep(3000); // a resync or two without the directory
  polling = false;
  await poll;
  t.false(seen.has(0), 'the removal never reads as a broken mount');
  t.is((await d.get('/healthz')).status, 200);
  let text = await d.metrics();
  t.false(text.includes(v.mountPath));
  t.is(gauge(text, 'juicefs_path_prober_watch_active'), 0);

  fs.mkdirSync(k.podsDir, { recursive: true });
  const deadline = Date.now() + 20_000;
  while (gauge((text = await d.metrics()), 'juicefs_path_prober_watch_active') !== 1 && Date.now() < deadline) await sleep(200);
  t.is(gauge(text, 'juicefs_path_prober_watch_active'), 1, 'watched again');
  const v2 = k.publish(newPodUid(), 'pv-b', { mountFrom: path.join(fuse.mnt, 'pv-b') });
  await d.waitFor((s) => byPath(s, v2.mountPath)?.state === 'healthy', 20_000, 'a new pod after the directory came back');
});

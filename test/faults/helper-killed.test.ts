import path from 'node:path';
import { byPath } from '../fixtures/daemon.js';
import { mountTest, poll, sampleValue, sandbox } from '../fixtures/harness.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { startFuse } from '../fixtures/mounts.js';

const box = sandbox();

mountTest('a probe helper killed again and again is replaced each time; no healthy path ever reads 0, no broken one 1', async (t) => {
  const tree = box.tree('helper-kill');
  const uid = newPodUid();
  const fuse = await startFuse(path.join(tree.root, 'jfs'));
  const healthy: string[] = [];
  for (let i = 0; i < 10; i++) {
    const v = tree.publish(uid, `pv-ok-${i}`, { mountFrom: path.join(fuse.mnt, `pv-ok-${i}`) });
    healthy.push(v.mountPath);
  }
  const hungFuse = await startFuse(path.join(tree.root, 'jfs-hung'));
  const hung = tree.publish(uid, 'pv-hung', { mountFrom: path.join(hungFuse.mnt, 'pv-hung') });
  await hungFuse.setMode('hung'); // queued in the kernel, not read: SIGKILL can end the helper's call
  const eioFuse = await startFuse(path.join(tree.root, 'jfs-eio'));
  const eio = tree.publish(uid, 'pv-eio', { mountFrom: path.join(eioFuse.mnt, 'pv-eio') });
  await eioFuse.setMode('eio');

  const d = await box.daemon(['--kubelet-dir', tree.kubeletDir, '--interval', '200ms', '--timeout', '500ms', '--resync', '5s', '--publish-grace', '0s']);
  const settled = (s: Awaited<ReturnType<typeof d.status>>) =>
    healthy.every((p) => byPath(s, p)?.state === 'healthy') && byPath(s, hung.mountPath)?.state === 'timeout' && byPath(s, eio.mountPath)?.state === 'io_error';
  await d.waitFor(settled, 20_000, 'settled states');

  const scraping = poll(async () => {
    const text = await d.metrics();
    const wrong: string[] = [];
    for (const p of healthy) if (sampleValue(text, 'juicefs_volume_path_health', { volume_path: p }) !== 1) wrong.push(`${p} not 1`);
    for (const p of [hung.mountPath, eio.mountPath]) if (sampleValue(text, 'juicefs_volume_path_health', { volume_path: p }) !== 0) wrong.push(`${p} not 0`);
    return wrong;
  }, 25);

  const KILLS = 5;
  for (let i = 0; i < KILLS; i++) {
    const before = (await d.status()).probe.helpers.pids;
    t.true(before.length >= 1, 'a helper is running');
    for (const pid of before) process.kill(pid, 'SIGKILL');
    await d.waitFor((s) => s.probe.helpers.pids.length >= 1 && s.probe.helpers.pids.every((p) => !before.includes(p)), 20_000, `a new helper after kill ${i + 1}`);
    // The replacement probes again: every path gets a fresh verdict before the next kill.
    const t0 = Date.now();
    await d.waitFor((s) => healthy.every((p) => Date.parse(byPath(s, p)!.last_probe!) > t0), 20_000, 'fresh probes');
  }
  await d.waitFor(settled, 20_000, 'settled states after the kills');
  const results = await scraping.stop();
  const scrapes = results.length;
  const wrong = results.flat();
  t.log(`${scrapes} scrapes while the helper was killed ${KILLS} times`);
  t.true(scrapes > 10);
  t.deepEqual(wrong.slice(0, 5), [], 'no false 0 and no false 1');
  const text = await d.metrics();
  t.true(sampleValue(text, 'juicefs_path_prober_helper_unexpected_exits_total')! >= KILLS);
  // A helper killed with a thread blocked on the hung mount stays a zombie and never exits: it is told by its silence.
  const replaced = d.logs.filter((l) => l.msg === 'probe helper exited unexpectedly' || l.msg === 'probe helper stopped answering; replacing it');
  t.is(replaced.length, KILLS, 'each helper lost is logged once');
  t.true(replaced.some((l) => l.msg === 'probe helper stopped answering; replacing it'), 'the zombie case was met');

  // And shutdown does not wait for the call still stuck on the hung mount.
  const stopped = await d.stop('SIGTERM');
  t.is(stopped.code, 0);
  t.true(stopped.ms < 2000, `exit took ${stopped.ms} ms`);
});

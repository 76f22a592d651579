import fs from 'node:fs';
import path from 'node:path';
import { byPath } from '../fixtures/daemon.js';
import { counterAtLeast, mountTest, poll, sampleValue, sandbox } from '../fixtures/harness.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { startFuse } from '../fixtures/mounts.js';

const box = sandbox();

mountTest('a mount table that turns unreadable or garbage mid-run keeps the last states, is counted and logged once, and is used again when it recovers', async (t) => {
  const tree = box.tree('mi-flap');
  const uid = newPodUid();
  const okFuse = await startFuse(path.join(tree.root, 'jfs-ok'));
  const ok = tree.publish(uid, 'pv-ok', { mountFrom: path.join(okFuse.mnt, 'pv-ok') });
  const badFuse = await startFuse(path.join(tree.root, 'jfs-bad'));
  const bad = tree.publish(uid, 'pv-bad', { mountFrom: path.join(badFuse.mnt, 'pv-bad') });
  await badFuse.setMode('eio');
  const link = path.join(tree.root, 'mountinfo');
  fs.symlinkSync('/proc/self/mountinfo', link);
  const d = await box.daemon(['--kubelet-dir', tree.kubeletDir, '--mountinfo', link, '--interval', '200ms', '--timeout', '1s', '--publish-grace', '0s']);
  await d.waitFor((s) => byPath(s, ok.mountPath)?.state === 'healthy' && byPath(s, bad.mountPath)?.state === 'io_error', 20_000, 'states');

  const garbage = path.join(tree.root, 'garbage');
  fs.writeFileSync(garbage, 'not a mount table\n'.repeat(100) + '1 2 3\n');
  const replace = (target: string) => {
    fs.rmSync(link);
    fs.symlinkSync(target, link);
  };
  const values = () => d.metrics().then((text) => [ok.mountPath, bad.mountPath].map((p) => sampleValue(text, 'juicefs_volume_path_health', { volume_path: p })));
  const errors = async () => sampleValue(await d.metrics(), 'juicefs_path_prober_discovery_errors_total', { kind: 'mountinfo' }) ?? 0;

  for (const target of ['/nonexistent/mountinfo', garbage, tree.root /* a directory */]) {
    const e0 = await errors();
    replace(target);
    // Scrapes while five cycles in a row cannot use the table (each one counted).
    const scrapes = poll(values, 50);
    await counterAtLeast(d, 'juicefs_path_prober_discovery_errors_total', { kind: 'mountinfo' }, e0 + 5);
    const seen = await scrapes.stop();
    t.true(seen.length > 0);
    t.deepEqual(seen.filter((v) => v[0] !== 1 || v[1] !== 0), [], `last states kept while the table is ${target}`);
    replace('/proc/self/mountinfo');
    // Recovered: a change is seen again.
    await badFuse.setMode('healthy');
    await d.waitFor((s) => byPath(s, bad.mountPath)?.state === 'healthy', 20_000, 'recovered');
    await badFuse.setMode('eio');
    await d.waitFor((s) => byPath(s, bad.mountPath)?.state === 'io_error', 20_000, 'recovered');
  }
  const logged = d.logs.filter((l) => l.msg === 'cannot read the mount table; keeping the last states until it can be read');
  t.is(logged.length, 3, 'one line per outage');
  t.is((await d.get('/healthz')).status, 200);
});

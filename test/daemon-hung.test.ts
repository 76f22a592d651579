import fs from 'node:fs';
import path from 'node:path';
import { byPath } from './fixtures/daemon.js';
import { afterCycles, mountTest, sampleValue, sandbox } from './fixtures/harness.js';
import { newPodUid } from './fixtures/kubelet-tree.js';
import { bindMount, startFuse, type FuseHandle } from './fixtures/mounts.js';

const box = sandbox();

/** Helper threads blocked waiting on a FUSE answer, from /proc. */
function blockedThreads(pids: number[]): number {
  let n = 0;
  for (const pid of pids) {
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        if (fs.readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8').includes('request_wait_answer')) n++;
      } catch {
        // thread ended
      }
    }
  }
  return n;
}

mountTest('with many hung mounts the daemon serves promptly, holds one call per hung source, and exits on SIGTERM', async (t) => {
  const tree = box.tree('hung');
  const HUNG = 8;
  const HUNGREAD = 8;
  const HEALTHY = 8;
  const uid = newPodUid();
  const publish = async (name: string, mode: 'hung' | 'hungread' | 'healthy') => {
    const fuse = await startFuse(path.join(tree.root, 'jfs', name));
    const v = tree.publish(uid, name);
    bindMount(path.join(fuse.mnt, name), v.mountPath);
    if (mode !== 'healthy') await fuse.setMode(mode);
    return { fuse, path: v.mountPath };
  };
  const hung: { fuse: FuseHandle; path: string }[] = [];
  for (let i = 0; i < HUNG; i++) hung.push(await publish(`hung-${i}`, 'hung'));
  for (let i = 0; i < HUNGREAD; i++) hung.push(await publish(`hungread-${i}`, 'hungread'));
  const healthy: string[] = [];
  for (let i = 0; i < HEALTHY; i++) healthy.push((await publish(`ok-${i}`, 'healthy')).path);

  const d = await box.daemon(['--kubelet-dir', tree.kubeletDir, '--interval', '200ms', '--timeout', '300ms', '--resync', '1s']);
  await d.waitFor(
    (s) => hung.every((h) => byPath(s, h.path)?.state === 'timeout') && healthy.every((p) => byPath(s, p)?.state === 'healthy'),
    10_000,
    'hung and healthy states',
  );

  // Many cycles later: still one blocked call per hung source, and healthy paths keep being probed.
  const before = await d.status();
  await afterCycles(d, 8);
  const s = await d.status();
  t.is(s.probe.stuck.length, HUNG + HUNGREAD);
  // A healthy probe waits on its (answering) FUSE server for a moment too, so one sample can count
  // those; the fewest blocked over a few samples is what the hung mounts hold.
  const held: number[] = [];
  for (let i = 0; i < 10; i++) {
    held.push(blockedThreads(s.probe.helpers.pids));
    await new Promise((r) => setTimeout(r, 25));
  }
  t.is(Math.min(...held), HUNG + HUNGREAD, 'one blocked helper thread per hung source');
  for (const h of hung.filter((h) => h.path.includes('hungread'))) t.is((await h.fuse.stats()).held, 1, 'one request held by each hungread client');
  for (const p of healthy) {
    t.true(Date.parse(byPath(s, p)!.last_probe!) > Date.parse(byPath(before, p)!.last_probe!), 'healthy paths are still probed');
  }

  // Scrapes, health and status answer while the calls stay blocked.
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const text = await d.metrics();
    t.true(performance.now() - t0 < 2000);
    t.is(sampleValue(text, 'juicefs_volume_path_health', { volume_path: healthy[0]! }), 1);
  }
  t.is((await d.get('/healthz')).status, 200);
  t.is((await d.get('/readyz')).status, 200);

  const stopped = await d.stop('SIGTERM');
  t.log(`exited in ${stopped.ms} ms with ${HUNG + HUNGREAD} stuck probes`);
  t.is(stopped.code, 0);
  t.true(stopped.ms < 2000, `exit took ${stopped.ms} ms`);
});

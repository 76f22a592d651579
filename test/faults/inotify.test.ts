import fs from 'node:fs';
import path from 'node:path';
import { byPath } from '../fixtures/daemon.js';
import { counterAtLeast, eventually, logLine, mountTest, sampleValue, sandbox } from '../fixtures/harness.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { startFuse } from '../fixtures/mounts.js';

const box = sandbox();

// The daemon runs in its own user namespace with a tiny inotify watch limit:
// the limit is per user namespace (checked up the chain), so lowering it there
// leaves the machine's fs.inotify.max_user_watches, shared by everyone, alone.
const LIMIT = 12;
const WRAP = ['unshare', '--user', '--map-root-user', '--', 'sh', '-c', `echo ${LIMIT} > /proc/sys/user/max_inotify_watches && exec "$@"`, 'sh'];
const POLLED = 'juicefs_path_prober_watch_polled_directories';
const USED_UP = 'inotify watches used up; the directories refused a watch are polled instead';

mountTest('when inotify watches run out the directories refused one are polled, said once in a log line and a metric, and new volumes are found without the periodic scan', async (t) => {
  const globalBefore = fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8');
  const tree = box.tree('inotify');
  const fuse = await startFuse(path.join(tree.root, 'jfs'));
  // pods/ + three directories per pod: more than LIMIT watches.
  const first: string[] = [];
  for (let i = 0; i < 2 * LIMIT; i++) {
    const v = tree.publish(newPodUid(), `pv-${i}`, { mountFrom: path.join(fuse.mnt, `pv-${i}`) });
    first.push(v.mountPath);
  }
  // A resync far beyond the test: whatever is found here, the watch found.
  const d = await box.daemon(['--kubelet-dir', tree.kubeletDir, '--interval', '300ms', '--timeout', '1s', '--resync', '1h', '--publish-grace', '0s'], {}, { wrap: WRAP });
  await d.waitFor((s) => first.every((p) => byPath(s, p)?.state === 'healthy'), 20_000, 'the first pods');
  const line = await logLine(d, (l) => l.msg === USED_UP, 'inotify watches used up');
  t.like(line, { level: 'warn', every: '1000ms' });
  let text = await d.metrics();
  t.is(sampleValue(text, 'juicefs_path_prober_watch_active'), 1, 'the watch stays on');
  const polled = sampleValue(text, POLLED)!;
  t.true(polled >= 1, `${polled} directories polled`);
  t.true(sampleValue(text, 'juicefs_path_prober_discovery_errors_total', { kind: 'watch' })! >= 1);

  // A pod directory made empty first, as kubelet does: inotify refuses it a
  // watch, so its volume, published next, is seen only by polling it.
  const uid = newPodUid();
  fs.mkdirSync(path.join(tree.podsDir, uid));
  await counterAtLeast(d, POLLED, {}, polled + 1);
  const t0 = performance.now();
  const late = tree.publish(uid, 'pv-late', { mountFrom: path.join(fuse.mnt, 'pv-late') });
  await d.waitFor((s) => byPath(s, late.mountPath)?.state === 'healthy', 20_000, 'a volume published in a polled pod directory');
  t.log(`found ${Math.round(performance.now() - t0)} ms after it was published (a poll every second, a probe cycle every 300 ms)`);

  // Its removal is seen, and the directory is no longer polled.
  tree.removePod(uid);
  await d.waitFor((s) => byPath(s, late.mountPath) === undefined, 20_000, 'its removal');
  await eventually('the removed pod no longer polled', async () => sampleValue(await d.metrics(), POLLED) === polled);

  t.is(d.logs.filter((l) => l.msg === USED_UP).length, 1, 'one log line');
  t.is(d.logs.filter((l) => l.msg === 'pods directory watch error; periodic resync continues').length, 0, 'no line per directory');
  t.is(fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8'), globalBefore, 'the machine-wide limit is untouched');
});

import fs from 'node:fs';
import path from 'node:path';
import { byPath } from '../fixtures/daemon.js';
import { logLine, mountTest, sampleValue, sandbox } from '../fixtures/harness.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { startFuse } from '../fixtures/mounts.js';

const box = sandbox();

// The daemon runs in its own user namespace with a tiny inotify watch limit:
// the limit is per user namespace (checked up the chain), so lowering it there
// leaves the machine's fs.inotify.max_user_watches, shared by everyone, alone.
const LIMIT = 12;
const WRAP = ['unshare', '--user', '--map-root-user', '--', 'sh', '-c', `echo ${LIMIT} > /proc/sys/user/max_inotify_watches && exec "$@"`, 'sh'];

mountTest('when inotify watches run out the daemon says so once, in a metric and a log line, and finds pods by the periodic scan', async (t) => {
  const globalBefore = fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8');
  const tree = box.tree('inotify');
  const fuse = await startFuse(path.join(tree.root, 'jfs'));
  // pods/ + one directory per pod: more than LIMIT watches.
  const first: string[] = [];
  for (let i = 0; i < 2 * LIMIT; i++) {
    const v = tree.publish(newPodUid(), `pv-${i}`, { mountFrom: path.join(fuse.mnt, `pv-${i}`) });
    first.push(v.mountPath);
  }
  const d = await box.daemon(['--kubelet-dir', tree.kubeletDir, '--interval', '300ms', '--timeout', '1s', '--resync', '2s', '--publish-grace', '0s'], {}, { wrap: WRAP });
  await d.waitFor((s) => first.every((p) => byPath(s, p)?.state === 'healthy'), 20_000, 'the first pods');
  await logLine(d, (l) => String(l.msg).startsWith('inotify watches used up'), 'inotify watches used up');
  const text = await d.metrics();
  t.regex(text, /^juicefs_path_prober_watch_active\{[^}]*\} 0$/m, 'the metric says the watch is off');
  t.true(sampleValue(text, 'juicefs_path_prober_discovery_errors_total', { kind: 'watch' })! >= 1);

  // Pods keep being found, by the periodic scan.
  const late = tree.publish(newPodUid(), 'pv-late', { mountFrom: path.join(fuse.mnt, 'pv-late') });
  await d.waitFor((s) => byPath(s, late.mountPath)?.state === 'healthy', 20_000, 'a pod added after the watch stopped');
  tree.removePod(late.podUid);
  await d.waitFor((s) => byPath(s, late.mountPath) === undefined, 20_000, 'and its removal');

  const lines = d.logs.filter((l) => String(l.msg).startsWith('inotify watches used up'));
  t.is(lines.length, 1, 'one log line');
  t.like(lines[0], { level: 'warn', resync: '2000ms' });
  t.is(d.logs.filter((l) => l.msg === 'pods directory watch error; periodic resync continues').length, 0, 'no line per directory');
  t.is(fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8'), globalBefore, 'the machine-wide limit is untouched');
});

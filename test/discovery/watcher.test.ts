import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createKubeletLayout } from '../../src/discovery/kubelet-layout.js';
import { isWatchable } from '../../src/discovery/watcher.js';
import { eventually, mountTest, sandbox } from '../fixtures/harness.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { bindMount, startFuse } from '../fixtures/mounts.js';

const CHILD = fileURLToPath(new URL('../fixtures/watch-child.js', import.meta.url));
const box = sandbox();

test('only the pod → volumes → kubernetes.io~csi → <pv> chain is watchable', (t) => {
  const l = createKubeletLayout('/k');
  for (const ok of ['/k/pods', '/k/pods/u', '/k/pods/u/volumes', '/k/pods/u/volumes/kubernetes.io~csi', '/k/pods/u/volumes/kubernetes.io~csi/pv']) {
    t.true(isWatchable(l, ok), ok);
  }
  for (const no of [
    '/k/pods/u/volumes/kubernetes.io~csi/pv/mount',
    '/k/pods/u/volumes/kubernetes.io~csi/pv/vol_data.json',
    '/k/pods/u/volumes/kubernetes.io~nfs',
    '/k/pods/u/volumes/kubernetes.io~nfs/share',
    '/k/pods/u/volume-subpaths',
    '/k/pods/u/containers',
    '/k/plugins',
  ]) {
    t.false(isWatchable(l, no), no);
  }
});

mountTest('the watcher gets ready and sees pods come and go with hung mounts everywhere in the tree', async (t) => {
  const tree = box.tree('watch');
  const uid = newPodUid();
  // Hung clients that never read a request: anything that stats these blocks.
  const hungCsi = await startFuse(path.join(tree.root, 'jfs-a'), { mode: 'hung' });
  const v = tree.publish(uid, 'pv-hung', { mountFrom: hungCsi.mnt });
  const hungNfs = path.join(tree.podsDir, uid, 'volumes', 'kubernetes.io~nfs', 'share');
  await startFuse(hungNfs, { mode: 'hung', fsType: 'fuse.other' });
  const hungSub = tree.subpathDir(uid, 'data', 'app', 0);
  bindMount(hungCsi.mnt, hungSub);

  const child = spawn(process.execPath, [CHILD, tree.kubeletDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  const lines: string[] = [];
  const waiters: [RegExp, () => void][] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    for (const [re, done] of waiters.splice(0)) if (re.test(l)) done();
      else waiters.push([re, done]);
  });
  const waitLine = (re: RegExp, ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (lines.some((l) => re.test(l))) return resolve();
      const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; got ${JSON.stringify(lines)}`)), ms);
      waiters.push([re, () => (clearTimeout(timer), resolve())]);
    });

  await waitLine(/^ready$/, 3000);
  const uid2 = newPodUid();
  tree.publish(uid2, 'pv-new');
  await waitLine(new RegExp(`^change ${uid2}$`), 3000);
  fs.rmSync(path.join(tree.podsDir, uid2), { recursive: true });
  const before = lines.filter((l) => l === `change ${uid2}`).length;
  await eventually('the removal seen too', () => lines.filter((l) => l === `change ${uid2}`).length > before, { timeoutMs: 3000 });
  t.pass('the removal is seen too');
  child.stdin.end();
});

import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createKubeletLayout } from '../../src/discovery/kubelet-layout.js';
import { watchPods } from '../../src/discovery/watcher.js';
import { createLogger } from '../../src/log/logger.js';
import { eventually, mountTest, sandbox } from '../fixtures/harness.js';
import { newPodUid, type KubeletTree } from '../fixtures/kubelet-tree.js';
import { bindMount, startFuse } from '../fixtures/mounts.js';

const CHILD = fileURLToPath(new URL('../fixtures/watch-child.js', import.meta.url));
const box = sandbox();

/** The watcher in this process, on a tree without mounts: each change it reports, in order. */
async function watchTree(t: ExecutionContext, tree: KubeletTree) {
  const changes: string[] = [];
  const w = watchPods({ layout: createKubeletLayout(tree.kubeletDir), logger: createLogger({ write: () => {} }), onPodChange: (uid) => void changes.push(uid) });
  t.teardown(() => w.close());
  await w.ready;
  /** Waits for a change of uid after the ones seen so far. */
  const changed = (uid: string) => {
    const seen = changes.filter((c) => c === uid).length;
    return eventually(`a change of ${uid}`, () => changes.filter((c) => c === uid).length > seen, { timeoutMs: 3000 });
  };
  return { w, changes, changed };
}

test('a pod whose CSI directory appears step by step is seen when its volume is published', async (t) => {
  const tree = box.tree('watch-steps');
  const { changed } = await watchTree(t, tree);
  const uid = newPodUid();
  const pod = path.join(tree.podsDir, uid);
  let seen = changed(uid);
  fs.mkdirSync(pod);
  await seen;
  for (const dir of ['volumes', 'volumes/kubernetes.io~csi']) {
    seen = changed(uid);
    fs.mkdirSync(path.join(pod, dir));
    await seen;
  }
  seen = changed(uid);
  tree.publish(uid, 'pv-late');
  await seen;
  t.pass();
});

test('a CSI directory removed and made again is watched again', async (t) => {
  const tree = box.tree('watch-again');
  const uid = newPodUid();
  tree.publish(uid, 'pv-a');
  const { changed } = await watchTree(t, tree);
  const csi = path.join(tree.podsDir, uid, 'volumes', 'kubernetes.io~csi');
  let seen = changed(uid);
  fs.rmSync(csi, { recursive: true });
  await seen;
  seen = changed(uid);
  fs.mkdirSync(csi);
  await seen;
  // The new directory's own watch, not the pod directory's, sees a volume in it.
  seen = changed(uid);
  fs.mkdirSync(path.join(csi, 'pv-b'));
  await seen;
  t.pass();
});

test('a removed pod gives its watch back, and close gives back all', async (t) => {
  const tree = box.tree('watch-release');
  const uids = [newPodUid(), newPodUid(), newPodUid()];
  for (const uid of uids) tree.publish(uid, 'pv');
  const { w, changed } = await watchTree(t, tree);
  t.is(w.watches(), 1 + uids.length, 'pods/ and one per pod');
  const seen = changed(uids[0]!);
  tree.removePod(uids[0]!);
  await seen;
  await eventually('the watch released', () => w.watches() === uids.length, { timeoutMs: 3000 });
  await w.close();
  t.is(w.watches(), 0);
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

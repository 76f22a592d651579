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

/** The watcher in a child process (test/fixtures/watch-child.ts), its lines as they come. */
function watchChild(t: ExecutionContext, kubeletDir: string, scope = 'default', env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CHILD, kubeletDir, scope], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  t.teardown(() => void child.kill('SIGKILL'));
  const lines: string[] = [];
  let arrived = () => {};
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    arrived();
  });
  return {
    lines,
    send: (cmd: string) => void child.stdin.write(`${cmd}\n`),
    /** The first line from index `from` on that matches, or undefined if none came within `ms`. */
    async line(re: RegExp, ms: number, from = 0): Promise<string | undefined> {
      const deadline = performance.now() + ms;
      for (;;) {
        const hit = lines.slice(from).find((l) => re.test(l));
        if (hit !== undefined) return hit;
        const left = deadline - performance.now();
        if (left <= 0) return undefined;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          arrived = () => (clearTimeout(timer), resolve());
        });
      }
    },
  };
}

/** Inode numbers as /proc/<pid>/fdinfo prints an inotify watch's. */
const inodeOf = (p: string) => fs.lstatSync(p).ino.toString(16);

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

test('the kernel holds watches on pods/ and each pod\'s own, volumes/ and CSI directories, and no other', async (t) => {
  const tree = box.tree('watch-scope');
  const full = newPodUid();
  const bare = newPodUid();
  tree.publish(full, 'pv-a');
  tree.publish(full, 'pv-b');
  tree.subpathDir(full, 'data', 'app', 0);
  for (const dir of ['containers/app', 'plugins/kubernetes.io~csi', 'volumes/kubernetes.io~secret/token', 'volumes/kubernetes.io~empty-dir/cache']) {
    fs.mkdirSync(path.join(tree.podsDir, full, dir), { recursive: true });
  }
  fs.writeFileSync(path.join(tree.podsDir, full, 'etc-hosts'), '127.0.0.1 localhost\n');
  fs.mkdirSync(path.join(tree.podsDir, bare));
  const c = watchChild(t, tree.kubeletDir);
  t.truthy(await c.line(/^ready$/, 5000), 'ready');
  c.send('watches');
  const watched = (await c.line(/^watches/, 5000))!.split(' ').slice(1).sort();
  const pod = (uid: string, ...rest: string[]) => path.join(tree.podsDir, uid, ...rest);
  const expected = [tree.podsDir, pod(full), pod(full, 'volumes'), pod(full, 'volumes', 'kubernetes.io~csi'), pod(bare)].map(inodeOf).sort();
  t.deepEqual(watched, expected);
});

mountTest('with hung mounts at a volume, a subPath and another plugin\'s volume, the watcher sees a new pod within 1 s and holds no libuv thread', async (t) => {
  t.deepEqual(await hangCheck(t, await hungTree(), 'default'), []);
});

// The same check, on a watcher pointed at the mounts: it must see the fault.
for (const [scope, what] of [
  ['deeper', 'listing one level deeper (the <pv>/ directories)'],
  ['unfiltered', 'without its scope (every directory of a pod)'],
] as const) {
  mountTest(`the hung-mount check fails for a watcher ${what}`, async (t) => {
    const problems = await hangCheck(t, await hungTree(), scope);
    t.true(problems.some((p) => p.startsWith('threads blocked on FUSE')), problems.join('; '));
  });
}

/**
 * A pod with FUSE clients that never read a request at its CSI volume's mount
 * point, at a subPath bind of it, and at another plugin's volume: anything that
 * stats one of them blocks for good.
 */
async function hungTree(): Promise<KubeletTree> {
  const tree = box.tree('watch-hung');
  const uid = newPodUid();
  const csi = await startFuse(path.join(tree.root, 'jfs-a'));
  tree.publish(uid, 'pv-hung', { mountFrom: csi.mnt });
  bindMount(csi.mnt, tree.subpathDir(uid, 'data', 'app', 0));
  const other = await startFuse(path.join(tree.podsDir, uid, 'volumes', 'kubernetes.io~nfs', 'share'), { fsType: 'fuse.other' });
  await csi.setMode('hung');
  await other.setMode('hung');
  return tree;
}

/**
 * What goes wrong for a watcher on `tree` in a child process with a single
 * libuv pool thread, so one blocked stat would stall every file system call.
 * Empty when it is hang-safe: ready, a pod made afterwards reported within
 * 1 s, no thread waiting on FUSE, and a stat through the pool answered.
 */
async function hangCheck(t: ExecutionContext, tree: KubeletTree, scope: string): Promise<string[]> {
  const c = watchChild(t, tree.kubeletDir, scope, { UV_THREADPOOL_SIZE: '1' });
  const problems: string[] = [];
  if (!(await c.line(/^ready$/, 3000))) problems.push('not ready within 3 s');
  const uid = newPodUid();
  tree.publish(uid, 'pv-new');
  if (!(await c.line(new RegExp(`^change ${uid}$`), 1000))) problems.push('a pod made after the start not seen within 1 s');
  const mark = c.lines.length;
  c.send('fs');
  const threads = await c.line(/^threads \d+$/, 1000, mark);
  if (threads !== 'threads 0') problems.push(`threads blocked on FUSE: ${threads ?? 'no answer'}`);
  if (!(await c.line(/^fs \d+$/, 1000, mark))) problems.push('a stat through the libuv pool did not come back within 1 s');
  if (problems.length > 0) return problems;
  const seen = c.lines.length;
  fs.rmSync(path.join(tree.podsDir, uid), { recursive: true });
  if (!(await c.line(new RegExp(`^change ${uid}$`), 1000, seen))) problems.push('the pod\'s removal not seen within 1 s');
  return problems;
}

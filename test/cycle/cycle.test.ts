// One probe cycle's decisions, on fakes of everything it reads: the mount
// table, the inventory, the inspector and the probe runner. Discovery, the
// lifecycle and the tracker are the real ones, on a hand-moved clock. No
// mounts, no root.

import test from 'ava';
import { createCycle } from '../../src/cycle/cycle.js';
import { createMountPodFold } from '../../src/classify/mount-pod.js';
import { createKubeletLayout } from '../../src/discovery/kubelet-layout.js';
import type { Inspection, PathInspector } from '../../src/discovery/path-inspector.js';
import { pathFinder } from '../../src/discovery/path-set.js';
import { createPathLifecycle } from '../../src/lifecycle/path-lifecycle.js';
import { createLogger } from '../../src/log/logger.js';
import { buildMountTable } from '../../src/mounts/mount-table.js';
import type { MountEntry } from '../../src/mounts/mountinfo.js';
import type { ProbeOutcome, ProbeRunner } from '../../src/probe/probe-runner.js';
import { createPathTracker } from '../../src/track/tracker.js';
import type { MountPodState, VolumePath } from '../../src/types.js';
import { manualTime } from '../fixtures/manual-time.js';

const layout = createKubeletLayout('/k');
const FUSE = new Set(['fuse.juicefs']);

function volume(uid: string, pv: string, volumeId = pv): VolumePath {
  return { path: `/k/pods/${uid}/volumes/kubernetes.io~csi/${pv}/mount`, kind: 'volume', podUid: uid, pv, volumeId, driver: 'csi.juicefs.com' };
}

let nextId = 100;
/** A mount at `v`'s path: a bind of `root` in the file system `dev`. */
function mountOf(v: VolumePath, o: { dev?: string; root?: string; fsType?: string } = {}): MountEntry {
  return { id: nextId++, parentId: 1, dev: o.dev ?? '0:50', root: o.root ?? `/${v.pv}`, mountPoint: v.path, fsType: o.fsType ?? 'fuse.juicefs', source: 'JuiceFS:vol' };
}

const ok = (dev = '0:50'): ProbeOutcome => ({ kind: 'ok', dev, ino: '7', ms: 1 });
const errno = (code: string): ProbeOutcome => ({ kind: 'error', code, message: `${code}: something, lstat '/x'`, ms: 1 });

function world(o: { publishGraceMs?: number; unmountConfirmMs?: number; mountPod?: (v: VolumePath) => MountPodState | undefined } = {}) {
  const volumes: VolumePath[] = [];
  let entries: MountEntry[] = [];
  let tableError: Error | undefined;
  const outcomes = new Map<string, ProbeOutcome>();
  const inspections = new Map<string, Inspection>();
  const probes: string[] = [];
  const inspected: string[] = [];
  const inconclusive: string[] = [];
  const tableErrors: unknown[] = [];
  const logs: Record<string, unknown>[] = [];
  let wall = 1_000_000;
  let mono = 5_000;
  const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
  const clock = { ...manualTime().clock, now: () => wall, monotonic: () => mono };
  const lifecycle = createPathLifecycle({ clock, publishGraceMs: o.publishGraceMs ?? 0, unmountConfirmMs: o.unmountConfirmMs ?? 2000 });
  const tracker = createPathTracker({ logger, clock, removals: lifecycle });
  const inventory = { list: () => [...volumes], ofPod: (uid: string) => volumes.filter((v) => v.podUid === uid) };
  const inspector: PathInspector = {
    async inspect(v) {
      inspected.push(v.path);
      return inspections.get(v.path) ?? { kind: 'unmounted', publishedAt: wall };
    },
  };
  const runner = {
    async probe(_key: string, path: string) {
      probes.push(path);
      return outcomes.get(path) ?? ok();
    },
  } as unknown as ProbeRunner;
  const runCycle = createCycle({
    fsTypes: FUSE,
    readMountTable: async () => {
      if (tableError) throw tableError;
      return buildMountTable(entries);
    },
    findPaths: pathFinder({ layout, inventory, fsTypes: FUSE }),
    inspector,
    runner,
    lifecycle,
    tracker,
    logger,
    clock,
    onMountTableError: (e) => tableErrors.push(e),
    onInconclusive: (r) => inconclusive.push(r),
    ...(o.mountPod ? { fold: createMountPodFold(o.mountPod) } : {}),
  });
  return {
    volumes,
    outcomes,
    inspections,
    probes,
    inspected,
    inconclusive,
    tableErrors,
    logs,
    tracker,
    runCycle,
    state: (v: VolumePath) => tracker.get(v.path)?.state,
    detail: (v: VolumePath) => tracker.get(v.path)?.detail,
    setMounts: (...e: MountEntry[]) => void (entries = e),
    /** Published and mounted, each its own source. */
    mounted: (...vs: VolumePath[]) => {
      volumes.push(...vs);
      entries = vs.map((v) => mountOf(v));
    },
    /** Published, nothing mounted. */
    published: (...vs: VolumePath[]) => {
      volumes.push(...vs);
      entries = [];
    },
    failTable: (e: Error | undefined) => void (tableError = e),
    /** Both clocks move on. */
    pass: (ms: number) => {
      wall += ms;
      mono += ms;
    },
  };
}

test('bind mounts of one source are probed once, and every path gets that verdict', async (t) => {
  const w = world();
  const a = volume('u1', 'pv-a');
  const b = volume('u2', 'pv-a');
  w.volumes.push(a, b);
  w.setMounts(mountOf(a, { root: '/pv-a' }), mountOf(b, { root: '/pv-a' }));
  const r = await w.runCycle();
  t.like(r, { ok: true, paths: 2, sources: 1 });
  t.is(w.probes.length, 1);
  t.is(w.state(a), 'healthy');
  t.is(w.state(b), 'healthy');
});

test('a mount of another type is wrong_fstype, decided from the table without a probe', async (t) => {
  const w = world();
  const v = volume('u1', 'pv-a');
  w.volumes.push(v);
  w.setMounts({ ...mountOf(v, { fsType: 'tmpfs' }), source: 'tmpfs' });
  await w.runCycle();
  t.is(w.state(v), 'wrong_fstype');
  t.is(w.detail(v), 'mounted as tmpfs from tmpfs, expected fuse.juicefs');
  t.deepEqual(w.probes, []);
});

test('a probe error becomes its errno’s state; a timeout and a stuck call are timeouts', async (t) => {
  const w = world();
  const vs = ['pv-dead', 'pv-eio', 'pv-slow', 'pv-stuck', 'pv-odd'].map((pv) => volume('u1', pv));
  const [dead, eio, slow, stuck, odd] = vs as [VolumePath, VolumePath, VolumePath, VolumePath, VolumePath];
  w.mounted(...vs);
  w.outcomes.set(dead.path, errno('ENOTCONN'));
  w.outcomes.set(eio.path, errno('EIO'));
  w.outcomes.set(slow.path, { kind: 'timeout', ms: 403, timeoutMs: 400 });
  w.outcomes.set(stuck.path, { kind: 'stuck', since: 1_000_000 - 90_000 });
  w.outcomes.set(odd.path, errno('EXDEV'));
  await w.runCycle();
  t.is(w.state(dead), 'disconnected');
  t.is(w.detail(dead), 'ENOTCONN: Transport endpoint is not connected');
  t.is(w.state(eio), 'io_error');
  t.is(w.state(slow), 'timeout');
  t.is(w.detail(slow), 'no answer to stat within 400ms');
  t.is(w.state(stuck), 'timeout');
  t.regex(w.detail(stuck)!, /^stat blocked for 90s \(since 1970-01-01T00:15:10\.000Z\); not probed again until it returns$/);
  t.is(w.state(odd), 'error');
  t.is(w.detail(odd), 'EXDEV: something');
});

// The kernel ends a request the FUSE client held when it died with ECONNABORTED; every later
// one gets ENOTCONN. Both mean the client is gone, so both should read as `disconnected`; today
// the first probe after a death reads `error` (a transition and a Warning of its own).
test('a probe aborted by the client’s death (ECONNABORTED) reads as disconnected, like ENOTCONN', async (t) => {
  const w = world();
  const v = volume('u1', 'pv-a');
  w.mounted(v);
  w.outcomes.set(v.path, errno('ECONNABORTED'));
  await w.runCycle();
  t.is(w.state(v), 'disconnected');
});

test('a JuiceFS client mounted straight at the path must answer with root inode 1', async (t) => {
  const w = world();
  const v = volume('u1', 'pv-a');
  w.volumes.push(v);
  w.setMounts(mountOf(v, { root: '/' }));
  await w.runCycle();
  t.is(w.state(v), 'error');
  t.is(w.detail(v), 'mount root has inode 7, a JuiceFS root has inode 1');
  w.outcomes.set(v.path, { kind: 'ok', dev: '0:50', ino: '1', ms: 1 });
  w.pass(10);
  await w.runCycle();
  t.is(w.state(v), 'healthy');
});

test('a probe with no verdict (helper lost, device changed under it) keeps the last state and asks for a look soon', async (t) => {
  const w = world();
  const v = volume('u1', 'pv-a');
  w.mounted(v);
  await w.runCycle();
  t.is(w.state(v), 'healthy');
  w.outcomes.set(v.path, { kind: 'lost', reason: 'the probe helper stopped answering' });
  w.pass(10);
  const r1 = await w.runCycle();
  t.is(w.state(v), 'healthy');
  t.is(r1.recheckInMs, 500);
  w.outcomes.set(v.path, ok('0:99'));
  w.pass(10);
  await w.runCycle();
  t.is(w.state(v), 'healthy');
  t.deepEqual(w.inconclusive, ['helper_lost', 'device_mismatch']);
});

test('an unreadable mount table keeps every state, reports the cycle not ok, and is logged once per outage', async (t) => {
  const w = world();
  const v = volume('u1', 'pv-a');
  w.mounted(v);
  w.outcomes.set(v.path, errno('EIO'));
  await w.runCycle();
  w.failTable(new Error('EACCES'));
  for (let i = 0; i < 3; i++) {
    w.pass(10);
    t.like(await w.runCycle(), { ok: false, paths: 0 });
  }
  t.is(w.state(v), 'io_error');
  t.is(w.tableErrors.length, 3);
  const outageLines = () => w.logs.filter((l) => String(l.msg).startsWith('cannot read the mount table')).length;
  t.is(outageLines(), 1);
  w.failTable(undefined);
  await w.runCycle();
  w.failTable(new Error('EACCES'));
  await w.runCycle();
  t.is(outageLines(), 2, 'a new outage is logged again');
});

test('a path never mounted is pending through the publish grace, then not_mounted, or not_found without its directory', async (t) => {
  const w = world({ publishGraceMs: 3000 });
  const a = volume('u1', 'pv-a');
  const b = volume('u1', 'pv-b');
  w.published(a, b);
  w.inspections.set(a.path, { kind: 'unmounted', publishedAt: 1_000_000 });
  w.inspections.set(b.path, { kind: 'missing', publishedAt: 1_000_000 });
  await w.runCycle();
  t.is(w.state(a), 'pending');
  t.is(w.state(b), 'pending');
  t.regex(w.detail(a)!, /^published 0ms ago, not mounted yet \(grace 3\.0s\)$/);
  t.deepEqual(w.probes, [], 'nothing mounted, nothing probed');
  w.pass(2999);
  await w.runCycle();
  t.is(w.state(a), 'pending');
  w.pass(1);
  await w.runCycle();
  t.is(w.state(a), 'not_mounted');
  t.is(w.state(b), 'not_found');
});

test('a pending path asks for a look again soon, later as it waits longer, never past 5 s; a path past its grace asks nothing', async (t) => {
  const w = world({ publishGraceMs: 60_000 });
  const v = volume('u1', 'pv-a');
  w.published(v);
  w.inspections.set(v.path, { kind: 'unmounted', publishedAt: 1_000_000 });
  t.is((await w.runCycle()).recheckInMs, 250, 'just published: a quarter second');
  w.pass(2000);
  t.is((await w.runCycle()).recheckInMs, 1000, 'half its age');
  w.pass(30_000);
  t.is((await w.runCycle()).recheckInMs, 5000, 'at most 5 s');
  w.pass(30_000);
  const r = await w.runCycle();
  t.is(w.state(v), 'not_mounted');
  t.is(r.recheckInMs, undefined);
});

test('the publish grace also ends on the time the cycle itself has watched the path, whatever its mtime says', async (t) => {
  const w = world({ publishGraceMs: 3000 });
  const v = volume('u1', 'pv-a');
  w.published(v);
  // An mtime an hour in the future (the wall clock was stepped back).
  w.inspections.set(v.path, { kind: 'unmounted', publishedAt: 1_000_000 + 3_600_000 });
  await w.runCycle();
  t.is(w.state(v), 'pending');
  w.pass(3001);
  await w.runCycle();
  t.is(w.state(v), 'not_mounted');
});

test('a path that was mounted and is not any more is held for the confirmation time before not_mounted, with a recheck asked', async (t) => {
  // A long publish grace: a path once mounted is past it, however recently it was published.
  const w = world({ unmountConfirmMs: 2000, publishGraceMs: 60_000 });
  const v = volume('u1', 'pv-a');
  w.mounted(v);
  await w.runCycle();
  w.setMounts();
  w.inspections.set(v.path, { kind: 'unmounted', publishedAt: 1_000_000 });
  w.pass(100);
  const r = await w.runCycle();
  t.is(w.state(v), 'healthy', 'held: kubelet may be tearing the pod down');
  t.is(r.recheckInMs, 2000);
  w.pass(1500);
  t.is((await w.runCycle()).recheckInMs, 500);
  t.is(w.state(v), 'healthy');
  w.pass(500);
  await w.runCycle();
  t.is(w.state(v), 'not_mounted');
});

test('a path the inspector finds torn down is removed; one it cannot inspect keeps its state', async (t) => {
  const w = world();
  const gone = volume('u1', 'pv-gone');
  const unsure = volume('u1', 'pv-unsure');
  w.mounted(gone, unsure);
  await w.runCycle();
  t.is(w.state(gone), 'healthy');
  w.setMounts();
  w.inspections.set(gone.path, { kind: 'gone', why: 'vol_data.json is gone' });
  w.inspections.set(unsure.path, { kind: 'unknown', error: new Error('EIO') });
  w.pass(10);
  await w.runCycle();
  t.is(w.tracker.get(gone.path), undefined);
  t.true(w.logs.some((l) => l.msg === 'volume path removed' && l.path === gone.path && l.why === 'vol_data.json is gone'));
  t.is(w.state(unsure), 'healthy');
  t.deepEqual(w.inconclusive, ['inspect_error']);
});

test('a mount directory that is a symlink is not_mounted at once, grace or not', async (t) => {
  const w = world({ publishGraceMs: 3_600_000 });
  const v = volume('u1', 'pv-a');
  w.published(v);
  w.inspections.set(v.path, { kind: 'symlink', publishedAt: 1_000_000 });
  await w.runCycle();
  t.is(w.state(v), 'not_mounted');
  t.is(w.detail(v), 'the mount directory is a symlink; it is not followed');
});

test('a volume that left the inventory is dropped before the cycle probes', async (t) => {
  const w = world();
  const v = volume('u1', 'pv-a');
  w.mounted(v);
  await w.runCycle();
  w.volumes.length = 0;
  w.pass(10);
  const r = await w.runCycle();
  t.is(w.tracker.get(v.path), undefined);
  t.is(r.paths, 0);
  t.is(w.probes.length, 1, 'not probed again');
});

test('a subPath bind mount of a volume is found from the mount table and probed with it', async (t) => {
  const w = world();
  const v = volume('u1', 'pv-a');
  w.volumes.push(v);
  const sub = '/k/pods/u1/volume-subpaths/data/app/0';
  w.setMounts(mountOf(v, { root: '/pv-a' }), { ...mountOf(v, { root: '/pv-a' }), mountPoint: sub });
  const r = await w.runCycle();
  t.is(r.paths, 2);
  t.is(r.sources, 1);
  t.like(w.tracker.get(sub), { state: 'healthy', volume: { kind: 'subpath', volumeId: 'pv-a' } });
  // Its bind mount gone, the subPath is inspected like any path, not dropped with the inventory.
  w.setMounts(mountOf(v, { root: '/pv-a' }));
  w.inspections.set(sub, { kind: 'gone', why: 'subPath entry is gone' });
  w.pass(10);
  await w.runCycle();
  t.true(w.inspected.includes(sub));
  t.is(w.tracker.get(sub), undefined);
});

test('with a mount pod that is not running, a broken mount is mount_pod_not_running; a working one stays healthy', async (t) => {
  const down: MountPodState = { namespace: 'kube-system', name: 'juicefs-n1-pv-a', phase: 'Running', running: false, why: 'container jfs-mount waiting: CrashLoopBackOff' };
  const w = world({ mountPod: () => down });
  const v = volume('u1', 'pv-a');
  w.mounted(v);
  await w.runCycle();
  t.is(w.state(v), 'healthy');
  w.outcomes.set(v.path, errno('ENOTCONN'));
  w.pass(10);
  await w.runCycle();
  t.is(w.state(v), 'mount_pod_not_running');
  t.is(w.detail(v), 'mount pod kube-system/juicefs-n1-pv-a is not running (Running, container jfs-mount waiting: CrashLoopBackOff); ENOTCONN: Transport endpoint is not connected');
});

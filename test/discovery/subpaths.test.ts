import test from 'ava';
import { createKubeletLayout } from '../../src/discovery/kubelet-layout.js';
import { findSubpaths } from '../../src/discovery/subpaths.js';
import { parseMountInfo } from '../../src/mounts/mountinfo.js';
import { buildMountTable } from '../../src/mounts/mount-table.js';
import type { VolumePath } from '../../src/types.js';

const layout = createKubeletLayout('/k');
const vol = (pv: string, uid = 'u1'): VolumePath => ({
  path: layout.mountPath(uid, pv),
  kind: 'volume',
  podUid: uid,
  pv,
  volumeId: `h-${pv}`,
  driver: 'csi.juicefs.com',
});
const table = (...lines: string[]) => {
  const p = parseMountInfo(lines.join('\n'));
  return buildMountTable(p.entries);
};
const fsTypes = new Set(['fuse.juicefs']);

test('a subPath bind of a JuiceFS volume is tied to it by device', (t) => {
  const a = vol('pvc-a');
  const tbl = table(
    `10 1 0:50 /pvc-a ${a.path} rw - fuse.juicefs JuiceFS:x rw`,
    `11 1 0:50 /pvc-a/sub /k/pods/u1/volume-subpaths/data/app/0 rw - fuse.juicefs JuiceFS:x rw`,
  );
  const subs = findSubpaths({ layout, table: tbl, fsTypes, volumesOf: () => [a] });
  t.is(subs.length, 1);
  t.like(subs[0], { kind: 'subpath', pv: 'pvc-a', volumeId: 'h-pvc-a', subpath: { volumeName: 'data', container: 'app', index: '0' } });
});

test('after the client restarted, a subPath on the old connection is tied by its root', (t) => {
  const a = vol('pvc-a');
  const b = vol('pvc-b');
  const tbl = table(
    `10 1 0:60 /pvc-a ${a.path} rw - fuse.juicefs JuiceFS:x rw`,
    `12 1 0:61 /pvc-b ${b.path} rw - fuse.juicefs JuiceFS:x rw`,
    `11 1 0:50 /pvc-b/sub /k/pods/u1/volume-subpaths/logs/app/1 rw - fuse.juicefs JuiceFS:x rw`,
  );
  const [sub] = findSubpaths({ layout, table: tbl, fsTypes, volumesOf: () => [a, b] });
  t.is(sub?.pv, 'pvc-b');
});

test('subPaths of pods without JuiceFS volumes, or of other file systems, are not ours', (t) => {
  const a = vol('pvc-a');
  const tbl = table(
    `10 1 0:50 /pvc-a ${a.path} rw - fuse.juicefs JuiceFS:x rw`,
    `11 1 8:1 /data /k/pods/u1/volume-subpaths/cfg/app/0 rw - ext4 /dev/sda1 rw`,
    `12 1 0:50 /pvc-a /k/pods/u2/volume-subpaths/data/app/0 rw - fuse.juicefs JuiceFS:x rw`,
  );
  t.deepEqual(findSubpaths({ layout, table: tbl, fsTypes, volumesOf: (uid) => (uid === 'u1' ? [a] : []) }), []);
});

test('a fuse.juicefs subPath of another driver (Fluid) is not ours: with the API it names another PV, without it neither device nor root fits', (t) => {
  const a = vol('pvc-a');
  const tbl = table(
    `10 1 0:50 /pvc-a ${a.path} rw - fuse.juicefs JuiceFS:x rw`,
    // Fluid's JuiceFS runtime: its own FUSE mount, bound as a subPath of the pod's Fluid volume.
    `11 1 0:77 /fluid/sub /k/pods/u1/volume-subpaths/fluid-data/app/0 rw - fuse.juicefs JuiceFS:fluid rw`,
  );
  const volumesOf = () => [a];
  // The pod's only JuiceFS volume is no longer assumed.
  t.deepEqual(findSubpaths({ layout, table: tbl, fsTypes, volumesOf }), []);
  t.deepEqual(findSubpaths({ layout, table: tbl, fsTypes, volumesOf, publishedAs: (_, name) => (name === 'data' ? 'pvc-a' : 'pvc-fluid') }), []);
  // A pod volume with no claim or CSI source at all (an emptyDir, a hostPath) is not ours either.
  t.deepEqual(findSubpaths({ layout, table: tbl, fsTypes, volumesOf, publishedAs: () => null }), []);
});

test('with the API, a subPath maps through its pod volume to the PV, whatever the mount table suggests', (t) => {
  const a = vol('pvc-a');
  const b = vol('pvc-b');
  // Both volumes of one JuiceFS file system at its root: device and root cannot tell them apart.
  const tbl = table(
    `10 1 0:50 / ${a.path} rw - fuse.juicefs JuiceFS:x rw`,
    `12 1 0:50 / ${b.path} rw - fuse.juicefs JuiceFS:x rw`,
    `11 1 0:50 /sub /k/pods/u1/volume-subpaths/logs/app/1 rw - fuse.juicefs JuiceFS:x rw`,
    // On a dead connection (another device) after a client restart: still the volume the API names.
    `13 1 0:49 /old /k/pods/u1/volume-subpaths/data/app/2 rw - fuse.juicefs JuiceFS:x rw`,
  );
  const publishedAs = (_: string, name: string) => ({ logs: 'pvc-b', data: 'pvc-a' })[name];
  const subs = findSubpaths({ layout, table: tbl, fsTypes, volumesOf: () => [a, b], publishedAs });
  t.deepEqual(
    subs.map((s) => [s.subpath?.volumeName, s.pv]),
    [
      ['logs', 'pvc-b'],
      ['data', 'pvc-a'],
    ],
  );
  // Unknown to the API (claim not read yet): the mount table's guess, which cannot tell the two volumes at "/" apart.
  const guessed = findSubpaths({ layout, table: tbl, fsTypes, volumesOf: () => [a, b], publishedAs: () => undefined });
  t.deepEqual(guessed.map((s) => s.pv), ['pvc-a', 'pvc-a']);
});

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

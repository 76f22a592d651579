// Classification from the mount table alone, on a hand-built table.

import test from 'ava';
import { classifyByMountTable } from '../../src/classify/by-mount-table.js';
import { buildMountTable } from '../../src/mounts/mount-table.js';
import type { MountEntry } from '../../src/mounts/mountinfo.js';
import type { VolumePath } from '../../src/types.js';

const vol = (pv: string, uid = 'u1'): VolumePath => ({ path: `/k/pods/${uid}/volumes/kubernetes.io~csi/${pv}/mount`, kind: 'volume', podUid: uid, pv, volumeId: pv, driver: 'csi.juicefs.com' });
let id = 100;
const mount = (v: VolumePath, dev: string, root: string, fsType = 'fuse.juicefs'): MountEntry => ({ id: id++, parentId: 1, dev, root, mountPoint: v.path, fsType, source: 'JuiceFS:vol' });

test('paths are split into unmounted, wrong type and probe groups, one group per device and root', (t) => {
  const a = vol('pv-a');
  const a2 = vol('pv-a', 'u2');
  const b = vol('pv-b');
  const nfs = vol('pv-nfs');
  const gone = vol('pv-gone');
  const table = buildMountTable([mount(a, '0:52', '/pv-a'), mount(a2, '0:52', '/pv-a'), mount(b, '0:52', '/pv-b'), mount(nfs, '0:60', '/', 'nfs4')]);
  const c = classifyByMountTable([a, a2, b, nfs, gone], table, new Set(['fuse.juicefs']));
  t.deepEqual(c.unmounted, [gone]);
  t.deepEqual(c.mounted, [a, a2, b, nfs], 'mounted, whatever the type');
  t.is(c.wrongType.length, 1);
  t.is(c.wrongType[0]!.volume, nfs);
  t.is(c.wrongType[0]!.verdict.state, 'wrong_fstype');
  t.deepEqual([...c.sources.keys()], ['0:52 /pv-a', '0:52 /pv-b']);
  t.deepEqual(c.sources.get('0:52 /pv-a')!.paths, [a, a2], 'two pods bound to one volume: one probe');
});

test('another accepted type (--fs-type) is probed, not wrong', (t) => {
  const a = vol('pv-a');
  const c = classifyByMountTable([a], buildMountTable([mount(a, '0:70', '/', 'fuse.jfs-ee')]), new Set(['fuse.juicefs', 'fuse.jfs-ee']));
  t.deepEqual(c.wrongType, []);
  t.is(c.sources.size, 1);
});

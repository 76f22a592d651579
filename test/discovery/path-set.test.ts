// The paths discovery finds for a cycle, from plain inventories and a hand-built table.

import test from 'ava';
import { createKubeletLayout } from '../../src/discovery/kubelet-layout.js';
import { assemblePathSet } from '../../src/discovery/path-set.js';
import { buildMountTable } from '../../src/mounts/mount-table.js';
import type { VolumePath } from '../../src/types.js';

const layout = createKubeletLayout('/k');
const vol = (pv: string): VolumePath => ({ path: layout.mountPath('u1', pv), kind: 'volume', podUid: 'u1', pv, volumeId: pv, driver: 'csi.juicefs.com' });

test('published volumes, mounted or not, and the subPaths of them that the mount table lists', (t) => {
  const a = vol('pv-a');
  const b = vol('pv-b');
  const table = buildMountTable([
    { id: 10, parentId: 1, dev: '0:52', root: '/pv-a', mountPoint: a.path, fsType: 'fuse.juicefs', source: 'JuiceFS:v' },
    { id: 11, parentId: 1, dev: '0:52', root: '/pv-a', mountPoint: '/k/pods/u1/volume-subpaths/data/app/0', fsType: 'fuse.juicefs', source: 'JuiceFS:v' },
  ]);
  const set = assemblePathSet({ layout, table, fsTypes: new Set(['fuse.juicefs']), published: [a, b], volumesOf: () => [a, b] });
  t.deepEqual([...set.keys()].sort(), [a.path, b.path, '/k/pods/u1/volume-subpaths/data/app/0'].sort());
  t.like(set.get('/k/pods/u1/volume-subpaths/data/app/0'), { kind: 'subpath', pv: 'pv-a' });
});

test('a subPath the API ties to no JuiceFS volume is not in the set', (t) => {
  const a = vol('pv-a');
  const table = buildMountTable([
    { id: 10, parentId: 1, dev: '0:52', root: '/pv-a', mountPoint: a.path, fsType: 'fuse.juicefs', source: 'JuiceFS:v' },
    { id: 11, parentId: 1, dev: '0:52', root: '/pv-a', mountPoint: '/k/pods/u1/volume-subpaths/dataset/app/0', fsType: 'fuse.juicefs', source: 'JuiceFS:v' },
  ]);
  const set = assemblePathSet({ layout, table, fsTypes: new Set(['fuse.juicefs']), published: [a], volumesOf: () => [a], publishedAs: () => null });
  t.deepEqual([...set.keys()], [a.path]);
});

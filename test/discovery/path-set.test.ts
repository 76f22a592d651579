// The path set a cycle looks at, from plain inventories and a hand-built table.

import test from 'ava';
import { createKubeletLayout } from '../../src/discovery/kubelet-layout.js';
import { assemblePathSet } from '../../src/discovery/path-set.js';
import { buildMountTable } from '../../src/mounts/mount-table.js';
import type { VolumePath } from '../../src/types.js';

const layout = createKubeletLayout('/k');
const vol = (pv: string): VolumePath => ({ path: layout.mountPath('u1', pv), kind: 'volume', podUid: 'u1', pv, volumeId: pv, driver: 'csi.juicefs.com' });
const sub = (name: string): VolumePath => ({
  path: `/k/pods/u1/volume-subpaths/${name}/app/0`,
  kind: 'subpath',
  podUid: 'u1',
  pv: 'pv-a',
  volumeId: 'pv-a',
  driver: 'csi.juicefs.com',
  subpath: { volumeName: name, container: 'app', index: '0' },
});

test('published volumes, subPaths in the mount table, and tracked subPaths that left it; tracked volumes no longer published are named', (t) => {
  const a = vol('pv-a');
  const table = buildMountTable([
    { id: 10, parentId: 1, dev: '0:52', root: '/pv-a', mountPoint: a.path, fsType: 'fuse.juicefs', source: 'JuiceFS:v' },
    { id: 11, parentId: 1, dev: '0:52', root: '/pv-a', mountPoint: '/k/pods/u1/volume-subpaths/data/app/0', fsType: 'fuse.juicefs', source: 'JuiceFS:v' },
  ]);
  const left = sub('logs');
  const old = vol('pv-old');
  const set = assemblePathSet({ layout, table, fsTypes: new Set(['fuse.juicefs']), published: [a], volumesOf: () => [a], tracked: [a, left, old] });
  t.deepEqual([...set.paths.keys()].sort(), [a.path, '/k/pods/u1/volume-subpaths/data/app/0', left.path].sort());
  t.is(set.paths.get('/k/pods/u1/volume-subpaths/data/app/0')!.kind, 'subpath');
  t.deepEqual(set.unpublished, [old]);
});

test('a subPath the API ties to no JuiceFS volume is not in the set', (t) => {
  const a = vol('pv-a');
  const table = buildMountTable([
    { id: 10, parentId: 1, dev: '0:52', root: '/pv-a', mountPoint: a.path, fsType: 'fuse.juicefs', source: 'JuiceFS:v' },
    { id: 11, parentId: 1, dev: '0:52', root: '/pv-a', mountPoint: '/k/pods/u1/volume-subpaths/dataset/app/0', fsType: 'fuse.juicefs', source: 'JuiceFS:v' },
  ]);
  const set = assemblePathSet({ layout, table, fsTypes: new Set(['fuse.juicefs']), published: [a], volumesOf: () => [a], publishedAs: () => null, tracked: [] });
  t.deepEqual([...set.paths.keys()], [a.path]);
});

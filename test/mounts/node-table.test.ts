// A Kubernetes node's mount table (test/fixtures/node-mountinfo.ts: containerd
// overlays, shm, nsfs, secret and projected tmpfs, NFS and CephFS CSI mounts,
// JuiceFS mounts and subPaths), as the host holds it and as the prober's
// container sees it: every line parses, and the prober finds exactly the
// JuiceFS paths in it.

import test from 'ava';
import { assemblePathSet } from '../../src/discovery/path-set.js';
import { findSubpaths } from '../../src/discovery/subpaths.js';
import { classifyByMountTable, sourceKey } from '../../src/classify/by-mount-table.js';
import { parseMountInfo } from '../../src/mounts/mountinfo.js';
import { buildMountTable } from '../../src/mounts/mount-table.js';
import { kubernetesNodeMountTable } from '../fixtures/node-mountinfo.js';

const FUSE = new Set(['fuse.juicefs']);

for (const [view, atLeast] of [
  ['host', 500],
  ['container', 200],
] as const) {
  const node = kubernetesNodeMountTable({ view });

  test(`${view} view: hundreds of lines, every one parsed, none malformed`, (t) => {
    const parsed = parseMountInfo(node.text);
    t.true(node.lines >= atLeast, `${node.lines} lines`);
    t.is(parsed.malformed, 0);
    t.is(parsed.entries.length, node.lines);
    const nsfs = parsed.entries.filter((e) => e.fsType === 'nsfs');
    if (view === 'host') {
      t.true(nsfs.length > 0);
      for (const e of nsfs) t.regex(e.root, /^net:\[\d+\]$/);
      t.true(parsed.entries.some((e) => e.fsType === 'overlay' && e.superOptions.length > 1000), 'an overlay line with a long lowerdir=');
    } else {
      t.is(nsfs.length, 0, 'the container sees only what lies under the kubelet directory');
      t.true(parsed.entries.filter((e) => e.mountPoint.startsWith(node.layout.podsDir)).every((e) => e.optionalFields.some((f) => f.startsWith('master:'))));
    }
    t.true(parsed.entries.some((e) => e.fsType === 'ceph' && e.source.startsWith('10.0.0.1:6789,10.0.0.2:6789,10.0.0.3:6789:/volumes/csi/')));
  });

  test(`${view} view: the prober finds exactly the JuiceFS volumes and subPaths, mounted from their FUSE mounts, and nothing else`, (t) => {
    const table = buildMountTable(parseMountInfo(node.text).entries);
    const volumesOf = (uid: string) => node.volumes.filter((v) => v.podUid === uid);
    t.true(node.volumes.length >= 10 && node.subpaths.size >= 5, `${node.volumes.length} volumes, ${node.subpaths.size} subPaths`);

    const subs = findSubpaths({ layout: node.layout, table, fsTypes: FUSE, volumesOf });
    t.deepEqual(new Map(subs.map((s) => [s.path, s.pv])), node.subpaths);

    const set = assemblePathSet({ layout: node.layout, table, fsTypes: FUSE, published: node.volumes, volumesOf });
    t.deepEqual([...set.keys()].sort(), [...node.volumes.map((v) => v.path), ...node.subpaths.keys()].sort());
    for (const other of node.others) t.false(set.has(other), other);

    const c = classifyByMountTable(set.values(), table, FUSE);
    t.is(c.mounted.length, set.size);
    t.deepEqual(c.unmounted, []);
    t.deepEqual(c.wrongType, []);
    // One probe per JuiceFS source: the volume's root in its FUSE mount, shared by every pod that binds it.
    const pvs = new Set(node.volumes.map((v) => v.pv));
    t.is(new Set(node.volumes.map((v) => sourceKey(table.at(v.path)!))).size, pvs.size);
    for (const [key, g] of c.sources) t.is(g.entry.fsType, 'fuse.juicefs', key);
  });
}

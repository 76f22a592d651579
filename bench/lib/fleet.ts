// A node's worth of published JuiceFS paths on real mounts: a few FUSE servers
// export many directories, each pod path is a bind mount of one of them, laid
// out in a sandbox kubelet tree exactly as kubelet lays it out.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKubeletTree, type KubeletTree } from '../../test/fixtures/kubelet-tree.js';
import { startFuse, type FuseHandle, type FuseMode } from '../../test/fixtures/mounts.js';

const BIND_MANY = fileURLToPath(new URL('../../../bench/native/bind-many.py', import.meta.url));

export interface FleetPath {
  readonly podUid: string;
  readonly pv: string;
  readonly mountPath: string;
  /** Index of the mount source (a directory of one FUSE server) it binds. */
  readonly source: number;
  readonly group: string;
}

export interface SourceGroup {
  readonly name: string;
  readonly server: FuseHandle;
  readonly paths: FleetPath[];
}

export interface Fleet {
  readonly tree: KubeletTree;
  readonly groups: SourceGroup[];
  readonly paths: FleetPath[];
  /**
   * Publishes and mounts `count` more paths of a group, each its own source unless `sharedSources`
   * is set, each in its own pod unless `volumesPerPod` is set.
   */
  add(group: string, count: number, opts?: { sharedSources?: number; prefix?: string; volumesPerPod?: number }): FleetPath[];
  removePod(podUid: string): void;
  close(): void;
}

/** Runs bind-many.py over many mounts at once: one process instead of one `mount` per path. */
export function bindMany(pairs: readonly (readonly [string, string])[]): void {
  if (pairs.length === 0) return;
  const r = spawnSync('python3', [BIND_MANY], { input: pairs.map(([s, d]) => `${s}\t${d}\n`).join(''), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bind-many failed: ${r.stderr || r.error?.message}`);
}

export function detachMany(targets: readonly string[]): void {
  if (targets.length === 0) return;
  const r = spawnSync('python3', [BIND_MANY, '--detach'], { input: targets.map((t) => `${t}\n`).join(''), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bind-many --detach failed: ${r.stderr || r.error?.message}`);
}

export async function createFleet(name: string, groups: readonly { name: string; mode?: FuseMode }[]): Promise<Fleet> {
  const tree = createKubeletTree(name);
  const made: SourceGroup[] = [];
  for (const g of groups) {
    const server = await startFuse(path.join(tree.root, `jfs-${g.name}`), { mode: g.mode ?? 'healthy' });
    made.push({ name: g.name, server, paths: [] });
  }
  const all: FleetPath[] = [];
  let nextPod = 0;
  let nextSource = 0;
  return {
    tree,
    groups: made,
    paths: all,
    add(groupName, count, opts = {}) {
      const g = made.find((x) => x.name === groupName);
      if (!g) throw new Error(`no source group ${groupName}`);
      const shared = opts.sharedSources ?? 0;
      const first = nextSource;
      nextSource += shared > 0 ? shared : count;
      const perPod = opts.volumesPerPod ?? 1;
      const added: FleetPath[] = [];
      const pairs: [string, string][] = [];
      let podUid = '';
      for (let i = 0; i < count; i++) {
        const source = first + (shared > 0 ? i % shared : i);
        if (i % perPod === 0) podUid = `${opts.prefix ?? 'pod'}-${String(nextPod++).padStart(6, '0')}-${g.name}`;
        const pv = `pvc-${String(source).padStart(6, '0')}`;
        const v = tree.publish(podUid, pv, { volumeHandle: pv });
        // Binds of one directory share device and mount root: one mount source.
        pairs.push([path.join(g.server.mnt, pv), v.mountPath]);
        added.push({ podUid, pv, mountPath: v.mountPath, source, group: g.name });
      }
      bindMany(pairs);
      g.paths.push(...added);
      all.push(...added);
      return added;
    },
    removePod(podUid) {
      tree.removePod(podUid);
      const i = all.findIndex((p) => p.podUid === podUid);
      if (i >= 0) all.splice(i, 1);
      for (const g of made) {
        const j = g.paths.findIndex((p) => p.podUid === podUid);
        if (j >= 0) g.paths.splice(j, 1);
      }
    },
    close() {
      // Servers first: a caller blocked on a hung one is released before the tree is detached.
      for (const g of made) g.server.cleanup();
      detachMany(all.map((p) => p.mountPath));
      tree.remove();
    },
  };
}

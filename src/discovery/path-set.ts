// The paths discovery finds for a cycle: every published volume in the
// inventory, and the subPath bind mounts of those volumes that the mount table
// lists. What was found before and is not any more is the lifecycle's to judge
// (lifecycle/path-lifecycle.ts `reconcile`), not discovery's.

import type { MountTable } from '../mounts/mount-table.js';
import type { VolumePath } from '../types.js';
import type { Inventory } from './inventory.js';
import type { KubeletLayout } from './kubelet-layout.js';
import { findSubpaths } from './subpaths.js';

/** Paths by their mount point. */
export type PathSet = ReadonlyMap<string, VolumePath>;

export interface PathSetInput {
  readonly layout: KubeletLayout;
  readonly table: MountTable;
  readonly fsTypes: ReadonlySet<string>;
  readonly published: readonly VolumePath[];
  readonly volumesOf: (podUid: string) => readonly VolumePath[];
  readonly publishedAs?: ((podUid: string, volumeName: string) => string | null | undefined) | undefined;
}

export function assemblePathSet(input: PathSetInput): PathSet {
  const paths = new Map<string, VolumePath>();
  for (const v of input.published) paths.set(v.path, v);
  const subpaths = findSubpaths({
    layout: input.layout,
    table: input.table,
    fsTypes: input.fsTypes,
    volumesOf: input.volumesOf,
    ...(input.publishedAs ? { publishedAs: input.publishedAs } : {}),
  });
  for (const v of subpaths) if (!paths.has(v.path)) paths.set(v.path, v);
  return paths;
}

/** What a cycle asks discovery: the paths there are, given this mount table. */
export type FindPaths = (table: MountTable) => PathSet;

export function pathFinder(opts: Omit<PathSetInput, 'table' | 'published' | 'volumesOf'> & { readonly inventory: Pick<Inventory, 'list' | 'ofPod'> }): FindPaths {
  const { inventory, ...rest } = opts;
  return (table) => assemblePathSet({ ...rest, table, published: inventory.list(), volumesOf: inventory.ofPod });
}

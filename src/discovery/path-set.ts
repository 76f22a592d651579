// The paths a cycle looks at: every published volume in the inventory, the
// subPath bind mounts of those volumes that the mount table lists, and subPaths
// still tracked that have left the mount table (so their unmount is seen).
// A tracked volume the inventory no longer has is not in the set: it was
// unpublished, and the caller removes it.

import type { MountTable } from '../mounts/mount-table.js';
import type { VolumePath } from '../types.js';
import type { KubeletLayout } from './kubelet-layout.js';
import { findSubpaths } from './subpaths.js';

export interface PathSetInput {
  readonly layout: KubeletLayout;
  readonly table: MountTable;
  readonly fsTypes: ReadonlySet<string>;
  readonly published: readonly VolumePath[];
  readonly volumesOf: (podUid: string) => readonly VolumePath[];
  readonly publishedAs?: ((podUid: string, volumeName: string) => string | null | undefined) | undefined;
  /** What the tracker holds from earlier cycles. */
  readonly tracked: readonly VolumePath[];
}

export interface PathSet {
  readonly paths: ReadonlyMap<string, VolumePath>;
  /** Tracked volumes that are no longer published. */
  readonly unpublished: readonly VolumePath[];
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
  const unpublished: VolumePath[] = [];
  for (const v of input.tracked) {
    if (paths.has(v.path)) continue;
    // A subPath that left the mount table is inspected like any unmounted path.
    if (v.kind === 'subpath') paths.set(v.path, v);
    else unpublished.push(v);
  }
  return { paths, unpublished };
}

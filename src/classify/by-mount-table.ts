// What the mount table alone says of each path: nothing mounted there (the
// directory must be inspected), the wrong file system type (a verdict now), or
// mounted from a source that a probe must stat. Bind mounts of one source are
// one file system view, so paths are grouped by source and one probe serves all.

import type { MountEntry } from '../mounts/mountinfo.js';
import type { MountTable } from '../mounts/mount-table.js';
import type { VolumePath } from '../types.js';
import { wrongTypeVerdict, type Verdict } from './verdict.js';

export interface SourceGroup {
  readonly entry: MountEntry;
  readonly paths: VolumePath[];
}

export interface Classification {
  /** Paths the mount table lists (of whatever type): they have been mounted. */
  readonly mounted: readonly VolumePath[];
  readonly unmounted: readonly VolumePath[];
  readonly wrongType: readonly { readonly volume: VolumePath; readonly verdict: Verdict }[];
  /** By source key (`<dev> <root>`). */
  readonly sources: ReadonlyMap<string, SourceGroup>;
}

export const sourceKey = (entry: MountEntry): string => `${entry.dev} ${entry.root}`;

export function classifyByMountTable(paths: Iterable<VolumePath>, table: MountTable, fsTypes: ReadonlySet<string>): Classification {
  const mounted: VolumePath[] = [];
  const unmounted: VolumePath[] = [];
  const wrongType: { volume: VolumePath; verdict: Verdict }[] = [];
  const sources = new Map<string, SourceGroup>();
  for (const v of paths) {
    const entry = table.at(v.path);
    if (!entry) {
      unmounted.push(v);
      continue;
    }
    mounted.push(v);
    if (!fsTypes.has(entry.fsType)) {
      wrongType.push({ volume: v, verdict: wrongTypeVerdict(entry, fsTypes) });
      continue;
    }
    const key = sourceKey(entry);
    const group = sources.get(key);
    if (group) group.paths.push(v);
    else sources.set(key, { entry, paths: [v] });
  }
  return { mounted, unmounted, wrongType, sources };
}

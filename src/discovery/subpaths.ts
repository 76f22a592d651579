// kubelet's subPath bind mounts, found in the mount table:
//   <kubelet>/pods/<uid>/volume-subpaths/<volume_name>/<container>/<index>
// The directory name is the pod's volume name, not the PV. Where the Kubernetes
// API says which PV that pod volume is (volume → claim → PV), that decides: a
// subPath of any other volume is not ours, however it is mounted (Fluid's
// JuiceFS runtime mounts fuse.juicefs too). Without it, the mount table decides:
// the same device, or (after the JuiceFS client was restarted and the volume
// re-bound, while the subPath still points at the old, dead connection) a mount
// root inside the volume's root. A pod's only JuiceFS volume is never assumed.

import type { MountEntry } from '../mounts/mountinfo.js';
import type { MountTable } from '../mounts/mount-table.js';
import type { VolumePath } from '../types.js';
import type { KubeletLayout } from './kubelet-layout.js';

export interface SubpathContext {
  readonly layout: KubeletLayout;
  readonly table: MountTable;
  readonly fsTypes: ReadonlySet<string>;
  /** The JuiceFS volumes known for a pod. */
  readonly volumesOf: (podUid: string) => readonly VolumePath[];
  /**
   * What the API says a pod volume is published as (its PV, or an inline volume's own name);
   * null: a volume with no claim or CSI source (not ours); undefined: not known.
   */
  readonly publishedAs?: (podUid: string, volumeName: string) => string | null | undefined;
}

function isUnder(root: string, dir: string): boolean {
  return dir === '/' || root === dir || root.startsWith(dir + '/');
}

export function findSubpaths(ctx: SubpathContext): VolumePath[] {
  const out: VolumePath[] = [];
  const prefix = ctx.layout.podsDir + '/';
  for (const e of ctx.table.entries()) {
    if (!e.mountPoint.startsWith(prefix)) continue;
    const pos = ctx.layout.classify(e.mountPoint);
    if (pos?.kind !== 'subpath') continue;
    const volumes = ctx.volumesOf(pos.podUid);
    if (volumes.length === 0) continue;
    const known = ctx.publishedAs?.(pos.podUid, pos.volumeName);
    const volume = known === null ? undefined : known !== undefined ? volumes.find((v) => v.pv === known) : pickVolume(e, volumes, ctx);
    if (!volume) continue;
    out.push({
      path: e.mountPoint,
      kind: 'subpath',
      podUid: pos.podUid,
      pv: volume.pv,
      volumeId: volume.volumeId,
      driver: volume.driver,
      subpath: { volumeName: pos.volumeName, container: pos.container, index: pos.index },
    });
  }
  return out;
}

function pickVolume(e: MountEntry, volumes: readonly VolumePath[], ctx: SubpathContext): VolumePath | undefined {
  const mounted = volumes
    .map((v) => ({ v, m: ctx.table.at(v.path) }))
    .filter((x): x is { v: VolumePath; m: MountEntry } => x.m !== undefined);
  const longestRoot = (cands: typeof mounted) =>
    cands.filter((x) => isUnder(e.root, x.m.root)).sort((a, b) => b.m.root.length - a.m.root.length)[0]?.v;

  const sameDev = mounted.filter((x) => x.m.dev === e.dev);
  if (sameDev.length === 1) return sameDev[0]!.v;
  if (sameDev.length > 1) return longestRoot(sameDev) ?? sameDev[0]!.v;
  // Not the volume's current device: only a JuiceFS-typed mount is ours.
  if (!ctx.fsTypes.has(e.fsType)) return undefined;
  return longestRoot(mounted.filter((x) => ctx.fsTypes.has(x.m.fsType)));
}

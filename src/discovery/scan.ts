// Full and per-pod scans of the kubelet pods tree for published CSI volumes of
// the configured drivers. Lists directories down to `<pv>/` and reads
// `<pv>/vol_data.json`; never lists or stats `<pv>/mount`.

import { errorCode } from '../errors.js';
import type { VolumePath } from '../types.js';
import type { DiscoveryFs } from './discovery-fs.js';
import { isPlainName, type KubeletLayout } from './kubelet-layout.js';
import { parseVolData, VOL_DATA_MAX_BYTES } from './vol-data.js';
import { mapLimit } from '../shared/map-limit.js';

export interface ScanProblem {
  readonly file: string;
  /** `symlink`: a directory kubelet would have made is a symlink; it is not followed. */
  readonly kind: 'vol_data' | 'readdir' | 'symlink';
  readonly error: unknown;
}

export interface PodScan {
  readonly podUid: string;
  readonly volumes: VolumePath[];
  readonly problems: ScanProblem[];
  /** `<pv>` directories without vol_data.json yet: a publish in progress, worth a second look soon. */
  readonly incomplete: string[];
  /** Whether the pod directory still exists. */
  readonly podExists: boolean;
  /** False when the pod's CSI directory could not be listed: nothing is known, nothing should be dropped. */
  readonly listed: boolean;
  /** `<pv>` names whose vol_data.json could not be read or parsed: keep what was known of them. */
  readonly unreadable: string[];
}

export interface ScanOptions {
  readonly layout: KubeletLayout;
  readonly drivers: ReadonlySet<string>;
  readonly fs: DiscoveryFs;
}

export async function scanPod(opts: ScanOptions, podUid: string): Promise<PodScan> {
  const { layout, drivers, fs } = opts;
  const volumes: VolumePath[] = [];
  const problems: ScanProblem[] = [];
  const incomplete: string[] = [];
  const unreadable: string[] = [];
  const csiDir = layout.csiDir(podUid);
  let entries: { name: string; symlink: boolean }[];
  try {
    entries = await fs.listEntries(csiDir);
    // The pod directory, `volumes` or `kubernetes.io~csi` a symlink would lead out of the kubelet
    // directory. A symlinked pod directory is named as the full scan names it, so it is one problem.
    if ((await fs.realpath(csiDir)) !== csiDir) {
      const podDir = layout.podDir(podUid);
      problems.push((await fs.realpath(podDir)) !== podDir ? symlinkedPod(layout, podUid) : { file: csiDir, kind: 'symlink', error: new Error(`${csiDir} leads through a symlink; not followed`) });
      return { podUid, volumes, problems, incomplete, unreadable, podExists: true, listed: true };
    }
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // No CSI volumes, or the pod is gone: tell which, so its paths can be dropped.
      const podExists = await exists(fs, layout.podDir(podUid));
      return { podUid, volumes, problems, incomplete, unreadable, podExists, listed: true };
    }
    problems.push({ file: csiDir, kind: 'readdir', error });
    return { podUid, volumes, problems, incomplete, unreadable, podExists: true, listed: false };
  }
  const pvs: string[] = [];
  for (const e of entries) {
    if (!isPlainName(e.name)) continue;
    if (e.symlink) problems.push({ file: layout.pvDir(podUid, e.name), kind: 'symlink', error: new Error('a volume directory that is a symlink is not followed') });
    else pvs.push(e.name);
  }
  await Promise.all(
    pvs.map(async (pv) => {
      const file = layout.volDataPath(podUid, pv);
      let text: string;
      try {
        text = await fs.readSmallFile(file, VOL_DATA_MAX_BYTES);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT') incomplete.push(pv);
        else if (code !== 'ENOTDIR') {
          problems.push({ file, kind: 'vol_data', error });
          unreadable.push(pv);
        }
        return;
      }
      // kubelet creates the file, then writes it (not atomically): empty is a publish in progress.
      if (text.length === 0) {
        incomplete.push(pv);
        return;
      }
      try {
        const data = parseVolData(file, text);
        if (!drivers.has(data.driverName)) return;
        volumes.push({
          path: layout.mountPath(podUid, pv),
          kind: 'volume',
          podUid,
          pv,
          volumeId: data.volumeHandle,
          driver: data.driverName,
        });
      } catch (error) {
        problems.push({ file, kind: 'vol_data', error });
        unreadable.push(pv);
      }
    }),
  );
  volumes.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { podUid, volumes, problems, incomplete, unreadable, podExists: true, listed: true };
}

export interface FullScan {
  readonly pods: PodScan[];
  /** False when the pods directory itself could not be listed. */
  readonly ok: boolean;
  readonly error?: unknown;
}

export async function scanAll(opts: ScanOptions): Promise<FullScan> {
  let entries: { name: string; symlink: boolean }[];
  try {
    entries = await opts.fs.listEntries(opts.layout.podsDir);
  } catch (error) {
    return { pods: [], ok: false, error };
  }
  const plain = entries.filter((e) => isPlainName(e.name));
  const pods = await mapLimit(plain, 32, async (e): Promise<PodScan> => {
    if (!e.symlink) return scanPod(opts, e.name);
    return { podUid: e.name, volumes: [], problems: [symlinkedPod(opts.layout, e.name)], incomplete: [], unreadable: [], podExists: true, listed: true };
  });
  return { pods, ok: true };
}

/** Kubelet makes pod directories, never links: one here leads elsewhere and is not followed. */
function symlinkedPod(layout: KubeletLayout, podUid: string): ScanProblem {
  return { file: layout.podDir(podUid), kind: 'symlink', error: new Error('a pod directory that is a symlink is not followed') };
}

async function exists(fs: DiscoveryFs, dir: string): Promise<boolean> {
  try {
    await fs.list(dir);
    return true;
  } catch (error) {
    const code = errorCode(error);
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}

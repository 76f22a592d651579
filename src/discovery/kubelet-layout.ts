// Where kubelet puts published CSI volumes and subPath bind mounts. Pure path
// arithmetic, so the rules live in one place and are tested without a disk.
//
//   <kubelet>/pods/<pod_uid>/volumes/kubernetes.io~csi/<pv>/mount
//   <kubelet>/pods/<pod_uid>/volumes/kubernetes.io~csi/<pv>/vol_data.json
//   <kubelet>/pods/<pod_uid>/volume-subpaths/<volume_name>/<container>/<index>

import path from 'node:path';

export const CSI_PLUGIN_DIR = 'kubernetes.io~csi';
export const VOL_DATA_FILE = 'vol_data.json';
export const MOUNT_DIR = 'mount';
export const SUBPATHS_DIR = 'volume-subpaths';

export interface KubeletLayout {
  readonly kubeletDir: string;
  readonly podsDir: string;
  podDir(podUid: string): string;
  csiDir(podUid: string): string;
  pvDir(podUid: string, pv: string): string;
  mountPath(podUid: string, pv: string): string;
  volDataPath(podUid: string, pv: string): string;
  /** What a path under the pods directory is, by position alone. */
  classify(p: string): LayoutPosition | undefined;
}

export type LayoutPosition =
  | { kind: 'pod'; podUid: string }
  | { kind: 'csi-dir'; podUid: string }
  | { kind: 'pv-dir'; podUid: string; pv: string }
  | { kind: 'subpath'; podUid: string; volumeName: string; container: string; index: string };

/** A single path component kubelet could have written: no separators, not `.` or `..`. */
export function isPlainName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/**
 * The directories the watcher may watch for a pod, shallowest first: the pod's
 * own, volumes/ and the CSI plugin's. None holds a mount point itself (the
 * mount points are under the CSI plugin's <pv>/ directories).
 */
export function podWatchChain(layout: KubeletLayout, podUid: string): readonly string[] {
  const pod = layout.podDir(podUid);
  return [pod, path.join(pod, 'volumes'), layout.csiDir(podUid)];
}

export function createKubeletLayout(kubeletDir: string): KubeletLayout {
  const root = path.resolve(kubeletDir);
  const podsDir = path.join(root, 'pods');
  const podDir = (uid: string) => path.join(podsDir, uid);
  const csiDir = (uid: string) => path.join(podsDir, uid, 'volumes', CSI_PLUGIN_DIR);
  const pvDir = (uid: string, pv: string) => path.join(csiDir(uid), pv);
  const prefix = podsDir + path.sep;

  return {
    kubeletDir: root,
    podsDir,
    podDir,
    csiDir,
    pvDir,
    mountPath: (uid, pv) => path.join(pvDir(uid, pv), MOUNT_DIR),
    volDataPath: (uid, pv) => path.join(pvDir(uid, pv), VOL_DATA_FILE),
    classify(p) {
      if (!p.startsWith(prefix)) return undefined;
      const parts = p.slice(prefix.length).split('/');
      if (!parts.every(isPlainName)) return undefined;
      const [podUid, a, b, c, d] = parts;
      if (podUid === undefined) return undefined;
      if (parts.length === 1) return { kind: 'pod', podUid };
      if (a === 'volumes' && b === CSI_PLUGIN_DIR) {
        if (parts.length === 3) return { kind: 'csi-dir', podUid };
        if (parts.length === 4) return { kind: 'pv-dir', podUid, pv: c! };
      }
      if (a === SUBPATHS_DIR && parts.length === 5) {
        return { kind: 'subpath', podUid, volumeName: b!, container: c!, index: d! };
      }
      return undefined;
    },
  };
}

// For a path the mount table does not list: is it still published (directory
// there, vol_data.json there), half-way through publishing, or being torn down?
// Lists the parent directory by name and lstat's only that parent, so a mount
// appearing at the path in the meantime is never touched.

import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { errorCode } from '../errors.js';
import type { VolumePath } from '../types.js';
import type { DiscoveryFs } from './discovery-fs.js';
import { MOUNT_DIR, VOL_DATA_FILE } from './kubelet-layout.js';

export type Inspection =
  /** kubelet is tearing it down (vol_data.json or the entry is gone): its series go. */
  | { readonly kind: 'gone'; readonly why: string }
  /** Published, but the mount directory itself is missing. */
  | { readonly kind: 'missing'; readonly publishedAt: number }
  /** Published, directory present, nothing mounted on it. */
  | { readonly kind: 'unmounted'; readonly publishedAt: number }
  /** Published, and the mount directory is a symlink: nothing kubelet or a driver makes; never followed. */
  | { readonly kind: 'symlink'; readonly publishedAt: number }
  | { readonly kind: 'unknown'; readonly error: unknown };

export interface PathInspector {
  inspect(volume: VolumePath): Promise<Inspection>;
}

export interface InspectorFs extends Pick<DiscoveryFs, 'listEntries'> {
  /** mtime of a directory (not of a mount). */
  mtimeMs(dir: string): Promise<number>;
}

export const nodeInspectorFs = (fs: DiscoveryFs): InspectorFs => ({
  listEntries: fs.listEntries,
  mtimeMs: async (dir) => (await lstat(dir)).mtimeMs,
});

export function createPathInspector(fs: InspectorFs): PathInspector {
  return {
    async inspect(volume) {
      const parent = path.dirname(volume.path);
      const name = path.basename(volume.path);
      let entries: { name: string; symlink: boolean }[];
      try {
        entries = await fs.listEntries(parent);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'gone', why: `${parent} is gone` };
        return { kind: 'unknown', error };
      }
      const names = entries.map((e) => e.name);
      if (volume.kind === 'volume' && !names.includes(VOL_DATA_FILE)) {
        return { kind: 'gone', why: `${VOL_DATA_FILE} is gone` };
      }
      if (volume.kind === 'subpath' && !names.includes(name)) {
        return { kind: 'gone', why: 'subPath entry is gone' };
      }
      let publishedAt: number;
      try {
        // kubelet writes vol_data.json and the driver creates `mount` in this
        // directory while publishing: its mtime says when that was.
        publishedAt = await fs.mtimeMs(parent);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT') return { kind: 'gone', why: `${parent} is gone` };
        return { kind: 'unknown', error };
      }
      if (entries.some((e) => e.name === name && e.symlink)) return { kind: 'symlink', publishedAt };
      const present = volume.kind === 'volume' ? names.includes(MOUNT_DIR) : true;
      return present ? { kind: 'unmounted', publishedAt } : { kind: 'missing', publishedAt };
    },
  };
}

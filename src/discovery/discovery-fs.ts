// The few file operations discovery needs, injectable for tests. None of them
// ever looks inside a published `mount` directory: directories are listed by
// name only (no per-entry stat), and files are opened without following links.

import { constants } from 'node:fs';
import { open, readdir, realpath } from 'node:fs/promises';

export interface DirEntry {
  readonly name: string;
  /** From the directory entry's type (d_type), not from a stat: a mount point below is never touched. */
  readonly symlink: boolean;
}

export interface DiscoveryFs {
  /** Entry names of a directory; no stat of the entries. */
  list(dir: string): Promise<string[]>;
  /** Entry names and whether each is a symlink; no stat of the entries. */
  listEntries(dir: string): Promise<DirEntry[]>;
  /** The path with every symlink resolved (lstat of each component: kubelet's directories, never a mount). */
  realpath(p: string): Promise<string>;
  /** At most `max + 1` bytes of a regular file, never through a symlink. */
  readSmallFile(file: string, max: number): Promise<string>;
}

export const nodeDiscoveryFs: DiscoveryFs = {
  list: (dir) => readdir(dir),
  listEntries: async (dir) => (await readdir(dir, { withFileTypes: true })).map((d) => ({ name: d.name, symlink: d.isSymbolicLink() })),
  realpath: (p) => realpath(p),
  async readSmallFile(file, max) {
    const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EINVAL' });
      // Sized by the file, not by the limit: a zero-filled 64 KiB buffer per vol_data.json
      // made the periodic resync the daemon's largest CPU and garbage cost.
      let buf = Buffer.allocUnsafe(Math.min(st.size, max) + 1);
      let n = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n < buf.length) continue;
        if (buf.length > max) break;
        // Grown since the stat: read on, up to the limit.
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, max + 1));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      return buf.toString('utf8', 0, n);
    } finally {
      await fh.close();
    }
  },
};

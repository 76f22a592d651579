// The few file operations discovery needs, injectable for tests. None of them
// ever looks inside a published `mount` directory: directories are listed by
// name only (no per-entry stat), and files are opened without following links.

import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';

export interface DiscoveryFs {
  /** Entry names of a directory; no stat of the entries. */
  list(dir: string): Promise<string[]>;
  /** At most `max + 1` bytes of a regular file, never through a symlink. */
  readSmallFile(file: string, max: number): Promise<string>;
}

export const nodeDiscoveryFs: DiscoveryFs = {
  list: (dir) => readdir(dir),
  async readSmallFile(file, max) {
    const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EINVAL' });
      const buf = Buffer.alloc(max + 1);
      let n = 0;
      while (n < buf.length) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      return buf.toString('utf8', 0, n);
    } finally {
      await fh.close();
    }
  },
};

// Parser for /proc/<pid>/mountinfo (proc(5)). Pure: text in, entries out.
//
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   (1)(2)(3)   (4)   (5)    (6)       (7)    (8) (9)  (10)      (11)
//
// The kernel escapes space, tab, newline and backslash in paths as \ooo octal.

export interface MountEntry {
  readonly id: number;
  readonly parentId: number;
  /** `major:minor` of the file system, as st_dev reports it. */
  readonly dev: string;
  /** The directory of the file system that forms this mount's root (a bind mount's source). */
  readonly root: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
}

export interface ParsedMountInfo {
  readonly entries: MountEntry[];
  /** Lines that could not be parsed; skipped so they never hide the good ones beside them. */
  readonly malformed: number;
}

const OCTAL_ESCAPE = /\\([0-7]{3})/g;

export function unescapeMountPath(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(OCTAL_ESCAPE, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function escapeMountPath(s: string): string {
  return s.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

const DEV = /^\d+:\d+$/;
const INT = /^\d+$/;

export function parseMountInfoLine(line: string): MountEntry | undefined {
  const f = line.split(' ');
  // Seven fixed fields, optional fields, the '-' separator, then three more.
  if (f.length < 10) return undefined;
  const sep = f.indexOf('-', 6);
  if (sep < 0 || f.length < sep + 3) return undefined;
  const [id, parentId, dev, root, mountPoint] = f as [string, string, string, string, string];
  if (!INT.test(id) || !INT.test(parentId) || !DEV.test(dev)) return undefined;
  if (!root.startsWith('/') || !mountPoint.startsWith('/')) return undefined;
  const fsType = f[sep + 1]!;
  if (fsType === '') return undefined;
  return {
    id: Number(id),
    parentId: Number(parentId),
    dev,
    root: unescapeMountPath(root),
    mountPoint: unescapeMountPath(mountPoint),
    fsType: unescapeMountPath(fsType),
    source: unescapeMountPath(f[sep + 2]!),
  };
}

export function parseMountInfo(text: string): ParsedMountInfo {
  const entries: MountEntry[] = [];
  let malformed = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) {
      const e = parseMountInfoLine(text.slice(start, end));
      if (e) entries.push(e);
      else malformed++;
    }
    start = end + 1;
  }
  return { entries, malformed };
}

// Parser for /proc/<pid>/mountinfo as the kernel writes it (proc(5);
// show_mountinfo in fs/proc_namespace.c). Pure: text in, entries out.
//
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   (1)(2)(3)   (4)   (5)    (6)       (7)    (8) (9)  (10)      (11)
//
// What a real node holds and a test tree does not:
// - (4) is a path only for file systems with directories: nsfs writes `net:[4026532174]`
//   (every pod sandbox's /run/netns/cni-…), and other pseudo file systems name their
//   dentry the same way. Nothing but the mount point (5) is a path of this namespace.
// - (7) is any number of tagged fields (shared:N, master:N, propagate_from:N, unbindable).
// - (9) is `type` or `type.subtype` (fuse.juicefs).
// - (10) is whatever the mounter passed: `none` when it passed none, an empty field when
//   it passed "" (`- tmpfs  rw`), `10.0.0.1:6789,10.0.0.2:6789:/volumes/csi/…` for CephFS.
// - (11) is the file system's own options: `lowerdir=a:b:c,upperdir=…` for overlay.
// Space, tab, newline and backslash are written as \ooo octal in every string field,
// so a single space always separates fields (and an empty source is an empty field).

/** What the prober uses of a mount (and what tests build by hand). */
export interface MountEntry {
  readonly id: number;
  readonly parentId: number;
  /** `major:minor` of the file system, as st_dev reports it. */
  readonly dev: string;
  /**
   * The directory of the file system that forms this mount's root (a bind mount's source),
   * or a pseudo file system's own name for it (`net:[4026532174]`): not always a path.
   */
  readonly root: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
}

/** Every field of a mountinfo line, decoded. */
export interface MountInfoLine extends MountEntry {
  /** The mount's own options (`rw,nosuid,relatime`). */
  readonly mountOptions: string;
  /** The tagged fields between the mount options and the `-` (`shared:3`, `master:1`, …). */
  readonly optionalFields: readonly string[];
  /**
   * The file system's options, decoded: a comma the kernel escaped inside a value
   * (`\054`) reads as a comma here, so split it only where that cannot matter.
   */
  readonly superOptions: string;
}

export interface ParsedMountInfo {
  readonly entries: MountInfoLine[];
  /** Lines that could not be parsed; skipped so they never hide the good ones beside them. */
  readonly malformed: number;
}

const OCTAL_ESCAPE = /\\([0-7]{3})/g;

/** Decodes the kernel's \ooo escapes (any field; the name is older than that). */
export function unescapeMountPath(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(OCTAL_ESCAPE, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Escapes as the kernel's mangle() does: space, tab, newline and backslash. */
export function escapeMountPath(s: string): string {
  return s.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

const DEV = /^\d+:\d+$/;
const INT = /^\d+$/;
const NONE: readonly string[] = Object.freeze([]);

/** Both option fields open with the access mode the kernel always writes. */
function opensWithAccessMode(s: string): boolean {
  return s.charCodeAt(0) === 0x72 /* r */ && (s[1] === 'w' || s[1] === 'o') && (s.length === 2 || s[2] === ',');
}

export function parseMountInfoLine(line: string): MountInfoLine | undefined {
  const f = line.split(' ');
  // Six fixed fields, optional fields, the '-' separator, then three more.
  if (f.length < 10) return undefined;
  const sep = f.indexOf('-', 6);
  if (sep < 0 || f.length < sep + 4) return undefined;
  const [id, parentId, dev, root, mountPoint, mountOptions] = f as [string, string, string, string, string, string];
  if (!INT.test(id) || !INT.test(parentId) || !DEV.test(dev)) return undefined;
  if (root === '' || !mountPoint.startsWith('/') || !opensWithAccessMode(mountOptions)) return undefined;
  const fsType = f[sep + 1]!;
  if (fsType === '') return undefined;
  // A file system that wrote a raw space into its options has not split them: they are the rest.
  const superOptions = f.length === sep + 4 ? f[sep + 3]! : f.slice(sep + 3).join(' ');
  if (!opensWithAccessMode(superOptions)) return undefined;
  let optionalFields = NONE;
  if (sep > 6) {
    optionalFields = f.slice(6, sep);
    if (optionalFields.includes('')) return undefined;
  }
  // Most lines hold no escape at all: one look at the line spares one at each field.
  const decode = line.includes('\\') ? unescapeMountPath : verbatim;
  return {
    id: Number(id),
    parentId: Number(parentId),
    dev,
    root: decode(root),
    mountPoint: decode(mountPoint),
    fsType: decode(fsType),
    source: decode(f[sep + 2]!),
    mountOptions: decode(mountOptions),
    optionalFields: decode === verbatim ? optionalFields : optionalFields.map(decode),
    superOptions: decode(superOptions),
  };
}

const verbatim = (s: string): string => s;

/**
 * Parses every line; one that cannot be parsed is counted, handed to `onMalformed`
 * (which may report it) and skipped.
 */
export function parseMountInfo(text: string, onMalformed?: (line: string) => void): ParsedMountInfo {
  const entries: MountInfoLine[] = [];
  let malformed = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) {
      const line = text.slice(start, end);
      const e = parseMountInfoLine(line);
      if (e) entries.push(e);
      else {
        malformed++;
        onMalformed?.(line);
      }
    }
    start = end + 1;
  }
  return { entries, malformed };
}

// The mount table as the prober uses it: which mount is on top at a path, read
// fresh each cycle. Telling "not a mount point" or "wrong type" from here needs
// no syscall on the mount itself, so it cannot hang.

import { readFile } from 'node:fs/promises';
import { MalformedFileError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { createMalformedLinesLog, type MalformedLinesReport } from './malformed-lines.js';
import { parseMountInfo, type MountEntry } from './mountinfo.js';

export interface MountTable {
  /** The mount visible at `path` (the top of a stack of mounts), if `path` is a mount point. */
  at(path: string): MountEntry | undefined;
  entries(): Iterable<MountEntry>;
  readonly size: number;
  readonly malformed: number;
}

export function buildMountTable(entries: readonly MountEntry[], malformed = 0): MountTable {
  const byPoint = new Map<string, MountEntry>();
  for (const e of entries) {
    const prev = byPoint.get(e.mountPoint);
    // Stacked mounts: the one whose parent is the other sits on top. Otherwise the
    // kernel lists mounts in the order they were made, so the later one wins.
    if (prev && prev.parentId === e.id) continue;
    byPoint.set(e.mountPoint, e);
  }
  return {
    at: (path) => byPoint.get(path),
    entries: () => byPoint.values(),
    size: byPoint.size,
    malformed,
  };
}

export type ReadText = (file: string) => Promise<string>;

export const readTextFile: ReadText = (file) => readFile(file, 'utf8');

/** One read and parse of the mount table. */
export function readMountTable(file: string, read: ReadText = readTextFile): Promise<MountTable> {
  return createMountTableReader(file, { read })();
}

export interface MountTableReaderOptions {
  readonly read?: ReadText;
  /** Where malformed lines are logged: each distinct line once while it stays in the table. */
  readonly logger?: Pick<Logger, 'warn'>;
}

/**
 * Reads the table each time, but parses it only when its text changed: on a
 * quiet node it is the same cycle after cycle, and parsing every line (and the
 * garbage it leaves) was a large share of a cycle's work.
 */
export function createMountTableReader(file: string, opts: MountTableReaderOptions = {}): () => Promise<MountTable> {
  const read = opts.read ?? readTextFile;
  const report = opts.logger ? createMalformedLinesLog(opts.logger, file) : undefined;
  let last: { text: string; table: MountTable } | undefined;
  return async () => {
    let text: string;
    try {
      text = await read(file);
    } catch (cause) {
      throw new MalformedFileError(file, 'cannot read the mount table', { cause });
    }
    if (last && last.text === text) return last.table;
    const table = mountTableOf(file, text, report);
    last = { text, table };
    return table;
  };
}

function mountTableOf(file: string, text: string, report: MalformedLinesReport | undefined): MountTable {
  const bad: string[] = [];
  const parsed = parseMountInfo(text, report && ((line) => bad.push(line)));
  // Not a mount table at all: one error for the file, not a line for each of its lines.
  if (parsed.entries.length === 0) {
    throw new MalformedFileError(file, `no mount entries (${parsed.malformed} malformed lines)`);
  }
  report?.(bad);
  return buildMountTable(parsed.entries, parsed.malformed);
}

// A malformed mount table line is news once. The table is read every cycle and
// a line the parser cannot read stays as long as its mount does, so each
// distinct line is reported when it appears, not on every read; one that left
// the table and came back is news again. The count is a metric, so a table that
// floods with new ones (a kernel format not known here) reports a few and the sum.

import type { Logger } from '../log/logger.js';

/** Enough of a line to recognise it; an overlay line runs to kilobytes. */
export const LOGGED_LINE_CHARS = 300;
/** New lines reported one by one per table; the rest are summed in one more line. */
export const LOGGED_LINES_PER_TABLE = 10;

export type MalformedLinesReport = (lines: readonly string[]) => void;

export function createMalformedLinesLog(logger: Pick<Logger, 'warn'>, file: string): MalformedLinesReport {
  let present = new Set<string>();
  return (lines) => {
    const now = new Set(lines);
    let fresh = 0;
    for (const line of now) {
      if (present.has(line)) continue;
      if (++fresh <= LOGGED_LINES_PER_TABLE) {
        logger.warn('skipping a malformed mount table line', { file, line: truncate(line), length: line.length });
      }
    }
    if (fresh > LOGGED_LINES_PER_TABLE) {
      logger.warn('skipping more malformed mount table lines', { file, lines: fresh - LOGGED_LINES_PER_TABLE });
    }
    present = now;
  };
}

function truncate(line: string): string {
  return line.length <= LOGGED_LINE_CHARS ? line : `${line.slice(0, LOGGED_LINE_CHARS)}…`;
}

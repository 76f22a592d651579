// Line protocol between the daemon and its probe helper process.
//   request:  <id>\t<JSON path>\n
//   response: <id>\tok\t<major:minor>\t<ino>\n
//             <id>\terr\t<CODE>\t<JSON message>\n
//   start:    ready\n  (the helper reads requests from now on)
//   liveness: ping\n  →  pong\n  (answered by the helper's event loop, no syscall)
// Paths are JSON-quoted because mount points may hold tabs and newlines.

export const READY = 'ready';
export const PING = 'ping';
export const PONG = 'pong';

import { constants } from 'node:os';

export type HelperResponse =
  | { readonly id: number; readonly ok: true; readonly dev: string; readonly ino: string }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

export function encodeRequest(id: number, path: string): string {
  return `${id}\t${JSON.stringify(path)}\n`;
}

export function decodeRequest(line: string): { id: number; path: string } | undefined {
  const tab = line.indexOf('\t');
  if (tab <= 0) return undefined;
  const id = Number(line.slice(0, tab));
  if (!Number.isSafeInteger(id)) return undefined;
  try {
    const path: unknown = JSON.parse(line.slice(tab + 1));
    return typeof path === 'string' ? { id, path } : undefined;
  } catch {
    return undefined;
  }
}

export function encodeOk(id: number, dev: string, ino: string): string {
  return `${id}\tok\t${dev}\t${ino}\n`;
}

export function encodeErr(id: number, code: string, message: string): string {
  return `${id}\terr\t${code.replace(/\s/g, '_')}\t${JSON.stringify(message)}\n`;
}

export function decodeResponse(line: string): HelperResponse | undefined {
  const f = line.split('\t');
  const id = Number(f[0]);
  if (!Number.isSafeInteger(id)) return undefined;
  if (f[1] === 'ok' && f.length === 4) return { id, ok: true, dev: f[2]!, ino: f[3]! };
  if (f[1] === 'err' && f.length === 4) {
    let message: string;
    try {
      message = String(JSON.parse(f[3]!));
    } catch {
      message = f[3]!;
    }
    return { id, ok: false, code: f[2]!, message };
  }
  return undefined;
}

/** Linux dev_t → `major:minor`, the way the mount table prints it. */
export function devToString(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The errno name of a failed fs call; libuv has no code for some (ESTALE shows as "Unknown system error -116"). */
export function errnoName(err: NodeJS.ErrnoException): string {
  if (err.code && /^E[A-Z0-9]+$/.test(err.code)) return err.code;
  return (err.errno !== undefined && ERRNO_NAMES.get(Math.abs(err.errno))) || 'EUNKNOWN';
}

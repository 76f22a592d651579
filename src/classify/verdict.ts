// From what was observed to a state and a reason. Pure.

import type { MountEntry } from '../mounts/mountinfo.js';
import type { ProbeOutcome } from '../probe/probe-runner.js';
import type { PathState } from '../types.js';

export interface Verdict {
  readonly state: PathState;
  readonly detail: string;
}

/** No verdict: keep what was known (helper died, mount table changed under the probe). */
export interface Inconclusive {
  readonly inconclusive: string;
}

const ERRNO_STATES: Record<string, PathState> = {
  ENOTCONN: 'disconnected',
  // The kernel ends every request a FUSE connection held, read or queued, with ECONNABORTED when
  // the client dies; only requests sent afterwards get ENOTCONN. Both mean the client is gone.
  ECONNABORTED: 'disconnected',
  EIO: 'io_error',
  ESTALE: 'stale',
  EACCES: 'permission_denied',
  EPERM: 'permission_denied',
  ENOENT: 'not_found',
};

export function stateForErrno(code: string): PathState {
  return ERRNO_STATES[code] ?? 'error';
}

// The C library's words, which operators search for ("transport endpoint is not connected").
const STRERROR: Record<string, string> = {
  ENOTCONN: 'Transport endpoint is not connected',
  EIO: 'Input/output error',
  ESTALE: 'Stale file handle',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EINTR: 'Interrupted system call',
  ENODEV: 'No such device',
  ENXIO: 'No such device or address',
  ECONNREFUSED: 'Connection refused',
  ECONNABORTED: 'Software caused connection abort',
  ETIMEDOUT: 'Connection timed out',
  EHOSTDOWN: 'Host is down',
  ENOMEM: 'Cannot allocate memory',
};

/** `ENOTCONN: Transport endpoint is not connected`, from an errno name and libuv's message. */
export function errnoDetail(code: string, message: string): string {
  const text = STRERROR[code] ?? message.replace(/^[A-Za-z0-9_ -]+?: /, '').replace(/, lstat '.*'$/s, '');
  return `${code}: ${text}`;
}

export const JUICEFS_FSTYPE = 'fuse.juicefs';

export function probeVerdict(outcome: ProbeOutcome, entry: MountEntry, now: number): Verdict | Inconclusive {
  switch (outcome.kind) {
    case 'ok': {
      if (outcome.dev !== entry.dev) {
        return { inconclusive: `stat reports device ${outcome.dev}, mount table ${entry.dev}: the mount changed under the probe` };
      }
      // A JuiceFS file system's root is inode 1; anything else at a root mount is not JuiceFS answering.
      if (entry.fsType === JUICEFS_FSTYPE && entry.root === '/' && outcome.ino !== '1') {
        return { state: 'error', detail: `mount root has inode ${outcome.ino}, a JuiceFS root has inode 1` };
      }
      return { state: 'healthy', detail: '' };
    }
    case 'error':
      return { state: stateForErrno(outcome.code), detail: errnoDetail(outcome.code, outcome.message) };
    case 'timeout':
      return { state: 'timeout', detail: `no answer to stat within ${formatMs(outcome.timeoutMs)}` };
    case 'stuck':
      return {
        state: 'timeout',
        detail: `stat blocked for ${formatMs(now - outcome.since)} (since ${new Date(outcome.since).toISOString()}); not probed again until it returns`,
      };
    case 'lost':
      return { inconclusive: outcome.reason };
  }
}

export function wrongTypeVerdict(entry: MountEntry, expected: ReadonlySet<string>): Verdict {
  return { state: 'wrong_fstype', detail: `mounted as ${entry.fsType} from ${entry.source}, expected ${[...expected].join(' or ')}` };
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms >= 60_000 && (ms % 60_000 === 0 || ms >= 120_000)) return `${Math.round(ms / 60_000)}m`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

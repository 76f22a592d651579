import test from 'ava';
import { errnoDetail, probeVerdict, stateForErrno, wrongTypeVerdict } from '../../src/classify/verdict.js';
import type { MountEntry } from '../../src/mounts/mountinfo.js';

const entry = (over: Partial<MountEntry> = {}): MountEntry => ({
  id: 1,
  parentId: 0,
  dev: '0:53',
  root: '/pvc-1',
  mountPoint: '/m',
  fsType: 'fuse.juicefs',
  source: 'JuiceFS:v',
  ...over,
});

test('errno names map to the documented states', (t) => {
  t.is(stateForErrno('ENOTCONN'), 'disconnected');
  t.is(stateForErrno('EIO'), 'io_error');
  t.is(stateForErrno('ESTALE'), 'stale');
  t.is(stateForErrno('EACCES'), 'permission_denied');
  t.is(stateForErrno('EPERM'), 'permission_denied');
  t.is(stateForErrno('ELOOP'), 'error');
});

test('error detail uses the C library wording operators search for', (t) => {
  t.is(errnoDetail('ENOTCONN', "ENOTCONN: socket is not connected, lstat '/x'"), 'ENOTCONN: Transport endpoint is not connected');
  t.is(errnoDetail('EWEIRD', "EWEIRD: something odd, lstat '/x y'"), 'EWEIRD: something odd');
});

test('a stat that answers with the mount table’s device is healthy', (t) => {
  t.deepEqual(probeVerdict({ kind: 'ok', dev: '0:53', ino: '77', ms: 1 }, entry(), 0), { state: 'healthy', detail: '' });
});

test('a JuiceFS root mount must answer with inode 1', (t) => {
  const root = entry({ root: '/' });
  t.is((probeVerdict({ kind: 'ok', dev: '0:53', ino: '1', ms: 1 }, root, 0) as { state: string }).state, 'healthy');
  const v = probeVerdict({ kind: 'ok', dev: '0:53', ino: '42', ms: 1 }, root, 0) as { state: string; detail: string };
  t.is(v.state, 'error');
  t.regex(v.detail, /inode 42/);
  // Other FUSE types are not held to JuiceFS's inode numbering.
  t.is((probeVerdict({ kind: 'ok', dev: '0:53', ino: '42', ms: 1 }, entry({ root: '/', fsType: 'fuse.other' }), 0) as { state: string }).state, 'healthy');
});

test('a device mismatch or a lost helper gives no verdict', (t) => {
  t.true('inconclusive' in probeVerdict({ kind: 'ok', dev: '0:99', ino: '1', ms: 1 }, entry(), 0));
  t.true('inconclusive' in probeVerdict({ kind: 'lost', reason: 'gone' }, entry(), 0));
});

test('timeouts and stuck probes are `timeout` with how long', (t) => {
  t.like(probeVerdict({ kind: 'timeout', ms: 5012, timeoutMs: 5000 }, entry(), 0), { state: 'timeout', detail: 'no answer to stat within 5.0s' });
  const v = probeVerdict({ kind: 'stuck', since: 0 }, entry(), 90_000) as { state: string; detail: string };
  t.is(v.state, 'timeout');
  t.regex(v.detail, /blocked for 90s/);
});

test('wrong type names what was found and what was expected', (t) => {
  t.deepEqual(wrongTypeVerdict(entry({ fsType: 'tmpfs', source: 'tmpfs' }), new Set(['fuse.juicefs'])), {
    state: 'wrong_fstype',
    detail: 'mounted as tmpfs from tmpfs, expected fuse.juicefs',
  });
});

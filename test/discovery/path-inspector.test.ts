// The inspector's decisions for a path the mount table does not list, on a fake
// of the two file operations it makes: no mounts, no root.

import test from 'ava';
import { createPathInspector, type InspectorFs } from '../../src/discovery/path-inspector.js';
import type { VolumePath } from '../../src/types.js';

const PV_DIR = '/k/pods/u1/volumes/kubernetes.io~csi/pv-a';
const volume: VolumePath = { path: `${PV_DIR}/mount`, kind: 'volume', podUid: 'u1', pv: 'pv-a', volumeId: 'h-a', driver: 'csi.juicefs.com' };
const SUB_DIR = '/k/pods/u1/volume-subpaths/data/app';
const subpath: VolumePath = { ...volume, path: `${SUB_DIR}/0`, kind: 'subpath', subpath: { volumeName: 'data', container: 'app', index: '0' } };

const errno = (code: string) => Object.assign(new Error(code), { code });

/** A directory tree as a map: dir → entries (a symlink entry ends with '@'), or an error to throw. */
function fakeFs(dirs: Record<string, string[] | Error>, mtimes: Record<string, number | Error> = {}): InspectorFs & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async listEntries(dir) {
      calls.push(`list ${dir}`);
      const d = dirs[dir];
      if (d === undefined) throw errno('ENOENT');
      if (d instanceof Error) throw d;
      return d.map((n) => ({ name: n.replace(/@$/, ''), symlink: n.endsWith('@') }));
    },
    async mtimeMs(dir) {
      calls.push(`mtime ${dir}`);
      const m = mtimes[dir] ?? 1000;
      if (m instanceof Error) throw m;
      return m;
    },
  };
}

test('a published volume with its mount directory and nothing mounted is unmounted, published at the directory mtime', async (t) => {
  const fs = fakeFs({ [PV_DIR]: ['vol_data.json', 'mount'] }, { [PV_DIR]: 1234 });
  t.deepEqual(await createPathInspector(fs).inspect(volume), { kind: 'unmounted', publishedAt: 1234 });
  t.deepEqual(fs.calls, [`list ${PV_DIR}`, `mtime ${PV_DIR}`], 'only the parent is read; the mount path itself is never touched');
});

test('a published volume without its mount directory is missing', async (t) => {
  const fs = fakeFs({ [PV_DIR]: ['vol_data.json'] }, { [PV_DIR]: 99 });
  t.deepEqual(await createPathInspector(fs).inspect(volume), { kind: 'missing', publishedAt: 99 });
});

test('a volume whose vol_data.json is gone is being torn down', async (t) => {
  const r = await createPathInspector(fakeFs({ [PV_DIR]: ['mount'] })).inspect(volume);
  t.deepEqual(r, { kind: 'gone', why: 'vol_data.json is gone' });
});

test('a volume whose directory is gone, or is no directory any more, is gone', async (t) => {
  t.deepEqual(await createPathInspector(fakeFs({})).inspect(volume), { kind: 'gone', why: `${PV_DIR} is gone` });
  t.is((await createPathInspector(fakeFs({ [PV_DIR]: errno('ENOTDIR') })).inspect(volume)).kind, 'gone');
});

test('a directory that cannot be listed for another reason gives no answer, with the error', async (t) => {
  const err = errno('EACCES');
  t.deepEqual(await createPathInspector(fakeFs({ [PV_DIR]: err })).inspect(volume), { kind: 'unknown', error: err });
});

test('the directory vanishing between the listing and its mtime is gone; another mtime error gives no answer', async (t) => {
  const dirs = { [PV_DIR]: ['vol_data.json', 'mount'] };
  t.deepEqual(await createPathInspector(fakeFs(dirs, { [PV_DIR]: errno('ENOENT') })).inspect(volume), { kind: 'gone', why: `${PV_DIR} is gone` });
  t.is((await createPathInspector(fakeFs(dirs, { [PV_DIR]: errno('EIO') })).inspect(volume)).kind, 'unknown');
});

test('a mount directory that is a symlink is reported as one, never followed', async (t) => {
  const fs = fakeFs({ [PV_DIR]: ['vol_data.json', 'mount@'] }, { [PV_DIR]: 7 });
  t.deepEqual(await createPathInspector(fs).inspect(volume), { kind: 'symlink', publishedAt: 7 });
  t.false(fs.calls.some((c) => c.includes('/mount')), 'nothing below the link is read');
});

test('a subPath needs no vol_data.json: present is unmounted, absent is gone', async (t) => {
  t.deepEqual(await createPathInspector(fakeFs({ [SUB_DIR]: ['0', '1'] }, { [SUB_DIR]: 5 })).inspect(subpath), { kind: 'unmounted', publishedAt: 5 });
  t.deepEqual(await createPathInspector(fakeFs({ [SUB_DIR]: ['1'] })).inspect(subpath), { kind: 'gone', why: 'subPath entry is gone' });
});

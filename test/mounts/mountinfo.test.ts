import test from 'ava';
import { escapeMountPath, parseMountInfo, parseMountInfoLine, unescapeMountPath } from '../../src/mounts/mountinfo.js';
import { buildMountTable, readMountTable } from '../../src/mounts/mount-table.js';
import { MalformedFileError } from '../../src/errors.js';

const FUSE = '1234 29 0:53 / /var/lib/juicefs/volume/pvc-1 rw,relatime shared:700 - fuse.juicefs JuiceFS:myjfs rw,user_id=0,group_id=0,default_permissions,allow_other';
const BIND = '1300 1200 0:53 /pvc-1 /var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pvc-1/mount rw,relatime shared:700 - fuse.juicefs JuiceFS:myjfs rw,user_id=0';

test('parses the fields the prober uses from a FUSE mount line', (t) => {
  t.deepEqual(parseMountInfoLine(FUSE), {
    id: 1234,
    parentId: 29,
    dev: '0:53',
    root: '/',
    mountPoint: '/var/lib/juicefs/volume/pvc-1',
    fsType: 'fuse.juicefs',
    source: 'JuiceFS:myjfs',
  });
});

test('a bind mount keeps the root it was bound from', (t) => {
  t.is(parseMountInfoLine(BIND)?.root, '/pvc-1');
});

test('lines without optional fields and with several of them both parse', (t) => {
  t.truthy(parseMountInfoLine('22 1 8:1 / / rw - ext4 /dev/sda1 rw'));
  t.is(parseMountInfoLine('22 1 8:1 / /x rw shared:1 master:2 propagate_from:3 - ext4 /dev/sda1 rw')?.fsType, 'ext4');
});

test('octal escapes for space, tab, newline and backslash are decoded', (t) => {
  const line = '40 1 0:60 / /pods/a\\040b\\011c\\012d\\134e rw - tmpfs tmpfs rw';
  t.is(parseMountInfoLine(line)?.mountPoint, '/pods/a b\tc\nd\\e');
});

test('escape and unescape round-trip', (t) => {
  const p = '/a b\tc\nd\\e/ünï';
  t.is(unescapeMountPath(escapeMountPath(p)), p);
  t.false(escapeMountPath(p).includes(' '));
});

test('malformed lines are counted and skipped without hiding good lines beside them', (t) => {
  const text = ['garbage', FUSE, '1 2 3', '12 x 0:1 / /a rw - ext4 a rw', BIND, '13 1 0:1 / /no-separator rw ext4 a rw', ''].join('\n');
  const parsed = parseMountInfo(text);
  t.is(parsed.entries.length, 2);
  t.is(parsed.malformed, 4);
});

test('the mount on top of a stack is the one at the path', (t) => {
  const a = parseMountInfoLine('100 1 0:50 / /m rw - fuse.juicefs a rw')!;
  const b = parseMountInfoLine('101 100 0:51 / /m rw - tmpfs tmpfs rw')!;
  t.is(buildMountTable([a, b]).at('/m')?.fsType, 'tmpfs');
  t.is(buildMountTable([b, a]).at('/m')?.fsType, 'tmpfs', 'order in the file does not matter when parentage says');
});

test('an unreadable or empty mount table is a MalformedFileError naming the file', async (t) => {
  const err = await t.throwsAsync(readMountTable('/nonexistent/mountinfo'), { instanceOf: MalformedFileError });
  t.regex(err!.message, /\/nonexistent\/mountinfo/);
  await t.throwsAsync(readMountTable('x', async () => 'junk\n'), { instanceOf: MalformedFileError });
});

test('this process’s real mount table parses without malformed lines', async (t) => {
  const table = await readMountTable('/proc/self/mountinfo');
  t.true(table.size > 0);
  t.is(table.malformed, 0);
  t.truthy(table.at('/'));
});

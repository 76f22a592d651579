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
    mountOptions: 'rw,relatime',
    optionalFields: ['shared:700'],
    superOptions: 'rw,user_id=0,group_id=0,default_permissions,allow_other',
  });
});

// Lines as this machine's kernel wrote them (6.18), copied from /proc/self/mountinfo.
test('an nsfs mount, whose root is the namespace and not a path, parses', (t) => {
  const e = parseMountInfoLine('421 420 0:4 net:[4026532176] /run/netns/cni-0f1e rw shared:2 - nsfs nsfs rw');
  t.like(e, { root: 'net:[4026532176]', mountPoint: '/run/netns/cni-0f1e', fsType: 'nsfs', source: 'nsfs' });
  t.is(parseMountInfoLine('88 30 0:4 mnt:[4026532710] /run/ns/mnt rw - nsfs nsfs rw')?.root, 'mnt:[4026532710]');
});

test('an empty source is an empty field, and no source at all is "none"', (t) => {
  t.like(parseMountInfoLine('418 398 0:41 / /tmp/empty rw,relatime - tmpfs  rw'), { fsType: 'tmpfs', source: '', superOptions: 'rw' });
  t.like(parseMountInfoLine('418 398 0:41 / /tmp/null rw,relatime - tmpfs none rw'), { source: 'none' });
});

test('the source and the file system options are decoded too', (t) => {
  const e = parseMountInfoLine('419 418 0:42 / /tmp/x rw,relatime - tmpfs a\\040b\\011c\\134d,e rw,size=1024k,mode=755,x=1\\0542');
  t.is(e?.source, 'a b\tc\\d,e');
  t.is(e?.superOptions, 'rw,size=1024k,mode=755,x=1,2');
});

test('overlay, CephFS and FUSE subtypes keep their colons, commas and dots', (t) => {
  const overlay = parseMountInfoLine(
    '2301 2288 0:412 / /run/containerd/io.containerd.runtime.v2.task/k8s.io/3f2a/rootfs rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/snapshots/12/fs:/var/lib/containerd/snapshots/11/fs,upperdir=/var/lib/containerd/snapshots/13/fs,workdir=/var/lib/containerd/snapshots/13/work',
  );
  t.is(overlay?.superOptions.split(',')[1], 'lowerdir=/var/lib/containerd/snapshots/12/fs:/var/lib/containerd/snapshots/11/fs');
  const ceph = parseMountInfoLine('77 30 0:90 /volumes/csi/csi-vol-1 /k/pods/u/volumes/kubernetes.io~csi/pvc-c/mount rw,relatime shared:40 - ceph 10.0.0.1:6789,10.0.0.2:6789:/volumes/csi/csi-vol-1 rw,name=admin,secret=<hidden>,acl');
  t.is(ceph?.source, '10.0.0.1:6789,10.0.0.2:6789:/volumes/csi/csi-vol-1');
  t.is(parseMountInfoLine('90 30 0:91 / /mnt/s rw,nosuid,nodev - fuse.sshfs me@host:/srv rw,user_id=0,group_id=0')?.fsType, 'fuse.sshfs');
});

test('every tagged field is kept, in order', (t) => {
  const e = parseMountInfoLine('22 1 8:1 / /x rw shared:1 master:2 propagate_from:3 unbindable - ext4 /dev/sda1 rw');
  t.deepEqual(e?.optionalFields, ['shared:1', 'master:2', 'propagate_from:3', 'unbindable']);
});

test('a line missing its file system options, or with options the kernel never writes, is malformed', (t) => {
  t.is(parseMountInfoLine('22 1 8:1 / /x rw - ext4 /dev/sda1'), undefined);
  t.is(parseMountInfoLine('22 1 8:1 / /x rw - ext4 /dev/sda1 '), undefined);
  t.is(parseMountInfoLine('22 1 8:1 / /x rw - ext4 /dev/sda1 defaults'), undefined);
  t.is(parseMountInfoLine('22 1 8:1 / /x defaults - ext4 /dev/sda1 rw'), undefined);
  t.is(parseMountInfoLine('22 1 8:1 / x rw - ext4 /dev/sda1 rw'), undefined, 'a mount point is a path');
  t.is(parseMountInfoLine('22 1 8:1  /x rw - ext4 /dev/sda1 rw'), undefined, 'a root is never empty');
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
  const seen: string[] = [];
  const parsed = parseMountInfo(text, (line) => seen.push(line));
  t.is(parsed.entries.length, 2);
  t.is(parsed.malformed, 4);
  t.deepEqual(seen, ['garbage', '1 2 3', '12 x 0:1 / /a rw - ext4 a rw', '13 1 0:1 / /no-separator rw ext4 a rw']);
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

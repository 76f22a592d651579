// The parser on this machine's own mount table, with what a node adds to it: a
// network namespace (nsfs, root `net:[…]`) and tmpfs mounts at a path with every
// character the kernel escapes and with an empty or odd source.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMountTableReader } from '../../src/mounts/mount-table.js';
import { parseMountInfo } from '../../src/mounts/mountinfo.js';
import { requires } from '../fixtures/harness.js';
import { forceUnmount } from '../fixtures/mounts.js';
import { addNetns, NETNS_DIR } from '../fixtures/netns.js';

const hostTest = requires('mounts', { tool: 'ip', why: 'iproute2, for ip netns' });

hostTest('the real mount table after ip netns add and tmpfs mounts at odd paths parses whole, and finds them at their exact paths', async (t) => {
  const netns = `jfs-prober-test-${process.pid}`;
  t.teardown(addNetns(netns));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mi-host-'));
  const odd = path.join(dir, 'a b\tc\\d\ne f');
  const named = path.join(dir, 'named');
  t.teardown(() => {
    forceUnmount(odd);
    forceUnmount(named);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  for (const d of [odd, named]) fs.mkdirSync(d);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', '', odd]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=700', 'my src\\,x', named]);

  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const raw = text.split('\n').find((l) => l.includes('/a\\040b\\011c\\134d\\012e\\040f '));
  t.regex(raw ?? '', / - tmpfs  rw/, 'the kernel escaped the path and wrote the empty source as an empty field');
  const warned: unknown[] = [];
  const table = await createMountTableReader('/proc/self/mountinfo', { logger: { warn: (_msg, fields) => void warned.push(fields) } })();
  t.is(table.malformed, 0);
  t.deepEqual(warned, []);
  t.like(table.at(odd), { fsType: 'tmpfs', source: '', root: '/' });
  t.like(table.at(named), { fsType: 'tmpfs', source: 'my src\\,x' });
  t.like(table.at(`${NETNS_DIR}/${netns}`), { fsType: 'nsfs', source: 'nsfs' });
  t.regex(table.at(`${NETNS_DIR}/${netns}`)!.root, /^net:\[\d+\]$/);
  const named2 = parseMountInfo(text).entries.find((e) => e.mountPoint === named);
  t.regex(named2?.superOptions ?? '', /^rw,size=1024k,mode=700/);
});

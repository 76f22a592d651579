// A malformed mount table line is logged once while it stays, again when it
// comes back, and counted as a gauge of the current table.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MalformedFileError } from '../../src/errors.js';
import { LOGGED_LINE_CHARS, LOGGED_LINES_PER_TABLE } from '../../src/mounts/malformed-lines.js';
import { createMountTableReader } from '../../src/mounts/mount-table.js';
import { core } from '../faults/core.js';
import { sampleValue } from '../fixtures/metrics-text.js';
import { scrapeText } from '../fixtures/metrics.js';

const GOOD = '22 1 8:1 / / rw shared:1 - ext4 /dev/sda1 rw';
const OTHER = '23 22 0:4 net:[4026532174] /run/netns/x rw shared:3 - nsfs nsfs rw';
const BAD_A = '24 22 0:5 / /broken rw shared:4 - tmpfs';
const BAD_B = 'not a mount table line';

function reader() {
  let text = '';
  const warned: Record<string, unknown>[] = [];
  const read = createMountTableReader('/proc/self/mountinfo', {
    read: async () => text,
    logger: { warn: (msg, fields) => void warned.push({ msg, ...fields }) },
  });
  return {
    warned,
    /** The lines logged since the last call. */
    async next(...lines: string[]) {
      text = lines.join('\n') + '\n';
      const before = warned.length;
      const table = await read();
      return { table, logged: warned.slice(before).map((w) => w.line ?? w.lines) };
    },
  };
}

test('a malformed line is logged once while it stays in the table, and again when it comes back', async (t) => {
  const r = reader();
  let step = await r.next(GOOD, BAD_A);
  t.deepEqual(step.logged, [BAD_A]);
  t.is(step.table.malformed, 1);
  t.deepEqual((await r.next(GOOD, BAD_A)).logged, [], 'the same text, not parsed again');
  t.deepEqual((await r.next(GOOD, OTHER, BAD_A)).logged, [], 'the table changed, the line did not');
  step = await r.next(GOOD, BAD_A, OTHER, BAD_B);
  t.deepEqual(step.logged, [BAD_B], 'only the new one');
  t.is(step.table.malformed, 2);
  step = await r.next(GOOD, OTHER);
  t.deepEqual(step.logged, []);
  t.is(step.table.malformed, 0);
  t.deepEqual((await r.next(GOOD, BAD_A)).logged, [BAD_A], 'gone and back is news again');
  t.like(r.warned[0], { msg: 'skipping a malformed mount table line', file: '/proc/self/mountinfo', line: BAD_A, length: BAD_A.length });
});

test('a long malformed line is logged cut short, and a flood of new ones as a few lines and a sum', async (t) => {
  const r = reader();
  const long = `25 22 0:6 / /long rw - overlay overlay ${'x'.repeat(5000)}`;
  const [logged] = (await r.next(GOOD, long)).logged as string[];
  t.is(logged, `${long.slice(0, LOGGED_LINE_CHARS)}…`);
  t.is(r.warned[0]!.length, long.length);

  const flood = Array.from({ length: 25 }, (_, i) => `junk ${i}`);
  const step = await r.next(GOOD, ...flood);
  t.deepEqual(step.logged, [...flood.slice(0, LOGGED_LINES_PER_TABLE), 25 - LOGGED_LINES_PER_TABLE]);
  t.is(r.warned.at(-1)!.msg, 'skipping more malformed mount table lines');
  t.is(step.table.malformed, 25);
});

test('a file with no mount line at all is one error for the file, not a line logged for each of its lines', async (t) => {
  const r = reader();
  await t.throwsAsync(r.next(BAD_A, BAD_B), { instanceOf: MalformedFileError, message: /no mount entries \(2 malformed lines\)/ });
  t.deepEqual(r.warned, []);
});

test('the daemon exports the malformed lines of the current table as a gauge and logs each line once', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mi-gauge-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'pods'));
  const mountinfo = path.join(dir, 'mountinfo');
  fs.writeFileSync(mountinfo, [GOOD, OTHER, BAD_A, ''].join('\n'));
  const { core: c, logs } = await core(['--kubelet-dir', dir, '--mountinfo', mountinfo]);
  t.teardown(() => c.close());
  const gauge = async () => sampleValue(await scrapeText(c.metrics), 'juicefs_path_prober_mount_table_malformed_lines');
  const logged = () => logs.filter((l) => l.msg === 'skipping a malformed mount table line').map((l) => l.line);

  t.is(await gauge(), 0, 'exported before the first cycle');
  await c.runCycle();
  await c.runCycle();
  t.is(await gauge(), 1);
  t.deepEqual(logged(), [BAD_A]);
  fs.writeFileSync(mountinfo, [GOOD, OTHER, ''].join('\n'));
  await c.runCycle();
  t.is(await gauge(), 0, 'falls back when the line goes');
  t.deepEqual(logged(), [BAD_A]);
});

// docs/reference.md's flag table is the flag table of src/cli/args.ts: every flag, its
// environment variable, its default, and the lower bound of each duration.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { DURATION_RANGES, FLAGS } from '../../src/cli/args.js';
import { formatDuration } from '../../src/cli/duration.js';
import { ROOT } from './markdown.js';

interface Row {
  readonly env: string;
  readonly def: string;
  readonly values: string;
}

function flagRows(markdown: string): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const m of markdown.matchAll(/^\| `--([a-z-]+)` \| `([A-Z_]+)` \| ([^|]+) \| ([^|]+) \|/gm)) {
    rows.set(m[1]!, { env: m[2]!, def: m[3]!.trim(), values: m[4]!.trim() });
  }
  return rows;
}

/** Mismatches between a flag table and the code's. */
function mismatches(rows: ReadonlyMap<string, Row>): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(FLAGS)) {
    const row = rows.get(name);
    if (!row) {
      out.push(`--${name}: no row`);
      continue;
    }
    if (row.env !== spec.env) out.push(`--${name}: environment ${row.env}, code ${spec.env}`);
    // An empty default is described in words (the hostname, the in-cluster service account).
    if (spec.def !== '' && row.def !== `\`${spec.def}\``) out.push(`--${name}: default ${row.def}, code \`${spec.def}\``);
    const range = DURATION_RANGES[name];
    if (range) {
      const min = range.min === 0 ? '0s' : formatDuration(range.min);
      if (!row.values.includes(`\`${min}\` to about 24 days`)) out.push(`--${name}: range should read \`${min}\` to about 24 days`);
    }
  }
  for (const name of rows.keys()) if (!(name in FLAGS)) out.push(`--${name}: not a flag`);
  return out;
}

const reference = fs.readFileSync(path.join(ROOT, 'docs', 'reference.md'), 'utf8');

test('docs/reference.md lists every flag with its environment variable, default and duration range', (t) => {
  t.deepEqual(mismatches(flagRows(reference)), []);
});

test('the flag table check sees a changed default, a wrong range, a missing and an extra flag', (t) => {
  const rows = flagRows(reference);
  const edited = new Map(rows);
  edited.set('timeout', { ...rows.get('timeout')!, def: '`10s`' });
  edited.set('interval', { ...rows.get('interval')!, values: 'time between probe cycles: `1s` to about 24 days' });
  edited.delete('listen');
  edited.set('retries', { env: 'JFS_PROBER_RETRIES', def: '`3`', values: '' });
  t.deepEqual(mismatches(edited), [
    '--interval: range should read `100ms` to about 24 days',
    '--timeout: default `10s`, code `5s`',
    '--listen: no row',
    '--retries: not a flag',
  ]);
});

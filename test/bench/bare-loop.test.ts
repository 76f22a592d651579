import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BARE_LOOP = fileURLToPath(new URL('../../bench/lib/bare-loop.js', import.meta.url));
const hasCc = spawnSync('cc', ['--version']).status === 0;

(hasCc || process.env.CI === 'true' ? test : test.skip)(`the bench's compiled stat loop is gone from the temp dir once the bench exits${hasCc ? '' : ' [skipped: needs a C compiler]'}`, (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-bench-tmp-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const script = `
    const { runBareLoop } = await import(${JSON.stringify(BARE_LOOP)});
    const r = runBareLoop(['/'], 1, 1);
    const fs = await import('node:fs');
    console.log(JSON.stringify({ failures: r.failures, during: fs.readdirSync(process.env.TMPDIR) }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { failures: number; during: string[] };
  t.is(out.failures, 0);
  t.is(out.during.length, 1, 'built in the temp dir while running');
  t.deepEqual(fs.readdirSync(tmp), [], 'and removed when the process ended');
});

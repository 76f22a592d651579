// The pool's spawns of helpers that die: real processes, the gap between
// spawns on the manual clock.

import test from 'ava';
import { spawn } from 'node:child_process';
import { createLogger } from '../../src/log/logger.js';
import { createHelperPool } from '../../src/probe/helper-pool.js';
import { spawnNodeHelper, type SpawnHelper } from '../../src/probe/helper-process.js';
import { eventually } from '../fixtures/harness.js';
import { manualTime } from '../fixtures/manual-time.js';

const logger = createLogger({ write: () => {} });
/** A helper that cannot start: it exits before it says ready. */
const broken: SpawnHelper = () => spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: ['pipe', 'pipe', 'pipe'] });

test('a helper that cannot start is spawned again less and less often; one that starts makes the next gap short again', async (t) => {
  const time = manualTime();
  let spawns = 0;
  let working = false;
  const pool = createHelperPool({ logger, clock: time.clock, respawnDelayMs: 1000, spawnHelper: (n) => (spawns++, working ? spawnNodeHelper(n) : broken(n)) });
  t.teardown(() => pool.close());
  const exits = (n: number) => eventually(`${n} unexpected exits`, () => pool.stats().unexpectedExits === n);
  pool.request('/').done.catch(() => {});
  await exits(1);
  for (const [i, gap] of [1000, 2000, 4000].entries()) {
    time.advance(gap - 1);
    t.is(spawns, i + 1, `no spawn before ${gap} ms`);
    time.advance(1);
    t.is(spawns, i + 2, `a spawn at ${gap} ms`);
    await exits(i + 2);
  }
  // The next one starts and answers; once it dies, the gap is back to its start.
  working = true;
  time.advance(8000);
  const answered = pool.request('/');
  t.like(await answered.done, { ok: true });
  t.is(spawns, 5);
  for (const pid of pool.stats().pids) process.kill(pid, 'SIGKILL');
  await exits(5);
  pool.request('/').done.catch(() => {});
  await time.settle(0);
  time.advance(999);
  t.is(spawns, 5);
  time.advance(1);
  t.is(spawns, 6);
});

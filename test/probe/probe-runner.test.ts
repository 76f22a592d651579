import path from 'node:path';
import { createHelperPool } from '../../src/probe/helper-pool.js';
import { createProbeRunner } from '../../src/probe/probe-runner.js';
import { createLogger } from '../../src/log/logger.js';
import type { Clock } from '../../src/shared/clock.js';
import { eventually, mountTest, sandbox } from '../fixtures/harness.js';
import { manualTime } from '../fixtures/manual-time.js';
import { startFuse } from '../fixtures/mounts.js';

const box = sandbox();
const base = box.tree('runner').root;

const logger = createLogger({ write: () => {} });
function pool(threads = 16, reserve = 4, clock?: Clock) {
  const p = createHelperPool({ logger, threads, reserve, ...(clock ? { clock } : {}) });
  box.defer(() => p.close());
  return p;
}

mountTest('a healthy mount answers with its device and root inode', async (t) => {
  const fuse = await startFuse(path.join(base, 'healthy'));
  const runner = createProbeRunner({ pool: pool(), timeoutMs: 2000 });
  const r = await runner.probe('k', fuse.mnt);
  t.like(r, { kind: 'ok', dev: fuse.dev, ino: '1' });
});

mountTest('errors come back with their errno name, ESTALE included', async (t) => {
  const runner = createProbeRunner({ pool: pool(), timeoutMs: 2000 });
  for (const [mode, code] of [['eio', 'EIO'], ['estale', 'ESTALE'], ['eacces', 'EACCES']] as const) {
    const fuse = await startFuse(path.join(base, mode), { mode });
    t.like(await runner.probe(mode, fuse.mnt), { kind: 'error', code }, mode);
  }
  const dead = await startFuse(path.join(base, 'dead'));
  await dead.kill();
  t.like(await runner.probe('dead', dead.mnt), { kind: 'error', code: 'ENOTCONN' });
  t.like(await runner.probe('missing', path.join(base, 'nope')), { kind: 'error', code: 'ENOENT' });
});

mountTest('one call per source: concurrent callers share it, and after a timeout no new syscall is issued', async (t) => {
  const fuse = await startFuse(path.join(base, 'hungread'), { mode: 'hungread' });
  const time = manualTime();
  const p = pool(16, 4, time.clock);
  const runner = createProbeRunner({ pool: p, timeoutMs: 300, clock: time.clock });
  const both = Promise.all([runner.probe('src', fuse.mnt), runner.probe('src', fuse.mnt)]);
  await eventually('the call sent, its deadline set', () => time.armed() === 1);
  time.advance(299);
  t.is(runner.stuck().length, 0, 'not timed out before its deadline');
  time.advance(1);
  const [a, b] = await both;
  t.like(a, { kind: 'timeout', timeoutMs: 300 }, 'a timeout says the limit it ran out');
  t.is(b, a, 'the second caller joined the first call');
  for (let i = 0; i < 5; i++) t.is((await runner.probe('src', fuse.mnt)).kind, 'stuck');
  t.is(p.stats().inFlight, 1, 'one request sent to the helpers');
  t.is(await eventually('the request at the client', async () => (await fuse.stats()).held || undefined), 1, 'exactly one request reached the hung client');
  t.is(runner.stuck().length, 1);
  t.is(runner.inFlight(), 1);
});

mountTest('when the stuck call returns, the source is released and probed again', async (t) => {
  const fuse = await startFuse(path.join(base, 'recover'), { mode: 'hungread' });
  const time = manualTime();
  const runner = createProbeRunner({ pool: pool(16, 4, time.clock), timeoutMs: 300, clock: time.clock });
  const released = new Promise<string>((r) => runner.onRelease(r));
  const first = runner.probe('src', fuse.mnt);
  await eventually('the call sent, its deadline set', () => time.armed() === 1);
  time.advance(300);
  t.is((await first).kind, 'timeout');
  await fuse.setMode('healthy');
  t.is(await released, 'src');
  t.is(runner.stuck().length, 0);
  t.like(await runner.probe('src', fuse.mnt), { kind: 'ok' });
});

mountTest('a helper with too many stuck calls is retired, new probes go to a fresh one, and it exits once released', async (t) => {
  const time = manualTime();
  const p = pool(6, 2, time.clock); // retires at 4 stuck calls
  const runner = createProbeRunner({ pool: p, timeoutMs: 300, clock: time.clock });
  const hung = await Promise.all([0, 1, 2, 3, 4].map((i) => startFuse(path.join(base, `many-${i}`), { mode: 'hungread' })));
  const healthy = await startFuse(path.join(base, 'many-ok'));
  const probes = Promise.all(hung.map((f, i) => runner.probe(`h${i}`, f.mnt)));
  await eventually('every call sent', () => p.stats().inFlight === 5 && time.armed() === 1);
  time.advance(300);
  const outcomes = await probes;
  t.true(outcomes.every((o) => o.kind === 'timeout'));
  t.like(await runner.probe('ok', healthy.mnt), { kind: 'ok' }, 'healthy probes still run');
  const s = p.stats();
  t.is(s.stuck, 5);
  t.is(s.helpers, 2);
  t.is(s.retired, 1);
  // Release them all: the retired helper answers late and exits by itself.
  const released = new Promise<void>((resolve) => {
    let n = 0;
    runner.onRelease(() => ++n === 5 && resolve());
  });
  await Promise.all(hung.map((f) => f.kill()));
  await released;
  await eventually('the retired helper gone', () => p.stats().helpers === 1, { timeoutMs: 5000 });
  t.like(p.stats(), { helpers: 1, retired: 0, stuck: 0 });
});

mountTest('a killed helper gives no verdict, is replaced, and probing goes on', async (t) => {
  const p = pool();
  const runner = createProbeRunner({ pool: p, timeoutMs: 5000 });
  const fuse = await startFuse(path.join(base, 'killed'), { mode: 'hung' });
  const pending = runner.probe('src', fuse.mnt);
  // Kill only once the request is with a helper: before that there is nothing to lose.
  await eventually('the request with a helper', () => p.stats().inFlight > 0, { timeoutMs: 10_000 });
  t.is(p.stats().inFlight, 1);
  for (const pid of p.stats().pids) process.kill(pid, 'SIGKILL');
  t.is((await pending).kind, 'lost');
  await fuse.setMode('healthy');
  let r = await runner.probe('src', fuse.mnt);
  for (let i = 0; i < 20 && r.kind === 'lost'; i++) r = await runner.probe('src', fuse.mnt);
  t.is(r.kind, 'ok');
  t.is(p.stats().unexpectedExits, 1);
});

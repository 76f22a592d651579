import test from 'ava';
import { parseCommandLine, parseListen, type Config } from '../../src/cli/args.js';
import { UsageError } from '../../src/errors.js';

const run = (argv: string[], env: NodeJS.ProcessEnv = {}): Config => {
  const r = parseCommandLine(argv, env);
  if (r.kind !== 'run') throw new Error('expected a run');
  return r.config;
};

test('defaults match the documented ones', (t) => {
  const c = run([], { NODE_NAME: 'n1' });
  t.like(c, {
    command: 'serve',
    kubeletDir: '/var/lib/kubelet',
    mountinfo: '/proc/self/mountinfo',
    drivers: ['csi.juicefs.com'],
    fsTypes: ['fuse.juicefs'],
    intervalMs: 10_000,
    timeoutMs: 5_000,
    resyncMs: 60_000,
    publishGraceMs: 120_000,
    listen: { host: undefined, port: 9567 },
    nodeName: 'n1',
    logLevel: 'info',
    kube: 'auto',
    kubeconfig: undefined,
  });
});

test('--kube takes auto, on or off, from the flag or JFS_PROBER_KUBE; --kubeconfig from JFS_PROBER_KUBECONFIG', (t) => {
  t.like(run(['--kube', 'off'], { JFS_PROBER_KUBE: 'on' }), { kube: 'off' });
  t.like(run([], { JFS_PROBER_KUBE: 'on', JFS_PROBER_KUBECONFIG: '/etc/k' }), { kube: 'on', kubeconfig: '/etc/k' });
  const err = t.throws(() => run(['--kube', 'yes']), { instanceOf: UsageError });
  t.is((err as UsageError).flag, 'kube');
});

test('flags win over environment, environment over defaults', (t) => {
  const env = { JFS_PROBER_INTERVAL: '3s', JFS_PROBER_TIMEOUT: '1s' };
  t.like(run(['--interval', '500ms'], env), { intervalMs: 500, timeoutMs: 1000 });
});

test('drivers and fs types are repeatable and comma-separated', (t) => {
  const c = run(['check', '--driver', 'a', '--driver', 'b,c', '--fs-type', 'fuse.juicefs,fuse.jfs']);
  t.is(c.command, 'check');
  t.deepEqual(c.drivers, ['a', 'b', 'c']);
  t.deepEqual(c.fsTypes, ['fuse.juicefs', 'fuse.jfs']);
});

test('bad values are usage errors that name the flag', (t) => {
  const cases: [string[], string][] = [
    [['--interval', '10'], 'interval'],
    [['--timeout', 'soon'], 'timeout'],
    [['--resync', '1ms'], 'resync'],
    [['--publish-grace', 'x'], 'publish-grace'],
    [['--listen', 'nope'], 'listen'],
    [['--listen', ':99999'], 'listen'],
    [['--log-level', 'loud'], 'log-level'],
    [['--driver', ','], 'driver'],
    [['--helper-threads', '2'], 'helper-threads'],
    [['--bogus'], 'bogus'],
    [['--interval'], 'interval'],
    // Past 2^31-1 ms Node fires a timer at once: a 600h timeout would time out every probe.
    [['--timeout', '600h'], 'timeout'],
    [['--interval', '25000h'], 'interval'],
    [['--resync', '9999999999s'], 'resync'],
  ];
  for (const [argv, flag] of cases) {
    const err = t.throws(() => parseCommandLine(argv, {}), { instanceOf: UsageError }, argv.join(' '));
    t.is(err!.flag, flag, argv.join(' '));
    t.true(err!.message.includes(flag), err!.message);
  }
});

test('an environment value is checked like its flag', (t) => {
  const err = t.throws(() => parseCommandLine([], { JFS_PROBER_TIMEOUT: 'forever' }), { instanceOf: UsageError });
  t.is(err!.flag, 'timeout');
});

test('unknown commands and extra arguments are usage errors', (t) => {
  t.throws(() => parseCommandLine(['probe'], {}), { instanceOf: UsageError, message: /unknown command/ });
  t.throws(() => parseCommandLine(['check', 'extra'], {}), { instanceOf: UsageError });
});

test('listen addresses: port only, host:port, IPv6', (t) => {
  t.deepEqual(parseListen(':9567'), { host: undefined, port: 9567 });
  t.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  t.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
  t.deepEqual(parseListen('8080'), { host: undefined, port: 8080 });
});

test('--help and --version are answered without a config', (t) => {
  const h = parseCommandLine(['--help'], {});
  t.is(h.kind, 'help');
  if (h.kind === 'help') t.regex(h.text, /--publish-grace/);
  t.is(parseCommandLine(['--version'], {}).kind, 'version');
});

test('every bad duration gets the same message: the flag, the value and the allowed range', (t) => {
  const cases: [string[], string][] = [
    [['--interval', '0'], '--interval: "0" is not a duration from 100ms to about 24 days (2147483647ms) (write e.g. 500ms, 10s, 1m30s)'],
    [['--interval', '0s'], '--interval: "0s" is not a duration from 100ms to about 24 days (2147483647ms) (write e.g. 500ms, 10s, 1m30s)'],
    [['--timeout', '-1s'], '--timeout: "-1s" is not a duration from 10ms to about 24 days (2147483647ms) (write e.g. 500ms, 10s, 1m30s)'],
    [['--timeout=-1s'], '--timeout: "-1s" is not a duration from 10ms to about 24 days (2147483647ms) (write e.g. 500ms, 10s, 1m30s)'],
    [['--resync', '999ms'], '--resync: "999ms" is not a duration from 1s to about 24 days (2147483647ms) (write e.g. 500ms, 10s, 1m30s)'],
    [['--publish-grace', '-5m'], '--publish-grace: "-5m" is not a duration from 0s to about 24 days (2147483647ms) (write e.g. 500ms, 10s, 1m30s)'],
    [['--timeout', '600h'], '--timeout: "600h" is not a duration from 10ms to about 24 days (2147483647ms) (write e.g. 500ms, 10s, 1m30s)'],
  ];
  for (const [argv, message] of cases) {
    const err = t.throws(() => parseCommandLine(argv, {}), { instanceOf: UsageError }, argv.join(' '));
    t.is(err!.message, message);
  }
  // The bounds themselves are allowed.
  t.like(run(['--interval', '100ms', '--timeout', '10ms', '--resync', '1s', '--publish-grace', '0s']), { intervalMs: 100, timeoutMs: 10, resyncMs: 1000, publishGraceMs: 0 });
  // A flag missing its value is still that, not a negative number.
  t.is(t.throws(() => parseCommandLine(['--kubelet-dir', '--interval', '1s'], {}), { instanceOf: UsageError })!.flag, 'kubelet-dir');
});

test('--path-timing is off by default, on from the flag or JFS_PROBER_PATH_TIMING, and anything else names the flag', (t) => {
  t.is(run([]).pathTiming, false);
  t.is(run(['--path-timing', 'on']).pathTiming, true);
  t.is(run([], { JFS_PROBER_PATH_TIMING: 'on' }).pathTiming, true);
  const err = t.throws(() => run(['--path-timing', 'yes']), { instanceOf: UsageError });
  t.is((err as UsageError).flag, 'path-timing');
  t.regex(err!.message, /--path-timing/);
});

test('the pod actions are off by default; --pod-condition=on keeps the default condition type, or takes a qualified one', (t) => {
  t.like(run([]), { podCondition: undefined, evict: undefined });
  t.deepEqual(run(['--pod-condition', 'on']).podCondition, { type: 'juicefs-path-prober.io/volumes-healthy', timeoutGraceMs: 60_000 });
  t.deepEqual(run(['--pod-condition=example.com/jfs-ok', '--pod-condition-timeout-grace=30s']).podCondition, { type: 'example.com/jfs-ok', timeoutGraceMs: 30_000 });
  t.deepEqual(run([], { JFS_PROBER_POD_CONDITION: 'on' }).podCondition?.type, 'juicefs-path-prober.io/volumes-healthy');
});

test('--evict-after turns evictions on in dry run unless --evict=on, with the documented rails', (t) => {
  t.deepEqual(run(['--evict-after', '5m']).evict, { afterMs: 300_000, mode: 'dry-run', max: 2, windowMs: 600_000, jobs: false, kubeSystem: false });
  t.like(run(['--evict-after=90s', '--evict=on', '--evict-max=5', '--evict-window=1h', '--evict-jobs=on', '--evict-kube-system=on']).evict, { afterMs: 90_000, mode: 'on', max: 5, windowMs: 3_600_000, jobs: true, kubeSystem: true });
});

test('a bad action flag, or one asked for where it cannot act, is a usage error that names the flag', (t) => {
  const cases: [string[], string][] = [
    [['--pod-condition', 'volumes-healthy'], 'pod-condition'],
    [['--pod-condition', 'Example.com/x'], 'pod-condition'],
    [['--pod-condition', 'on', '--pod-condition-timeout-grace', 'x'], 'pod-condition-timeout-grace'],
    [['--pod-condition', 'on', '--kube', 'off'], 'pod-condition'],
    [['check', '--pod-condition', 'on'], 'pod-condition'],
    [['--evict-after', '10ms'], 'evict-after'],
    [['--evict-after', '5m', '--evict', 'yes'], 'evict'],
    [['--evict-after', '5m', '--evict-max', '0'], 'evict-max'],
    [['--evict-after', '5m', '--evict-window', 'soon'], 'evict-window'],
    [['--evict-after', '5m', '--evict-jobs', 'true'], 'evict-jobs'],
    [['--evict-after', '5m', '--kube', 'off'], 'evict-after'],
  ];
  for (const [argv, flag] of cases) {
    const err = t.throws(() => parseCommandLine(argv, {}), { instanceOf: UsageError }, argv.join(' '));
    t.is(err!.flag, flag, argv.join(' '));
    t.true(err!.message.includes(`--${flag}`), err!.message);
  }
});

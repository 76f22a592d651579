// Command line and environment → Config. Flags win over environment; any bad
// value is a UsageError naming the flag (exit code 2).

import os from 'node:os';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import type { Config, Listen } from '../config.js';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import type { KubeMode } from '../kube/detect.js';
import { formatDuration, parseDuration } from './duration.js';

export type { Config, Listen } from '../config.js';

export type ParseResult = { kind: 'run'; config: Config } | { kind: 'help'; text: string } | { kind: 'version' };

interface FlagSpec {
  readonly env: string;
  readonly def: string;
  readonly help: string;
  readonly multiple?: boolean;
}

/** The condition --pod-condition=on keeps; a pod's readinessGates name it. */
export const DEFAULT_CONDITION = 'juicefs-path-prober.io/volumes-healthy';

export const FLAGS: Record<string, FlagSpec> = {
  'kubelet-dir': { env: 'JFS_PROBER_KUBELET_DIR', def: '/var/lib/kubelet', help: 'kubelet root directory' },
  mountinfo: { env: 'JFS_PROBER_MOUNTINFO', def: '/proc/self/mountinfo', help: 'mount table to read' },
  driver: { env: 'JFS_PROBER_DRIVER', def: 'csi.juicefs.com', help: 'CSI driver name to watch (repeatable, or comma-separated)', multiple: true },
  'fs-type': { env: 'JFS_PROBER_FS_TYPE', def: 'fuse.juicefs', help: 'expected file system type (repeatable, or comma-separated)', multiple: true },
  interval: { env: 'JFS_PROBER_INTERVAL', def: '10s', help: 'time between probe cycles' },
  timeout: { env: 'JFS_PROBER_TIMEOUT', def: '5s', help: 'how long a stat may take before the path is `timeout`' },
  resync: { env: 'JFS_PROBER_RESYNC', def: '60s', help: 'time between full scans of the kubelet directory' },
  'publish-grace': { env: 'JFS_PROBER_PUBLISH_GRACE', def: '2m', help: 'how long a newly published path may stay unmounted before it reports 0' },
  listen: { env: 'JFS_PROBER_LISTEN', def: ':9567', help: 'HTTP listen address, [host]:port (serve only)' },
  'node-name': { env: 'NODE_NAME', def: '', help: 'node_name label value (default: $NODE_NAME, else the hostname)' },
  'log-level': { env: 'JFS_PROBER_LOG_LEVEL', def: 'info', help: `log level: ${LOG_LEVELS.join(', ')}` },
  'helper-threads': { env: 'JFS_PROBER_HELPER_THREADS', def: '128', help: 'threads per probe helper process (stuck probes + healthy concurrency)' },
  kube: { env: 'JFS_PROBER_KUBE', def: 'auto', help: 'Kubernetes mode: auto (on with an in-cluster service account or --kubeconfig), on, off (serve only)' },
  kubeconfig: { env: 'JFS_PROBER_KUBECONFIG', def: '', help: 'kubeconfig file to reach the API server with (default: in-cluster)' },
  'path-timing': { env: 'JFS_PROBER_PATH_TIMING', def: 'off', help: 'on: also export per-path last probe duration, last probe time and state-since series (three more series per path)' },
  'pod-condition': { env: 'JFS_PROBER_POD_CONDITION', def: 'off', help: `on: keep the condition ${DEFAULT_CONDITION} on every pod with a JuiceFS path, for readinessGates (or give another qualified type); needs Kubernetes mode and RBAC to patch pods/status` },
  'pod-condition-timeout-grace': { env: 'JFS_PROBER_POD_CONDITION_TIMEOUT_GRACE', def: '1m', help: 'how long a path may stay `timeout` before the pod condition goes False' },
  'evict-after': { env: 'JFS_PROBER_EVICT_AFTER', def: '', help: 'evict a pod whose path has been disconnected, not_mounted or io_error this long while its volume mounts healthy again on the node (off when empty); needs Kubernetes mode and RBAC to create pods/eviction' },
  evict: { env: 'JFS_PROBER_EVICT', def: 'dry-run', help: 'with --evict-after: dry-run (an Event and a metric, no eviction) or on' },
  'evict-max': { env: 'JFS_PROBER_EVICT_MAX', def: '2', help: 'at most this many evictions per --evict-window on this node' },
  'evict-window': { env: 'JFS_PROBER_EVICT_WINDOW', def: '10m', help: 'the window of --evict-max' },
  'evict-jobs': { env: 'JFS_PROBER_EVICT_JOBS', def: 'off', help: 'on: Job pods may be evicted too' },
  'evict-kube-system': { env: 'JFS_PROBER_EVICT_KUBE_SYSTEM', def: 'off', help: 'on: kube-system pods may be evicted too' },
};

const KUBE_MODES: readonly KubeMode[] = ['auto', 'on', 'off'];
/** A qualified name: an optional DNS subdomain prefix and `/`, then a name part (what the API takes as a condition type). */
const QUALIFIED = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;

export function usage(): string {
  const lines = [
    'Usage: juicefs-path-prober [serve|check] [flags]',
    '',
    'Commands:',
    '  serve   run the daemon: probe every published JuiceFS path and serve /metrics (default)',
    '  check   probe once, print a table, exit 0 if all paths are healthy, 1 if not, 2 on usage errors',
    '',
    'Flags (environment variable in brackets):',
  ];
  for (const [name, f] of Object.entries(FLAGS)) {
    lines.push(`  --${name.padEnd(15)} ${f.help}${f.def ? ` (default ${f.def})` : ''} [${f.env}]`);
  }
  lines.push('  --help            show this text', '  --version         print the version');
  return lines.join('\n') + '\n';
}

/** Node's timers fire at once for a delay past this (about 24.8 days), so a timer-driven flag must stay below it. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The durations each flag takes, inclusive; the README's flag table lists the same. */
export const DURATION_RANGES: Record<string, { readonly min: number; readonly max: number }> = {
  interval: { min: 100, max: MAX_TIMER_MS },
  timeout: { min: 10, max: MAX_TIMER_MS },
  resync: { min: 1000, max: MAX_TIMER_MS },
  'publish-grace': { min: 0, max: MAX_TIMER_MS },
  'pod-condition-timeout-grace': { min: 0, max: MAX_TIMER_MS },
  'evict-after': { min: 1000, max: MAX_TIMER_MS },
  'evict-window': { min: 1000, max: MAX_TIMER_MS },
};

/** A bound as operators write it; the timer limit in words, since 2147483647ms means nothing to anyone. */
function bound(ms: number): string {
  if (ms === MAX_TIMER_MS) return 'about 24 days (2147483647ms)';
  return ms === 0 ? '0s' : formatDuration(ms);
}

// One message for every bad duration, whether unreadable, negative, zero or out of range.
function duration(flag: string, value: string): number {
  const { min, max } = DURATION_RANGES[flag]!;
  const ms = parseDuration(value);
  if (ms === undefined || ms < min || ms > max) {
    throw new UsageError(`--${flag}: "${value}" is not a duration from ${bound(min)} to ${bound(max)} (write e.g. 500ms, 10s, 1m30s)`, flag);
  }
  return ms;
}

export function parseListen(value: string): Listen {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*))?:(\d{1,5})$/.exec(value.trim()) ?? /^()()(\d{1,5})$/.exec(value.trim());
  if (!m) throw new UsageError(`--listen: "${value}" is not [host]:port`, 'listen');
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`--listen: port ${port} is out of range`, 'listen');
  const host = m[1] || m[2] || undefined;
  return { host, port };
}

function list(flag: string, values: readonly string[]): string[] {
  const out = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (out.length === 0) throw new UsageError(`--${flag}: needs at least one value`, flag);
  for (const v of out) {
    if (/\s/.test(v)) throw new UsageError(`--${flag}: "${v}" contains white space`, flag);
  }
  return [...new Set(out)];
}

/** `--timeout -1s` is a value that starts with a dash: pass it on as `--timeout=-1s`, so the flag's own check answers. */
function joinDashValues(argv: readonly string[], options: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (/^--[^=]+$/.test(a) && options[a.slice(2)]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParseResult {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    help: { type: 'boolean' },
    version: { type: 'boolean' },
  };
  for (const [name, f] of Object.entries(FLAGS)) options[name] = { type: 'string', ...(f.multiple ? { multiple: true } : {}) };

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: joinDashValues(argv, options), options, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const flag = /'(--?[^' ]+)/.exec(msg)?.[1]?.replace(/^-+/, '');
    throw new UsageError(msg.replace(/\. To specify a positional argument.*$/s, ''), flag, { cause: err });
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help', text: usage() };
  if (values.version) return { kind: 'version' };
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const command = positionals[0] ?? 'serve';
  if (command !== 'serve' && command !== 'check') throw new UsageError(`unknown command "${command}" (serve or check)`);

  const raw = (name: string): string => {
    const v = values[name];
    if (Array.isArray(v)) return v.join(',');
    if (typeof v === 'string') return v;
    const spec = FLAGS[name]!;
    return env[spec.env] ?? spec.def;
  };
  const nonEmpty = (name: string): string => {
    const v = raw(name).trim();
    if (v === '') throw new UsageError(`--${name}: must not be empty`, name);
    return v;
  };

  const intervalMs = duration('interval', raw('interval'));
  const timeoutMs = duration('timeout', raw('timeout'));
  const resyncMs = duration('resync', raw('resync'));
  const publishGraceMs = duration('publish-grace', raw('publish-grace'));
  const logLevel = raw('log-level') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`, 'log-level');
  const threadsText = raw('helper-threads');
  const helperThreads = Number(threadsText);
  if (!/^\d+$/.test(threadsText) || helperThreads < 4 || helperThreads > 1024) {
    throw new UsageError(`--helper-threads: "${threadsText}" must be a whole number from 4 to 1024`, 'helper-threads');
  }

  const kube = (raw('kube').trim() || 'auto') as KubeMode;
  if (!KUBE_MODES.includes(kube)) throw new UsageError(`--kube: "${kube}" is not one of ${KUBE_MODES.join(', ')}`, 'kube');
  const kubeconfig = raw('kubeconfig').trim() || undefined;
  const onOff = (name: string): boolean => {
    const v = raw(name).trim();
    if (v !== 'on' && v !== 'off') throw new UsageError(`--${name}: "${v}" is not one of on, off`, name);
    return v === 'on';
  };
  const pathTiming = onOff('path-timing');

  // The actions write to the API: asked for where they cannot run, they are a usage error, not silently nothing.
  const needsKube = (name: string) => {
    if (command !== 'serve') throw new UsageError(`--${name}: only \`serve\` acts on pods`, name);
    if (kube === 'off') throw new UsageError(`--${name}: needs Kubernetes mode (--kube is off)`, name);
  };
  const conditionText = raw('pod-condition').trim();
  let podCondition: Config['podCondition'];
  if (conditionText !== 'off' && conditionText !== '') {
    const type = conditionText === 'on' ? DEFAULT_CONDITION : conditionText;
    if (!QUALIFIED.test(type) || type.length > 316) throw new UsageError(`--pod-condition: "${conditionText}" is not on, off or a qualified condition type (prefix/name, e.g. ${DEFAULT_CONDITION})`, 'pod-condition');
    needsKube('pod-condition');
    podCondition = { type, timeoutGraceMs: duration('pod-condition-timeout-grace', raw('pod-condition-timeout-grace')) };
  }
  let evict: Config['evict'];
  const evictAfterText = raw('evict-after').trim();
  if (evictAfterText !== '' && evictAfterText !== 'off') {
    const afterMs = duration('evict-after', evictAfterText);
    needsKube('evict-after');
    const mode = raw('evict').trim();
    if (mode !== 'on' && mode !== 'dry-run') throw new UsageError(`--evict: "${mode}" is not one of dry-run, on`, 'evict');
    const maxText = raw('evict-max').trim();
    if (!/^\d+$/.test(maxText) || Number(maxText) < 1 || Number(maxText) > 1000) throw new UsageError(`--evict-max: "${maxText}" must be a whole number from 1 to 1000`, 'evict-max');
    evict = { afterMs, mode, max: Number(maxText), windowMs: duration('evict-window', raw('evict-window')), jobs: onOff('evict-jobs'), kubeSystem: onOff('evict-kube-system') };
  }

  return {
    kind: 'run',
    config: {
      command,
      kubeletDir: nonEmpty('kubelet-dir'),
      mountinfo: nonEmpty('mountinfo'),
      drivers: list('driver', [raw('driver')]),
      fsTypes: list('fs-type', [raw('fs-type')]),
      intervalMs,
      timeoutMs,
      resyncMs,
      publishGraceMs,
      listen: parseListen(raw('listen')),
      nodeName: raw('node-name').trim() || os.hostname(),
      logLevel,
      helperThreads,
      kube,
      kubeconfig,
      pathTiming,
      podCondition,
      evict,
    },
  };
}

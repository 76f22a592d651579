// Command line and environment → Config. Flags win over environment; any bad
// value is a UsageError naming the flag (exit code 2).

import os from 'node:os';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import type { KubeMode } from '../kube/detect.js';
import { parseDuration } from './duration.js';

export interface Listen {
  readonly host: string | undefined;
  readonly port: number;
}

export interface Config {
  readonly command: 'serve' | 'check';
  readonly kubeletDir: string;
  readonly mountinfo: string;
  readonly drivers: readonly string[];
  readonly fsTypes: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly resyncMs: number;
  readonly publishGraceMs: number;
  readonly listen: Listen;
  readonly nodeName: string;
  readonly logLevel: LogLevel;
  readonly helperThreads: number;
  readonly kube: KubeMode;
  readonly kubeconfig: string | undefined;
  /** Per-path duration, last-probe and state-since series on /metrics (the JSON /status has them either way). */
  readonly pathTiming: boolean;
}

export type ParseResult = { kind: 'run'; config: Config } | { kind: 'help'; text: string } | { kind: 'version' };

interface FlagSpec {
  readonly env: string;
  readonly def: string;
  readonly help: string;
  readonly multiple?: boolean;
}

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
};

const KUBE_MODES: readonly KubeMode[] = ['auto', 'on', 'off'];

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

function duration(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`--${flag}: "${value}" is not a duration (use e.g. 500ms, 10s, 1m)`, flag);
  if (ms < min) throw new UsageError(`--${flag}: ${value} is too short (minimum ${min}ms)`, flag);
  if (ms > max) throw new UsageError(`--${flag}: ${value} is too long (maximum ${max}ms, about 24 days)`, flag);
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

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParseResult {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    help: { type: 'boolean' },
    version: { type: 'boolean' },
  };
  for (const [name, f] of Object.entries(FLAGS)) options[name] = { type: 'string', ...(f.multiple ? { multiple: true } : {}) };

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
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

  const intervalMs = duration('interval', raw('interval'), 100, MAX_TIMER_MS);
  const timeoutMs = duration('timeout', raw('timeout'), 10, MAX_TIMER_MS);
  const resyncMs = duration('resync', raw('resync'), 1000, MAX_TIMER_MS);
  const publishGraceMs = duration('publish-grace', raw('publish-grace'), 0);
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
  const pathTimingText = raw('path-timing').trim();
  if (pathTimingText !== 'on' && pathTimingText !== 'off') throw new UsageError(`--path-timing: "${pathTimingText}" is not one of on, off`, 'path-timing');

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
      pathTiming: pathTimingText === 'on',
    },
  };
}

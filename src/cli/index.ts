#!/usr/bin/env node
// juicefs-path-prober: `serve` (the daemon) or `check` (one cycle, a table, an exit code).

import path from 'node:path';
import { ListenError, UsageError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { runCheckOnce, startDaemon } from '../main.js';
import { readVersion } from '../version.js';
import { parseCommandLine, type Config } from './args.js';
import { formatTable } from './table.js';

const EXIT_USAGE = 2;

async function serve(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const daemon = await startDaemon(config, { logger });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // Exit even if something lingers: stuck probes live in helpers, never here.
    setTimeout(() => process.exit(0), 1500).unref();
    void daemon.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function check(config: Config): Promise<number> {
  // Logs go to stderr so the table on stdout stays clean.
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, write: (l) => process.stderr.write(l) });
  const { rows, healthy, mountTableOk, podsDirOk, podsDirProblem, mountTableProblem, kube } = await runCheckOnce(config, { logger });
  if (!mountTableOk) {
    process.stderr.write(`${mountTableProblem ?? `cannot read the mount table ${config.mountinfo}`}\n`);
    return 1;
  }
  // "No paths" must not pass for healthy when the prober cannot see the pods at all.
  if (!podsDirOk) {
    process.stderr.write(`${podsDirProblem ?? `cannot list the kubelet pods directory ${path.join(config.kubeletDir, 'pods')}`}\n`);
    return 1;
  }
  if (rows.length === 0) {
    process.stdout.write(`no published volume paths of ${config.drivers.join(', ')} under ${config.kubeletDir}\n`);
    return 0;
  }
  const dash = (v: string | undefined) => v || '-';
  process.stdout.write(
    kube
      ? formatTable(
          ['NAMESPACE', 'POD', 'PVC', 'PV', 'PATH', 'STATE', 'DETAIL', 'LATENCY'],
          // A pod the API does not name is shown by its uid.
          rows.map((r) => [dash(r.namespace), r.podName || r.pod, dash(r.pvc), r.pv, r.path, r.state, dash(r.detail), r.latency]),
        )
      : formatTable(
          ['POD', 'PV', 'PATH', 'STATE', 'DETAIL', 'LATENCY'],
          rows.map((r) => [r.pod, r.pv, r.path, r.state, dash(r.detail), r.latency]),
        ),
  );
  return healthy ? 0 : 1;
}

async function run(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`juicefs-path-prober: ${err.message}\nRun with --help for usage.\n`);
      process.exit(EXIT_USAGE);
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${readVersion()}\n`);
    return;
  }
  if (parsed.config.command === 'check') {
    const code = await check(parsed.config);
    // Exit now: a helper stuck on a hung mount must not keep `check` alive.
    process.exit(code);
  }
  await serve(parsed.config);
}

run(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    // Found while starting (an unusable kubeconfig): a usage error all the same.
    process.stderr.write(`juicefs-path-prober: ${err.message}\n`);
    process.exit(EXIT_USAGE);
  }
  if (err instanceof ListenError) {
    process.stderr.write(`juicefs-path-prober: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`juicefs-path-prober: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});

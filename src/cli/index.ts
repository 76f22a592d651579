#!/usr/bin/env node
// juicefs-path-prober: `serve` (the daemon) or `check` (one cycle, a table, an exit code).

import { ListenError, UsageError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { startDaemon } from '../main.js';
import { systemClock } from '../shared/clock.js';
import { readVersion } from '../version.js';
import { parseCommandLine, type Config } from './args.js';
import { check } from './check.js';

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
    systemClock.setTimeout(() => process.exit(0), 1500);
    void daemon.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
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

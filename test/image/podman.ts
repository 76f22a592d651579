// The podman commands the image check runs, each with a deadline; the engine's
// configuration (runtime, ulimits) comes from CONTAINERS_CONF, set by
// scripts/image/check.sh.

import { execFile } from 'node:child_process';

export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (or its deadline), never throwing for a non-zero exit. */
export function run(cmd: string, args: readonly string[], timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : err.killed ? 124 : 1) : 0;
      resolve({ code, stdout, stderr: err && typeof err.code !== 'number' ? `${stderr}${err.message}` : stderr });
    });
  });
}

export function podman(args: readonly string[], timeoutMs?: number): Promise<Ran> {
  return run('podman', args, timeoutMs);
}

/** podman's stdout, or an error naming the command and what it printed. */
export async function podmanOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function inspect<T>(what: 'container' | 'image', ref: string, format: string): Promise<T> {
  return JSON.parse(await podmanOk([what, 'inspect', '--format', `{{json ${format}}}`, ref])) as T;
}

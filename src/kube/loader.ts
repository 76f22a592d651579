// Runs the configuration loader (config-main.ts) in a short-lived process:
// @kubernetes/client-node decides the connection and credentials there, and
// the daemon gets them as one JSON line, or why not.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UNUSABLE_EXIT } from './config-check.js';
import type { LoadedKubeConfig } from './config-types.js';
import type { KubeSource } from './detect.js';

/** The loader failed; `unusable`: the configuration can never work (config-check.ts), rather than cannot be read. */
export class LoaderError extends Error {
  readonly unusable: boolean;
  constructor(message: string, unusable: boolean) {
    super(message);
    this.name = 'LoaderError';
    this.unusable = unusable;
  }
}

const LOADER = fileURLToPath(new URL('./config-main.js', import.meta.url));
const loaderArgs = (source: Exclude<KubeSource, { kind: 'off' }>) => ['--max-old-space-size=128', LOADER, JSON.stringify(source)];

function parseLoaded(stdout: string): LoadedKubeConfig {
  const loaded = JSON.parse(stdout.trim().split('\n').pop() ?? '') as LoadedKubeConfig;
  if (typeof loaded?.server !== 'string') throw new Error('the configuration loader printed no server');
  return loaded;
}

/** Runs the configuration loader: the connection and credentials, or why not (its stderr). `signal` kills it. */
export function runLoader(source: Exclude<KubeSource, { kind: 'off' }>, signal?: AbortSignal): Promise<LoadedKubeConfig> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, loaderArgs(source), { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal, killSignal: 'SIGKILL' as const } : {}) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code !== 0) return reject(new LoaderError(err.trim() || `the configuration loader exited with ${code ?? signal}`, code === UNUSABLE_EXIT));
      try {
        resolve(parseLoaded(out));
      } catch (e) {
        reject(e);
      }
    });
  });
}


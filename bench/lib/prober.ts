// The daemon under test: the real CLI as a separate process, as on a node.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDaemon, type DaemonProcess } from '../../test/fixtures/daemon.js';
import { imageRuntime, type ImageRuntime } from './image-runtime.js';
import { parseSamples, scrape, value } from './scrape.js';

export interface Prober {
  readonly daemon: DaemonProcess;
  readonly pid: number;
  /** Milliseconds from spawn to /readyz answering 200 (first full cycle done). */
  readonly readyMs: number;
  cycles(): Promise<{ count: number; sumSeconds: number }>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The daemon as the image starts it (its Dockerfile's final ENV and ENTRYPOINT): measured as it runs on a node. */
export const IMAGE: ImageRuntime = imageRuntime(fs.readFileSync(fileURLToPath(new URL('../../../Dockerfile', import.meta.url)), 'utf8'));

/** Set by `--cpu-prof=<dir>`: the daemon writes a V8 CPU profile there on exit. */
let profileDir: string | undefined;
export function profileInto(dir: string): void {
  profileDir = dir;
}

/** Another build of the prober, started as its own image starts it (the comparison bench). */
export interface Build {
  readonly cli: string;
  readonly image: ImageRuntime;
}

export async function startProber(kubeletDir: string, flags: readonly string[], readyTimeoutMs = 120_000, env: NodeJS.ProcessEnv = {}, build?: Build): Promise<Prober> {
  const t0 = performance.now();
  const image = build?.image ?? IMAGE;
  const nodeArgs = [...image.nodeArgs, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const daemon = await startDaemon(['--kubelet-dir', kubeletDir, ...flags], { ...image.env, ...env }, { nodeArgs, ...(build ? { cli: build.cli } : {}) });
  const deadline = Date.now() + readyTimeoutMs;
  while ((await daemon.get('/readyz')).status !== 200) {
    if (Date.now() > deadline) throw new Error(`daemon not ready after ${readyTimeoutMs} ms`);
    await sleep(20);
  }
  const readyMs = performance.now() - t0;
  return {
    daemon,
    pid: daemon.child.pid!,
    readyMs,
    async cycles() {
      const s = parseSamples((await scrape(`${daemon.url}/metrics`)).text, 'juicefs_path_prober_cycle_duration_seconds');
      return {
        count: value(s, 'juicefs_path_prober_cycle_duration_seconds_count') ?? 0,
        sumSeconds: value(s, 'juicefs_path_prober_cycle_duration_seconds_sum') ?? 0,
      };
    },
    async stop() {
      await daemon.stop();
    },
  };
}

export { sleep };

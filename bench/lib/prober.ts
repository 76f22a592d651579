// The daemon under test: the real CLI as a separate process, as on a node.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDaemon, type DaemonProcess } from '../../test/fixtures/daemon.js';
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

const DOCKERFILE = fs.readFileSync(fileURLToPath(new URL('../../../Dockerfile', import.meta.url)), 'utf8');

/** NODE_OPTIONS as the image sets them (its Dockerfile's `ENV NODE_OPTIONS=`): the daemon is measured as it runs on a node. */
export const IMAGE_NODE_OPTIONS = /^ENV NODE_OPTIONS=(.*)$/m.exec(DOCKERFILE)?.[1]?.replace(/^"|"$/g, '') ?? '';

/** The node flags of the image's exec-form ENTRYPOINT (those NODE_OPTIONS cannot carry, such as V8's). */
export const IMAGE_NODE_ARGS: readonly string[] = (() => {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(DOCKERFILE.split(/^FROM /m).at(-1) ?? '')?.[1];
  const argv = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  return argv[0] === 'node' ? argv.slice(1).filter((a) => a.startsWith('-')) : [];
})();

/** Set by `--cpu-prof=<dir>`: the daemon writes a V8 CPU profile there on exit. */
let profileDir: string | undefined;
export function profileInto(dir: string): void {
  profileDir = dir;
}

export async function startProber(kubeletDir: string, flags: readonly string[], readyTimeoutMs = 120_000, env: NodeJS.ProcessEnv = {}): Promise<Prober> {
  const t0 = performance.now();
  const nodeArgs = [...IMAGE_NODE_ARGS, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  const daemon = await startDaemon(['--kubelet-dir', kubeletDir, ...flags], { NODE_OPTIONS: IMAGE_NODE_OPTIONS, ...env }, { nodeArgs });
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

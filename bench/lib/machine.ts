// What the figures were measured on: they mean little without it.

import fs from 'node:fs';
import os from 'node:os';

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly loadavg1m: number;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    node: process.version,
    loadavg1m: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

/** Clock ticks per second of /proc/<pid>/stat times: 100 on every Linux this runs on. */
export const CLK_TCK = Number(process.env.JFS_BENCH_CLK_TCK ?? 100);

export function readText(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

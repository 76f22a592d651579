// Builds and runs the C stat loop: the physical floor the daemon is compared with.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const SOURCE = fileURLToPath(new URL('../../../bench/native/bare-stat.c', import.meta.url));
let binary: string | undefined;

function build(): string {
  if (binary) return binary;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-bare-stat-'));
  // However the bench ends (done, failed, interrupted by a thrown error), the binary goes with it.
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'bare-stat');
  const r = spawnSync('cc', ['-O2', '-pthread', '-o', out, SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot build the bare stat loop (needs a C compiler): ${r.stderr || r.error?.message}`);
  return (binary = out);
}

export interface BareLoop {
  readonly threads: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly failures: number;
}

export function runBareLoop(paths: readonly string[], threads: number, rounds = 5): BareLoop {
  const r = spawnSync(build(), [String(threads), String(rounds)], { input: paths.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bare stat loop failed: ${r.stderr}`);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { wallMs: number; cpuMs: number; failures: number });
  return { threads, wallMs: median(rows.map((x) => x.wallMs)), cpuMs: median(rows.map((x) => x.cpuMs)), failures: rows.at(-1)!.failures };
}

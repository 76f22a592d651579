// Resource figures of a process and its descendants, read from /proc, so the
// daemon's probe helpers are counted with it.

import fs from 'node:fs';
import { CLK_TCK, readText } from './machine.js';

export interface TreeSample {
  readonly pids: number[];
  /** user + system CPU milliseconds, summed over the tree (exited children are not counted). */
  readonly cpuMs: number;
  readonly rssMiB: number;
  /** Anonymous resident memory (heap, stacks; no file-backed pages such as the node binary), summed. */
  readonly anonMiB: number;
  /** Proportional set size: pages shared between the processes (and with others) counted in shares. */
  readonly pssMiB: number;
  readonly threads: number;
  /** Threads blocked in the kernel: waiting on a FUSE answer (wchan request_wait_answer, shown as S, not D) or in uninterruptible sleep. */
  readonly blockedThreads: number;
  readonly fds: number;
}

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    const c = readText(`/proc/${pid}/task/${tid}/children`);
    if (c) for (const s of c.trim().split(/\s+/)) if (s) out.push(Number(s));
  }
  return out;
}

export function processTree(root: number): number[] {
  const seen: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (!fs.existsSync(`/proc/${pid}`)) continue;
    seen.push(pid);
    stack.push(...children(pid));
  }
  return seen;
}

function statFields(text: string): string[] {
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

export function cpuMsOf(pid: number): number {
  const t = readText(`/proc/${pid}/stat`);
  if (!t) return 0;
  const f = statFields(t);
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

export function sampleTree(root: number): TreeSample {
  const pids = processTree(root);
  let cpuMs = 0;
  let rssKiB = 0;
  let anonKiB = 0;
  let pssKiB = 0;
  let threads = 0;
  let blockedThreads = 0;
  let fds = 0;
  for (const pid of pids) {
    cpuMs += cpuMsOf(pid);
    const status = readText(`/proc/${pid}/status`) ?? '';
    rssKiB += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    anonKiB += Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0);
    pssKiB += Number(/^Pss:\s+(\d+)/m.exec(readText(`/proc/${pid}/smaps_rollup`) ?? '')?.[1] ?? 0);
    let tids: string[] = [];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
      fds += fs.readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      continue;
    }
    threads += tids.length;
    for (const tid of tids) {
      const t = readText(`/proc/${pid}/task/${tid}/stat`);
      if ((t && statFields(t)[0] === 'D') || readText(`/proc/${pid}/task/${tid}/wchan`) === 'request_wait_answer') blockedThreads++;
    }
  }
  return { pids, cpuMs, rssMiB: rssKiB / 1024, anonMiB: anonKiB / 1024, pssMiB: pssKiB / 1024, threads, blockedThreads, fds };
}

export function rssMiBOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readText(`/proc/${pid}/status`) ?? '')?.[1] ?? 0) / 1024;
}

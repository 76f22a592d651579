// What the daemon and `check` run with: built by the command line (cli/args.ts),
// read by the wiring. Plain data, so every part below cli/ can take it without
// importing the parser.

import type { ConditionOptions } from './act/condition-writer.js';
import type { EvictOptions } from './act/evictor.js';
import type { KubeMode } from './kube/detect.js';
import type { LogLevel } from './log/logger.js';

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
  /** Opt-in: keep a readiness-gate condition on each pod with a JuiceFS path (Kubernetes mode, serve). */
  readonly podCondition: ConditionOptions | undefined;
  /** Opt-in: evict pods stuck on a dead mount (Kubernetes mode, serve). */
  readonly evict: EvictOptions | undefined;
}

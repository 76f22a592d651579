// One probe cycle, as named steps in the order of the data: read the mount
// table; discover the paths (discovery/path-set) and let their lifecycle carry
// or drop what discovery no longer finds; classify each path from the mount
// table alone (classify/); inspect the unmounted ones and let the lifecycle
// decide pending, broken or gone; stat one path per mount source through the
// single-flight runner (probe/, classify/verdict); and record what the
// lifecycle admits in the tracker (track/). Every path ends with a verdict, or
// keeps its last one when this cycle learned nothing certain about it.

import type { MountTable } from '../mounts/mount-table.js';
import type { FindPaths } from '../discovery/path-set.js';
import type { PathInspector } from '../discovery/path-inspector.js';
import { classifyByMountTable } from '../classify/by-mount-table.js';
import type { VerdictFold } from '../classify/mount-pod.js';
import { probeVerdict, type Verdict } from '../classify/verdict.js';
import { errorMessage } from '../errors.js';
import type { PathLifecycle } from '../lifecycle/path-lifecycle.js';
import type { Logger } from '../log/logger.js';
import type { ProbeRunner } from '../probe/probe-runner.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { mapLimit } from '../shared/map-limit.js';
import type { ProbeFacts, PathTracker } from '../track/tracker.js';
import type { VolumePath } from '../types.js';

export interface CycleReport {
  readonly ok: boolean;
  readonly paths: number;
  readonly sources: number;
  readonly durationMs: number;
  /** When some verdict was held back (an unmount being confirmed): look again after this long. */
  readonly recheckInMs?: number;
}

export interface CycleOptions {
  readonly fsTypes: ReadonlySet<string>;
  readonly readMountTable: () => Promise<MountTable>;
  readonly findPaths: FindPaths;
  readonly inspector: PathInspector;
  readonly runner: ProbeRunner;
  readonly lifecycle: PathLifecycle;
  readonly tracker: PathTracker;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly onMountTableError?: (err: unknown) => void;
  /** A daemon logs an unreadable mount table (and keeps its states); a one-shot command says it itself. */
  readonly logMountTableErrors?: boolean;
  readonly onInconclusive?: (reason: 'device_mismatch' | 'helper_lost' | 'inspect_error') => void;
  /** Adds what else is known about a verdict (the mount pod's state, in Kubernetes mode). */
  readonly fold?: VerdictFold;
}

export type RunCycle = () => Promise<CycleReport>;

export function createCycle(opts: CycleOptions): RunCycle {
  const { lifecycle, tracker, logger } = opts;
  const clock = opts.clock ?? systemClock;

  const readTable = async (): Promise<MountTable | undefined> => {
    try {
      const table = await opts.readMountTable();
      logger.forget('mount-table');
      return table;
    } catch (err) {
      opts.onMountTableError?.(err);
      if (opts.logMountTableErrors === false) return undefined;
      logger.once('mount-table', 'error', 'cannot read the mount table; keeping the last states until it can be read', {
        error: err instanceof Error ? err : errorMessage(err),
      });
      return undefined;
    }
  };

  return async function runCycle(): Promise<CycleReport> {
    const t0 = clock.monotonic();
    // Verdicts are ordered on the monotonic clock: a wall clock stepped back would make them look stale.
    const asOf = t0;
    const table = await readTable();
    if (!table) return { ok: false, paths: 0, sources: 0, durationMs: clock.monotonic() - t0 };

    // 1. The paths to look at: what discovery finds, and what the lifecycle still follows (it drops the unpublished).
    const paths = lifecycle.reconcile(opts.findPaths(table));

    let recheck: number | undefined;
    const later = (ms: number) => (recheck = Math.min(recheck ?? Infinity, ms));
    const apply = (v: VolumePath, found: Verdict, probe?: ProbeFacts) => {
      const verdict = opts.fold ? opts.fold(v, found) : found;
      const admission = lifecycle.admit(v, verdict.state, asOf);
      if (admission.kind === 'record') tracker.record(v, verdict, probe);
      else if (admission.kind === 'hold') later(admission.recheckInMs);
    };

    // 2. What the mount table alone says.
    const c = classifyByMountTable(paths.values(), table, opts.fsTypes);
    for (const v of c.mounted) lifecycle.mounted(v, asOf);
    for (const { volume, verdict } of c.wrongType) apply(volume, verdict);

    // 3. Unmounted paths: publishing, torn down, or broken (the lifecycle decides).
    const inspections = mapLimit(c.unmounted, 16, async (v) => {
      const outcome = lifecycle.unmounted(v, await opts.inspector.inspect(v));
      switch (outcome.kind) {
        case 'removed':
          return;
        case 'unknown':
          opts.onInconclusive?.('inspect_error');
          logger.once(`inspect:${v.path}`, 'warn', 'cannot inspect an unmounted path', { path: v.path, error: outcome.error instanceof Error ? outcome.error : errorMessage(outcome.error) });
          return;
        case 'verdict':
          logger.forget(`inspect:${v.path}`);
          apply(v, outcome.verdict);
          if (outcome.recheckInMs !== undefined) later(outcome.recheckInMs);
      }
    });

    // 4. One probe per mount source, through the single-flight runner.
    const probes = Promise.all(
      [...c.sources].map(async ([key, { entry, paths }]) => {
        const outcome = await opts.runner.probe(key, paths[0]!.path);
        const now = clock.now();
        const verdict = probeVerdict(outcome, entry, now);
        const facts = 'ms' in outcome ? { at: now, ms: outcome.ms, source: key } : undefined;
        if ('inconclusive' in verdict) {
          // 5. No verdict this time (device mismatch, helper lost): keep the states, look again soon.
          opts.onInconclusive?.(outcome.kind === 'lost' ? 'helper_lost' : 'device_mismatch');
          logger.debug('probe gave no verdict', { path: paths[0]!.path, reason: verdict.inconclusive });
          if (facts) for (const v of paths) tracker.probed(v.path, facts);
          later(500);
          return;
        }
        for (const v of paths) apply(v, verdict, facts);
      }),
    );

    await Promise.all([inspections, probes]);
    return {
      ok: true,
      paths: paths.size,
      sources: c.sources.size,
      durationMs: clock.monotonic() - t0,
      ...(recheck !== undefined ? { recheckInMs: recheck } : {}),
    };
  };
}

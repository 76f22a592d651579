// One probe cycle: read the mount table, tell from it alone which paths are
// unmounted or of the wrong type, and stat one path per mount source through
// the single-flight runner. Every path ends with a verdict, or keeps its last
// one when this cycle learned nothing certain about it.

import { mapLimit } from '../shared/map-limit.js';
import { findSubpaths } from '../discovery/subpaths.js';
import type { Inventory } from '../discovery/inventory.js';
import type { KubeletLayout } from '../discovery/kubelet-layout.js';
import type { PathInspector } from '../discovery/path-inspector.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { MountEntry } from '../mounts/mountinfo.js';
import type { MountTable } from '../mounts/mount-table.js';
import type { ProbeRunner } from '../probe/probe-runner.js';
import type { Clock, VolumePath } from '../types.js';
import type { VerdictFold } from './mount-pod.js';
import type { PathTracker } from './tracker.js';
import { formatMs, probeVerdict, wrongTypeVerdict, type Verdict } from './verdict.js';

export interface CycleReport {
  readonly ok: boolean;
  readonly paths: number;
  readonly sources: number;
  readonly durationMs: number;
  /** When some verdict was held back (an unmount being confirmed): look again after this long. */
  readonly recheckInMs?: number;
}

export interface CycleOptions {
  readonly layout: KubeletLayout;
  readonly fsTypes: ReadonlySet<string>;
  readonly readMountTable: () => Promise<MountTable>;
  readonly inventory: Inventory;
  readonly inspector: PathInspector;
  readonly runner: ProbeRunner;
  readonly tracker: PathTracker;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly monotonic?: () => number;
  readonly timeoutMs: number;
  readonly publishGraceMs: number;
  readonly onMountTableError?: (err: unknown) => void;
  /** A daemon logs an unreadable mount table (and keeps its states); a one-shot command says it itself. */
  readonly logMountTableErrors?: boolean;
  readonly onInconclusive?: (reason: 'device_mismatch' | 'helper_lost' | 'inspect_error') => void;
  /** Adds what else is known about a verdict (the mount pod's state, in Kubernetes mode). */
  readonly fold?: VerdictFold;
  /** What the Kubernetes API says a pod volume is published as, for tying subPaths to volumes. */
  readonly publishedAs?: (podUid: string, volumeName: string) => string | null | undefined;
}

export type RunCycle = () => Promise<CycleReport>;

export function createCycle(opts: CycleOptions): RunCycle {
  const { tracker, logger, clock } = opts;
  const monotonic = opts.monotonic ?? (() => performance.now());

  const readTable = async (): Promise<MountTable | undefined> => {
    try {
      const table = await opts.readMountTable();
      logger.forget('mount-table');
      if (table.malformed > 0) {
        logger.once(`mount-table-malformed`, 'warn', 'skipping malformed mount table lines', { lines: table.malformed });
      }
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
    const t0 = monotonic();
    // Verdicts are ordered on the monotonic clock: a wall clock stepped back would make them look stale.
    const asOf = t0;
    const table = await readTable();
    if (!table) return { ok: false, paths: 0, sources: 0, durationMs: monotonic() - t0 };

    const current = new Map<string, VolumePath>();
    for (const v of opts.inventory.list()) current.set(v.path, v);
    for (const v of findSubpaths({ layout: opts.layout, table, fsTypes: opts.fsTypes, volumesOf: opts.inventory.ofPod, ...(opts.publishedAs ? { publishedAs: opts.publishedAs } : {}) })) {
      if (!current.has(v.path)) current.set(v.path, v);
    }
    for (const v of tracker.tracked()) {
      if (current.has(v.path)) continue;
      // A subPath that left the mount table is inspected below; a volume that left the inventory is gone.
      if (v.kind === 'subpath') current.set(v.path, v);
      else tracker.remove(v.path, 'no longer published');
    }

    let recheck: number | undefined;
    const apply = (v: VolumePath, verdict: Verdict, probe?: { at: number; ms: number; source: string }) => {
      const again = tracker.observe(v, opts.fold ? opts.fold(v, verdict) : verdict, asOf, probe);
      if (again !== undefined) recheck = Math.min(recheck ?? Infinity, again);
    };

    const sources = new Map<string, { entry: MountEntry; paths: VolumePath[] }>();
    const unmounted: VolumePath[] = [];
    for (const v of current.values()) {
      const entry = table.at(v.path);
      if (!entry) {
        unmounted.push(v);
        continue;
      }
      tracker.markMounted(v, asOf);
      if (!opts.fsTypes.has(entry.fsType)) {
        apply(v, wrongTypeVerdict(entry, opts.fsTypes));
        continue;
      }
      // Bind mounts of one source are one file system view: one probe serves them all.
      const key = `${entry.dev} ${entry.root}`;
      const group = sources.get(key);
      if (group) group.paths.push(v);
      else sources.set(key, { entry, paths: [v] });
    }

    const inspections = mapLimit(unmounted, 16, async (v) => {
      const r = await opts.inspector.inspect(v);
      switch (r.kind) {
        case 'gone':
          tracker.remove(v.path, r.why);
          return;
        case 'unknown':
          opts.onInconclusive?.('inspect_error');
          logger.once(`inspect:${v.path}`, 'warn', 'cannot inspect an unmounted path', { path: v.path, error: r.error instanceof Error ? r.error : errorMessage(r.error) });
          return;
        case 'symlink':
          // Never a publish in progress: no grace.
          apply(v, { state: 'not_mounted', detail: 'the mount directory is a symlink; it is not followed' });
          return;
        case 'missing':
        case 'unmounted': {
          logger.forget(`inspect:${v.path}`);
          const age = clock.now() - r.publishedAt;
          // The directory's mtime survives a restart of the prober but is on the wall clock;
          // the time we have watched the path ourselves caps the grace should that clock step back.
          const watched = monotonic() - (tracker.firstSeen(v.path) ?? monotonic());
          if (!tracker.everMounted(v.path) && age < opts.publishGraceMs && watched < opts.publishGraceMs) {
            apply(v, { state: 'pending', detail: `published ${formatMs(Math.max(0, age))} ago, not mounted yet (grace ${formatMs(opts.publishGraceMs)})` });
          } else if (r.kind === 'missing') {
            apply(v, { state: 'not_found', detail: 'the mount directory does not exist' });
          } else {
            apply(v, { state: 'not_mounted', detail: 'nothing is mounted here' });
          }
        }
      }
    });

    const probes = Promise.all(
      [...sources].map(async ([key, { entry, paths }]) => {
        const outcome = await opts.runner.probe(key, paths[0]!.path);
        const now = clock.now();
        const verdict = probeVerdict(outcome, entry, opts.timeoutMs, now);
        const source = `${entry.dev} ${entry.root}`;
        const facts = 'ms' in outcome ? { at: now, ms: outcome.ms, source } : undefined;
        if ('inconclusive' in verdict) {
          opts.onInconclusive?.(outcome.kind === 'lost' ? 'helper_lost' : 'device_mismatch');
          logger.debug('probe gave no verdict', { path: paths[0]!.path, reason: verdict.inconclusive });
          if (facts) for (const v of paths) tracker.probed(v.path, facts);
          recheck = Math.min(recheck ?? Infinity, 500);
          return;
        }
        for (const v of paths) apply(v, verdict, facts);
      }),
    );

    await Promise.all([inspections, probes]);
    return {
      ok: true,
      paths: current.size,
      sources: sources.size,
      durationMs: monotonic() - t0,
      ...(recheck !== undefined ? { recheckInMs: recheck } : {}),
    };
  };
}

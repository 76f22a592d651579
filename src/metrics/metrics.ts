// The daemon's metrics on its own prom-client Registry. Per-path series are
// derived from the tracker (again only once it has changed, see scrape-body.ts),
// so a path that is gone has no series left to go stale; the scrape only reads
// memory and never waits on a probe.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PathTracker } from '../track/tracker.js';
import type { HelperPoolStats } from '../probe/helper-pool.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { ALL_STATES } from '../types.js';
import { renderRegistry } from './exposition.js';
import { addPathFamilies, LOOP } from './path-families.js';
import { createPathSeries, type PathSeries } from './path-series.js';
import { createScrapeBody, type ScrapeBody } from './scrape-body.js';

export interface MetricsSources {
  readonly tracker: PathTracker;
  readonly inFlight: () => number;
  readonly stuck: () => number;
  readonly pool: () => HelperPoolStats;
}

export interface MetricsOptions extends MetricsSources {
  readonly nodeName: string;
  readonly version: string;
  readonly probeTimeoutSeconds: number;
  /**
   * The per-path last probe duration, last probe time and state-since series. Off by
   * default: they make a scrape several times larger and no alert needs them (`/status` has them).
   */
  readonly pathTiming?: boolean;
  /** prom-client's process_* and nodejs_* collectors; off in unit tests that count series. */
  readonly defaultMetrics?: boolean;
  /** The wall clock of the last cycle's timestamp. */
  readonly clock?: Clock;
}

export interface ProberMetrics {
  readonly registry: Registry;
  /** Per-path families, rendered beside the Registry's. */
  readonly pathSeries: PathSeries;
  /** The whole exposition, as served: the per-path families (kept between scrapes), then the Registry's. */
  readonly body: ScrapeBody;
  observeProbe(seconds: number, result: string): void;
  observeCycle(seconds: number, ok: boolean): void;
  discoveryError(kind: string): void;
  inconclusive(reason: string): void;
  mountTableSize(entries: number): void;
  mountTableMalformed(lines: number): void;
  /** Whether the pods directory is watched (1) or found only by the periodic scan (0). */
  watching(active: boolean): void;
  /** Directories polled because inotify refused them a watch. */
  watchPolled(dirs: number): void;
}


export function createMetrics(opts: MetricsOptions): ProberMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node_name: opts.nodeName });
  const registers = [registry];
  const { tracker } = opts;
  const clock = opts.clock ?? systemClock;

  const pathSeries = createPathSeries({ tracker, nodeName: opts.nodeName });
  addPathFamilies(pathSeries, tracker, opts.pathTiming ?? false);

  new Gauge({
    name: 'juicefs_path_prober_paths',
    help: `Published JuiceFS paths by state. ${LOOP}.`,
    labelNames: ['state'],
    registers,
    collect() {
      const counts = tracker.counts();
      for (const state of ALL_STATES) this.set({ state }, counts.get(state) ?? 0);
    },
  });

  const probeDuration = new Histogram({
    name: 'juicefs_path_prober_probe_duration_seconds',
    help: 'Duration of probe stat calls, by result (ok, error, timeout).',
    labelNames: ['result'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, opts.probeTimeoutSeconds].filter(
      (b, i, a) => a.indexOf(b) === i && b <= opts.probeTimeoutSeconds,
    ),
    registers,
  });

  new Gauge({
    name: 'juicefs_path_prober_probes_in_flight',
    help: 'Probe calls sent to the helper and not yet returned, stuck ones included.',
    registers,
    collect() {
      this.set(opts.inFlight());
    },
  });

  new Gauge({
    name: 'juicefs_path_prober_stuck_probes',
    help: 'Mount sources whose probe call timed out and has not returned; each holds one helper thread and is not probed again until it returns.',
    registers,
    collect() {
      this.set(opts.stuck());
    },
  });

  new Gauge({
    name: 'juicefs_path_prober_helper_processes',
    help: 'Probe helper processes alive, by role (active takes new probes; retired only holds stuck calls).',
    labelNames: ['role'],
    registers,
    collect() {
      const s = opts.pool();
      this.set({ role: 'active' }, s.helpers - s.retired);
      this.set({ role: 'retired' }, s.retired);
    },
  });

  let exitsSeen = 0;
  new Counter({
    name: 'juicefs_path_prober_helper_unexpected_exits_total',
    help: 'Probe helper processes that died unexpectedly (they are restarted).',
    registers,
    collect() {
      const exits = opts.pool().unexpectedExits;
      if (exits > exitsSeen) this.inc(exits - exitsSeen);
      exitsSeen = exits;
    },
  });

  const cycleDuration = new Histogram({
    name: 'juicefs_path_prober_cycle_duration_seconds',
    help: 'Wall time of a probe cycle: mount table read, classification and the probes it waited for.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });

  const lastCycle = new Gauge({
    name: 'juicefs_path_prober_last_cycle_timestamp_seconds',
    help: 'Unix time the last complete probe cycle finished.',
    registers,
  });

  const discoveryErrors = new Counter({
    name: 'juicefs_path_prober_discovery_errors_total',
    help: 'Errors while finding paths, by kind: vol_data (unreadable or malformed vol_data.json), readdir, symlink (a kubelet directory that is a symlink, not followed), pods_dir, mountinfo, watch.',
    labelNames: ['kind'],
    registers,
  });
  for (const kind of ['vol_data', 'readdir', 'symlink', 'pods_dir', 'mountinfo', 'watch']) discoveryErrors.inc({ kind }, 0);

  const inconclusive = new Counter({
    name: 'juicefs_path_prober_inconclusive_probes_total',
    help: 'Probes that gave no verdict (the path keeps its last state), by reason.',
    labelNames: ['reason'],
    registers,
  });

  const mountEntries = new Gauge({
    name: 'juicefs_path_prober_mount_table_entries',
    help: 'Entries in the mount table at the last cycle.',
    registers,
  });

  // A gauge of the table as it is, not a counter of lines seen: it stays up while the line
  // stays (each is logged only once) and falls back to 0 when the mount goes, so an alert on it resolves.
  const malformedLines = new Gauge({
    name: 'juicefs_path_prober_mount_table_malformed_lines',
    help: 'Lines of the mount table at the last cycle that could not be parsed and were skipped (each is logged once); a mount on such a line is not seen.',
    registers,
  });
  malformedLines.set(0);

  const watchActive = new Gauge({
    name: 'juicefs_path_prober_watch_active',
    help: 'Whether the kubelet pods directory is watched (1), or changes are found only by the periodic scan every --resync (0: directory missing). Directories inotify refused a watch are polled: juicefs_path_prober_watch_polled_directories.',
    registers,
  });
  watchActive.set(0);

  const watchPolled = new Gauge({
    name: 'juicefs_path_prober_watch_polled_directories',
    help: 'Directories of the pods tree inotify refused a watch (fs.inotify.max_user_watches or max_user_instances used up), polled every second instead, each with its pod\'s directories below it.',
    registers,
  });
  watchPolled.set(0);

  new Gauge({
    name: 'juicefs_path_prober_build_info',
    help: 'Build information of juicefs-path-prober.',
    labelNames: ['version', 'nodejs_version'],
    registers,
  }).set({ version: opts.version, nodejs_version: process.version }, 1);

  if (opts.defaultMetrics !== false) {
    // The event-loop delay histogram samples on a timer: prom-client's default 10 ms woke the
    // daemon 100 times a second, most of its idle CPU. Once a second still catches a blocked loop.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
    // These walk every libuv handle on each scrape: with one watch handle per watched
    // directory that was ~30 ms of each scrape at 10,000 pods. (Their *_total twins are
    // also gauges named like counters, which promtool flags.)
    for (const kind of ['handles', 'requests', 'resources']) {
      registry.removeSingleMetric(`nodejs_active_${kind}`);
      registry.removeSingleMetric(`nodejs_active_${kind}_total`);
    }
  }

  const body = createScrapeBody({ kept: pathSeries, fresh: (format) => renderRegistry(registry, format) });
  return {
    registry,
    pathSeries,
    body,
    observeProbe: (s, result) => probeDuration.observe({ result }, s),
    observeCycle(s, ok) {
      cycleDuration.observe(s);
      if (ok) lastCycle.set(clock.now() / 1000);
    },
    discoveryError: (kind) => discoveryErrors.inc({ kind }),
    inconclusive: (reason) => inconclusive.inc({ reason }),
    mountTableSize: (n) => mountEntries.set(n),
    mountTableMalformed: (n) => malformedLines.set(n),
    watching: (active) => watchActive.set(active ? 1 : 0),
    watchPolled: (dirs) => watchPolled.set(dirs),
  };
}

// The per-path families: one series per path, derived from the tracker and rendered
// only when it has changed (path-series.ts). Health for every path with a pod to be
// healthy for; the state for every path that is not healthy; timing behind --path-timing.

import type { PathTracker } from '../track/tracker.js';
import { ALL_STATES, healthValue } from '../types.js';
import { labelPair, type PathSeries } from './path-series.js';

/** What a help text says of a value the probe loop sets. */
export const LOOP = 'Set by the background probe loop (not at scrape time)';

export function addPathFamilies(pathSeries: PathSeries, tracker: PathTracker, pathTiming: boolean): void {
  pathSeries.add({
    name: 'juicefs_volume_path_health',
    help: `Health of a published JuiceFS volume path: 1 healthy, 0 unhealthy (absent while pending or orphaned). ${LOOP}.`,
    samples(s, emit) {
      const v = healthValue(s.state);
      if (v !== undefined) emit('', v);
    },
  });
  // A healthy path, nearly every path of a node, has no state series: its health of 1 says
  // the same under the same labels, and that repeat was over half of the per-path text.
  pathSeries.add({
    name: 'juicefs_volume_path_state',
    help: `Current state of a published JuiceFS volume path that is not healthy (1 for the current state only; a healthy path has no state series, its health is 1): ${ALL_STATES.filter((s) => s !== 'healthy').join(', ')}. ${LOOP}.`,
    samples(s, emit) {
      if (s.state !== 'healthy') emit(labelPair('state', s.state), 1);
    },
  });
  if (pathTiming) {
    pathSeries.add({
      name: 'juicefs_volume_path_last_probe_duration_seconds',
      help: `Duration of the last stat of the path's mount source. ${LOOP}.`,
      samples(s, emit) {
        if (s.lastProbeMs !== undefined) emit('', s.lastProbeMs / 1000);
      },
      revision: tracker.probeRevision,
    });
    pathSeries.add({
      name: 'juicefs_volume_path_last_probe_timestamp_seconds',
      help: `Unix time of the last stat of the path's mount source. ${LOOP}.`,
      samples(s, emit) {
        if (s.lastProbeAt !== undefined) emit('', s.lastProbeAt / 1000);
      },
      revision: tracker.probeRevision,
    });
    pathSeries.add({
      name: 'juicefs_volume_path_state_since_timestamp_seconds',
      help: `Unix time since which the path has been in its current state. ${LOOP}.`,
      samples: (s, emit) => emit('', s.since / 1000),
    });
  }
}

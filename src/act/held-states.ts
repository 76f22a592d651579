// How long each path has been in the kind of trouble an action waits on, from
// the tracker's transitions: a dead mount (what a new pod cures) or a timeout.
// Moving between states of one kind keeps the count; anything else, even one
// healthy moment, starts it again, so a flapping path never adds up.

import type { Clock } from '../shared/clock.js';
import type { PathState, Transition } from '../types.js';
import { EVICTABLE_STATES } from './eviction-policy.js';

export type HeldKind = 'evictable' | 'timeout';

export interface HeldStates {
  transition(t: Transition): void;
  remove(path: string): void;
  /** How long the path has been in `kind` (ms); 0 when it is not. */
  heldMs(path: string, kind: HeldKind): number;
}

const kindOf = (s: PathState): HeldKind | undefined => (EVICTABLE_STATES.has(s) ? 'evictable' : s === 'timeout' ? 'timeout' : undefined);

export function createHeldStates(clock: Clock): HeldStates {
  const held = new Map<string, { kind: HeldKind; since: number }>();
  return {
    transition(t) {
      const kind = kindOf(t.to);
      if (kind === undefined) held.delete(t.volume.path);
      else if (held.get(t.volume.path)?.kind !== kind) held.set(t.volume.path, { kind, since: clock.monotonic() });
    },
    remove: (path) => void held.delete(path),
    heldMs(path, kind) {
      const h = held.get(path);
      return h?.kind === kind ? clock.monotonic() - h.since : 0;
    },
  };
}

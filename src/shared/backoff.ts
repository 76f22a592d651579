// One retry policy for everything that tries again: the API watch, claim
// reads, events, a pod directory caught mid-publish, a helper that will not
// start. Each caller names its numbers; the shape is the same: the delay grows
// by `factor` from `initialMs` up to `maxMs`, with jitter so that a fleet of
// nodes does not retry in step, and an optional end after `maxAttempts`.

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Growth per attempt; 2 when not given. */
  readonly factor?: number;
  /** Share of each delay that is random: 0 none, 0.5 (the default) a delay between half and all of it. */
  readonly jitter?: number;
  /** Attempts after which `next()` says to stop (undefined: never). */
  readonly maxAttempts?: number;
}

export interface Backoff {
  /** The delay before the next attempt, or undefined when attempts are used up. */
  next(): number | undefined;
  /** A success: the next failure starts from `initialMs` again. */
  reset(): void;
  /** Failures since the last reset. */
  readonly attempts: number;
}

/** The delay before attempt `attempt` (0-based), with `random` in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const factor = policy.factor ?? 2;
  const jitter = policy.jitter ?? 0.5;
  const base = Math.min(policy.maxMs, policy.initialMs * factor ** Math.min(attempt, 64));
  return base * (1 - jitter) + random * base * jitter;
}

export function createBackoff(policy: BackoffPolicy, random: () => number = Math.random): Backoff {
  let attempts = 0;
  return {
    next() {
      if (policy.maxAttempts !== undefined && attempts >= policy.maxAttempts) return undefined;
      return backoffDelay(policy, attempts++, random());
    },
    reset() {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}

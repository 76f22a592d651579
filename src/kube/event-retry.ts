// When a failed event send is tried again: as client-go's recorder decides
// (tools/record/event.go: 12 tries in all, maxTriesPerEvent; transport
// errors retried, an API server's refusal not), with its REST client's own
// retries of 429 and 5xx folded in, and a 401 retried because credentials
// are loaded again at once after one.

import type { BackoffPolicy } from '../shared/backoff.js';
import { statusOf } from './resource-watch.js';

/** 12 tries in all, as client-go's recorder; about three minutes of an API server away. */
export const EVENT_RETRY: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, maxAttempts: 11 };

/** Whether a failed try is worth another, and not before when: as client-go decides, its REST client's 429/5xx retries included. */
export function retryOf(err: unknown): { retry: boolean; notBeforeMs: number } {
  const code = statusOf(err);
  const notBeforeMs = (err as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 0;
  // No answer (refused, reset, deadline): the server may be back soon. 401: credentials are being loaded again.
  if (code === undefined || code === 401 || code === 429 || code >= 500) return { retry: true, notBeforeMs };
  return { retry: false, notBeforeMs: 0 };
}

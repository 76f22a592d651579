// One list+watch of a resource, kept going: list, then watch from the list's
// resourceVersion with bookmarks; a watch that ends is resumed from the last
// version seen; a 410 Gone (version too old: on the watch, or a list's
// continue token) lists again, and so does a version the server has never
// reached (its history was replaced: 504 "Too large resource version");
// failures back off. Items are handed over raw, once; what is kept of them is
// the caller's business.

import { errorMessage } from '../errors.js';
import { createBackoff, type BackoffPolicy } from '../shared/backoff.js';
import { systemClock, type Clock } from '../shared/clock.js';

export interface ListPage<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string;
  readonly continueToken?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchHandle {
  abort(): void;
}

export interface ResourceWatchSource<T> {
  /** One page of the list (`continueToken` for the next). */
  list(continueToken?: string): Promise<ListPage<T>>;
  /** Starts a watch; `onLine` gets each decoded line; `done` once, when it ends (err null for a clean end). */
  watch(resourceVersion: string, onLine: (type: string, object: unknown) => void, done: (err: unknown) => void): Promise<WatchHandle>;
}

export interface ResourceWatchOptions<T> {
  readonly name: string;
  readonly source: ResourceWatchSource<T>;
  /** The full set after a (re)list: replaces everything known. */
  readonly onSync: (items: readonly T[]) => void;
  readonly onEvent: (type: WatchEventType, item: T) => void;
  readonly onList?: () => void;
  /** Called on each failure to list or watch, with whether the cache just went stale. */
  readonly onFailure?: (err: unknown) => void;
  readonly onStaleChange?: (stale: boolean) => void;
  readonly clock?: Clock;
  readonly backoff?: BackoffPolicy;
}

export interface ResourceWatch {
  start(): void;
  stop(): void;
  /** True until the first list, and whenever the last list or watch attempt failed. */
  isStale(): boolean;
  lastError(): string | undefined;
  resourceVersion(): string;
}


/** An HTTP status carried by an error from the client library or the watch stream. */
export function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number') return e.code;
  return undefined;
}

export class GoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoneError';
  }
}

/** The watch ended with an ERROR event: the Status it carried. */
export class WatchStatusError extends Error {
  readonly statusCode: number | undefined;
  constructor(readonly status: unknown) {
    super(`watch error: ${(status as { message?: string } | undefined)?.message ?? JSON.stringify(status).slice(0, 200)}`);
    this.name = 'WatchStatusError';
    this.statusCode = statusOf(status);
  }
}

/** A version newer than the server's history (restored from an older backup): only a new list helps. */
function tooLarge(err: unknown): boolean {
  if (!(err instanceof WatchStatusError) || err.statusCode !== 504) return false;
  const causes = (err.status as { details?: { causes?: { reason?: string }[] } } | undefined)?.details?.causes ?? [];
  return causes.some((c) => c.reason === 'ResourceVersionTooLarge');
}

export const WATCH_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };
/** A watch that held this long was a success: the next failure backs off from the start. */
const HELD_MS = 1000;

export function createResourceWatch<T>(opts: ResourceWatchOptions<T>): ResourceWatch {
  const clock = opts.clock ?? systemClock;
  const backoff = createBackoff(opts.backoff ?? WATCH_BACKOFF);
  let rv = '';
  let stopped = true;
  let stale = true;
  let handle: WatchHandle | undefined;
  let lastErr: string | undefined;
  let generation = 0;
  let listedAt = '';
  let stopping = new AbortController();
  /** The next wait on the backoff, cut short by stop(). */
  const delay = () => clock.sleep(backoff.next()!, stopping.signal).catch(() => {});

  const setStale = (s: boolean) => {
    if (s === stale) return;
    stale = s;
    opts.onStaleChange?.(s);
  };
  const fail = (err: unknown) => {
    lastErr = errorMessage(err);
    setStale(true);
    opts.onFailure?.(err);
  };

  const relist = async (): Promise<void> => {
    let items: T[] = [];
    let token: string | undefined;
    let version = '';
    let restarted = false;
    for (;;) {
      let page: ListPage<T>;
      try {
        page = await opts.source.list(token);
      } catch (err) {
        // A continue token compacted away mid-list: the list starts over, once, at once.
        if (!token || restarted || statusOf(err) !== 410) throw err;
        restarted = true;
        items = [];
        token = undefined;
        continue;
      }
      items.push(...page.items);
      token = page.continueToken || undefined;
      version = page.resourceVersion;
      if (!token) break;
    }
    opts.onList?.();
    rv = version;
    listedAt = version;
    opts.onSync(items);
  };

  /** Watches until the stream ends; resolves with the error it ended with (null: clean end). */
  const watchOnce = (gen: number): Promise<unknown> =>
    new Promise((resolve) => {
      let gone = false;
      let status: unknown;
      let ended = false;
      const onLine = (type: string, object: unknown) => {
        if (gen !== generation) return;
        const version = (object as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
        switch (type) {
          case 'ADDED':
          case 'MODIFIED':
          case 'DELETED':
            opts.onEvent(type, object as T);
            if (version) rv = version;
            return;
          case 'BOOKMARK':
            if (version) rv = version;
            return;
          case 'ERROR':
            if (statusOf(object) === 410) gone = true;
            else status = object ?? {};
            handle?.abort();
            return;
        }
      };
      opts.source
        .watch(rv, onLine, (err) => {
          ended = true;
          resolve(gone ? new GoneError('watch: resourceVersion too old (410 Gone)') : status !== undefined ? new WatchStatusError(status) : err);
        })
        .then(
          (h) => {
            handle = h;
            if (gen !== generation) return h.abort();
            // The stream is open (a refused or failed request has ended by now): the cache is current again.
            if (!ended) {
              lastErr = undefined;
              setStale(false);
            }
          },
          (err: unknown) => resolve(err),
        );
    });

  const loop = async (gen: number) => {
    while (!stopped && gen === generation) {
      if (!rv) {
        try {
          await relist();
          backoff.reset();
          lastErr = undefined;
          setStale(false);
        } catch (err) {
          if (stopped || gen !== generation) return;
          fail(err);
          await delay();
          continue;
        }
      }
      if (stopped || gen !== generation) return;
      const startedAt = clock.monotonic();
      const err = await watchOnce(gen);
      handle = undefined;
      if (stopped || gen !== generation) return;
      // A watch that held for a while ends a run of failures: the next one backs off from the start.
      const held = clock.monotonic() - startedAt > HELD_MS;
      if (held) backoff.reset();
      if (err instanceof GoneError || statusOf(err) === 410 || tooLarge(err)) {
        // Relist: the events in between are lost. At once, unless the list's own version was refused.
        const listVersion = rv === listedAt;
        rv = '';
        if (listVersion || tooLarge(err)) await delay();
        continue;
      }
      const aborted = err instanceof Error && err.name === 'AbortError';
      if (err && !aborted) {
        fail(err);
        await delay();
        continue;
      }
      // A clean end (server timeout, dropped connection): resume from rv, at once unless it keeps happening.
      if (!held) await delay();
    }
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      stopping = new AbortController();
      void loop(++generation);
    },
    stop() {
      stopped = true;
      generation++;
      stopping.abort();
      handle?.abort();
      handle = undefined;
    },
    isStale: () => stale,
    lastError: () => lastErr,
    resourceVersion: () => rv,
  };
}

// One list+watch of a resource, kept going: list, then watch from the list's
// resourceVersion with bookmarks; a watch that ends is resumed from the last
// version seen; a 410 Gone (version too old) relists; failures back off.
// Items are handed over raw, once; what is kept of them is the caller's business.

import { errorMessage } from '../errors.js';
import { sleep } from '../shared/timers.js';

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
  readonly delay?: (ms: number) => Promise<void>;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
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

export function createResourceWatch<T>(opts: ResourceWatchOptions<T>): ResourceWatch {
  const delay = opts.delay ?? sleep;
  const initial = opts.backoff?.initialMs ?? 500;
  const max = opts.backoff?.maxMs ?? 30_000;
  let rv = '';
  let stopped = true;
  let stale = true;
  let handle: WatchHandle | undefined;
  let failures = 0;
  let lastErr: string | undefined;
  let generation = 0;
  let listedAt = '';

  const setStale = (s: boolean) => {
    if (s === stale) return;
    stale = s;
    opts.onStaleChange?.(s);
  };
  const fail = (err: unknown) => {
    failures++;
    lastErr = errorMessage(err);
    setStale(true);
    opts.onFailure?.(err);
  };
  const backoffMs = () => {
    const base = Math.min(max, initial * 2 ** Math.min(failures - 1, 20));
    return base / 2 + Math.random() * (base / 2);
  };

  const relist = async (): Promise<void> => {
    const items: T[] = [];
    let token: string | undefined;
    let version = '';
    do {
      const page = await opts.source.list(token);
      items.push(...page.items);
      token = page.continueToken || undefined;
      version = page.resourceVersion;
    } while (token);
    opts.onList?.();
    rv = version;
    listedAt = version;
    opts.onSync(items);
  };

  /** Watches until the stream ends; resolves with the error it ended with (null: clean end). */
  const watchOnce = (gen: number): Promise<unknown> =>
    new Promise((resolve) => {
      let gone = false;
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
            else lastErr = `watch error: ${JSON.stringify(object).slice(0, 200)}`;
            handle?.abort();
            return;
        }
      };
      opts.source
        .watch(rv, onLine, (err) => {
          ended = true;
          resolve(gone ? new GoneError('watch: resourceVersion too old (410 Gone)') : err);
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
          failures = 0;
          lastErr = undefined;
          setStale(false);
        } catch (err) {
          if (stopped || gen !== generation) return;
          fail(err);
          await delay(backoffMs());
          continue;
        }
      }
      if (stopped || gen !== generation) return;
      const startedAt = Date.now();
      const err = await watchOnce(gen);
      handle = undefined;
      if (stopped || gen !== generation) return;
      // A watch that held for a while ends a run of failures: the next one backs off from the start.
      const held = Date.now() - startedAt > 1000;
      if (held) failures = 0;
      if (err instanceof GoneError || statusOf(err) === 410) {
        // Relist: the events in between are lost. At once, unless the list's own version was refused.
        const listVersion = rv === listedAt;
        rv = '';
        if (listVersion) {
          failures++;
          await delay(backoffMs());
        }
        continue;
      }
      const aborted = err instanceof Error && err.name === 'AbortError';
      if (err && !aborted) {
        fail(err);
        await delay(backoffMs());
        continue;
      }
      // A clean end (server timeout, dropped connection): resume from rv, at once unless it keeps happening.
      if (!held) {
        failures++;
        await delay(backoffMs());
      }
    }
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      void loop(++generation);
    },
    stop() {
      stopped = true;
      generation++;
      handle?.abort();
      handle = undefined;
    },
    isStale: () => stale,
    lastError: () => lastErr,
    resourceVersion: () => rv,
  };
}

// The credentials requests go with, kept current:
// - an in-cluster token file is read again as soon as it changes (kubelet
//   swaps the `..data` symlink of the projected volume: one stat per request
//   sees the new file) and at once after a 401;
// - a 401 loads the configuration again (the loader process), at once, and
//   again only on the backoff while refusals go on;
// - credentials with an expiry (an exec plugin's, an OIDC id-token) are
//   loaded again shortly before they expire, not after a refused request;
// - credentials that could not be had (an exec plugin failed) are asked for
//   again on the backoff: without them a request is anonymous, and an API
//   server that allows anonymous requests answers 403, not 401;
// - new TLS material or a new proxy gives new requests a new agent, and the
//   old one keeps its live connections (a watch) until they end.

import fs from 'node:fs';
import type http from 'node:http';
import { createBackoff } from '../shared/backoff.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { agentKey, makeAgent, retireAgent } from './agents.js';
import type { LoadedKubeConfig } from './config-types.js';

export interface Credentials {
  /** Settles once a reload a refusal started is over: a request waits for it rather than go with what was refused. */
  current(): Promise<void>;
  /** Headers for a request starting now. */
  headers(): Record<string, string>;
  /** The agent a request starting now goes through. */
  agent(): http.Agent;
  /** The server refused the credentials (401). */
  refused(): void;
  /** The server took them (a 2xx): refusals are over. */
  accepted(): void;
  /** Why the last load could not get credentials (an exec plugin failed), or undefined. */
  authError(): string | undefined;
  /** Loads that could not get credentials, since the start. */
  authErrors(): number;
  /** Called now, and after each load, with the auth error (undefined: credentials were had). */
  onLoad(listener: (authError: string | undefined) => void): void;
  stop(): void;
}

/** The shortest time between two loads, and how far before an expiry to load again. */
const MIN_RELOAD_GAP_MS = 1000;
const MAX_EARLY_MS = 60_000;
/** A loader that has not answered by then (an exec plugin hanging) is killed: the next refusal tries again. */
const LOAD_TIMEOUT_MS = 60_000;

interface TokenRead {
  readonly value: string;
  readonly stat: string;
}

export async function createCredentials(o: { initial: LoadedKubeConfig; secure: boolean; load: (signal: AbortSignal) => Promise<LoadedKubeConfig>; clock: Clock }): Promise<Credentials> {
  const { clock } = o;
  let cfg = o.initial;
  let key = agentKey(cfg);
  let agent = await makeAgent(cfg, o.secure);
  let token: TokenRead | undefined;
  let forceRead = false;
  let reloading: Promise<void> | undefined;
  let refusedLoad: Promise<void> | undefined;
  let nextLoadAt = -Infinity;
  let nextTimer: TimerHandle | undefined;
  let stopped = false;
  let authErrors = cfg.authError ? 1 : 0;
  const listeners: ((authError: string | undefined) => void)[] = [];
  const backoff = createBackoff({ initialMs: MIN_RELOAD_GAP_MS, maxMs: 30_000 });

  /** The token file as it is now: read again only when its identity changed (a stat per request). */
  const tokenNow = (file: string): string | undefined => {
    try {
      const st = fs.statSync(file);
      const id = `${st.dev}:${st.ino}:${st.size}:${Math.trunc(st.mtimeMs)}`;
      if (!token || forceRead || token.stat !== id) token = { value: fs.readFileSync(file, 'utf8').trim(), stat: id };
      forceRead = false;
    } catch {
      // Mid-rotation or gone: the last token read is the best there is.
    }
    return token?.value;
  };

  const apply = async (next: LoadedKubeConfig) => {
    if (next.tokenFile !== cfg.tokenFile) token = undefined;
    const nextKey = agentKey(next);
    if (nextKey !== key) {
      const old = agent;
      agent = await makeAgent(next, o.secure);
      key = nextKey;
      retireAgent(old);
    }
    cfg = next;
    if (next.authError) authErrors++;
    for (const l of listeners) l(next.authError);
    schedule();
  };

  const load = (): Promise<void> | undefined => {
    if (reloading || stopped) return reloading;
    nextLoadAt = clock.monotonic() + (backoff.next() ?? MIN_RELOAD_GAP_MS);
    const done = clock
      .deadline(LOAD_TIMEOUT_MS, `the configuration loader gave no answer within ${LOAD_TIMEOUT_MS} ms`, (signal) => o.load(signal))
      .then(apply, () => {
        // The configuration cannot be read now: the credentials in hand are kept, and it is tried again.
        schedule();
      })
      .finally(() => {
        if (reloading === done) reloading = undefined;
      });
    reloading = done;
    return done;
  };

  /**
   * The next load no request asks for: on the backoff while credentials cannot be had; a little
   * before they expire (a quarter of their life, at most a minute) when they can.
   */
  const schedule = () => {
    if (nextTimer !== undefined) clock.clearTimeout(nextTimer);
    nextTimer = undefined;
    if (stopped) return;
    let wait: number;
    if (cfg.authError) wait = Math.max(0, nextLoadAt - clock.monotonic());
    else if (cfg.expiresAt !== undefined && cfg.expiresAt > clock.now()) {
      const left = cfg.expiresAt - clock.now();
      wait = Math.max(MIN_RELOAD_GAP_MS, left - Math.min(MAX_EARLY_MS, left / 4));
    } else return; // no expiry known, or already past it: a 401 loads again
    nextTimer = clock.setTimeout(() => {
      nextTimer = undefined;
      if (!cfg.authError) nextLoadAt = -Infinity;
      load();
    }, wait);
  };
  if (cfg.authError) nextLoadAt = clock.monotonic() + backoff.next()!;
  schedule();

  return {
    current: () => refusedLoad ?? Promise.resolve(),
    headers() {
      const h: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'juicefs-path-prober', ...cfg.headers };
      if (cfg.tokenFile) {
        const t = tokenNow(cfg.tokenFile);
        if (t) h.Authorization = `Bearer ${t}`;
      }
      return h;
    },
    agent: () => agent,
    refused() {
      forceRead = true;
      if (clock.monotonic() < nextLoadAt) return;
      const done = load();
      if (done && !refusedLoad) refusedLoad = done.finally(() => (refusedLoad = undefined));
    },
    accepted() {
      if (backoff.attempts > 0 && !reloading) {
        backoff.reset();
        nextLoadAt = -Infinity;
      }
    },
    authError: () => cfg.authError,
    authErrors: () => authErrors,
    onLoad(l) {
      listeners.push(l);
      l(cfg.authError);
    },
    stop() {
      stopped = true;
      if (nextTimer !== undefined) clock.clearTimeout(nextTimer);
      retireAgent(agent);
    },
  };
}

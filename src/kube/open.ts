// The API client for a chosen source. A kubeconfig that cannot be used is a
// usage error (exit 2), found at start rather than at the first request.
//
// @kubernetes/client-node stays the authority on the configuration, but runs
// only in a short-lived loader process (config-main.ts): imported, it would keep
// ~60 MiB resident in the daemon for its whole life, for the five requests the
// daemon makes. Those are plain HTTP here: list and watch pods, read a claim,
// create and patch events.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CoreV1Event, V1PersistentVolumeClaim, V1PodList } from '@kubernetes/client-node';
import { UsageError, errorMessage } from '../errors.js';
import type { LoadedKubeConfig } from './config-types.js';
import type { KubeSource } from './detect.js';

export interface KubeCore {
  listPodForAllNamespaces(p: { fieldSelector?: string; limit?: number; _continue?: string }): Promise<V1PodList>;
  readNamespacedPersistentVolumeClaim(p: { name: string; namespace: string }): Promise<V1PersistentVolumeClaim>;
  createNamespacedEvent(p: { namespace: string; body: CoreV1Event }): Promise<unknown>;
  /** Always a JSON merge patch (the only kind the daemon sends); `options` is accepted for the call's shape. */
  patchNamespacedEvent(p: { name: string; namespace: string; body: object }, options?: unknown): Promise<unknown>;
}

export interface KubeWatch {
  /** Resolves once the stream is open (or has failed: `done` is then called with the error). */
  watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (type: string, object: unknown) => void, done: (err: unknown) => void): Promise<{ abort(): void }>;
}

export interface KubeClient {
  readonly core: KubeCore;
  readonly watch: KubeWatch;
  /** The API server's URL; empty until the configuration is loaded. */
  readonly server: string;
  /**
   * Settles once the configuration is loaded; rejects with a UsageError if it cannot be.
   * Requests made before then wait for it, so loading never holds up the daemon's start.
   */
  readonly loaded: Promise<void>;
}

/** A refused request: `code` is the HTTP status, as the client library's errors carry it. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly body: string;
  constructor(code: number, body: string) {
    super(`HTTP ${code}: ${(http.STATUS_CODES[code] ?? 'error')}${body ? `: ${body.slice(0, 300)}` : ''}`);
    this.name = 'KubeApiError';
    this.code = code;
    this.body = body;
  }
}

/** Kept for the call sites written against the client library: a merge patch is what is sent. */
export const PatchStrategy = { MergePatch: 'application/merge-patch+json' } as const;
export function setHeaderOptions(_name: string, _value: string): undefined {
  return undefined;
}

const LOADER = fileURLToPath(new URL('./config-main.js', import.meta.url));
const loaderArgs = (source: Exclude<KubeSource, { kind: 'off' }>) => ['--max-old-space-size=128', LOADER, JSON.stringify(source)];

function parseLoaded(stdout: string): LoadedKubeConfig {
  const loaded = JSON.parse(stdout.trim().split('\n').pop() ?? '') as LoadedKubeConfig;
  if (typeof loaded?.server !== 'string') throw new Error('the configuration loader printed no server');
  return loaded;
}

export function openKube(source: Exclude<KubeSource, { kind: 'off' }>): KubeClient {
  const flag = source.kind === 'kubeconfig' ? 'kubeconfig' : 'kube';
  let client: KubeClient | undefined;
  const loaded = runLoader(source).then(
    (cfg) => {
      let base: URL;
      try {
        base = new URL(cfg.server);
        if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`unsupported server URL ${cfg.server}`);
      } catch (err) {
        throw new UsageError(`--${flag}: ${errorMessage(err)}`, flag, { cause: err });
      }
      client = createClient(cfg, base, () => runLoader(source));
    },
    (err: unknown) => {
      throw new UsageError(`--${flag}: ${errorMessage(err)}`, flag, { cause: err });
    },
  );
  loaded.catch(() => {}); // the owner awaits it; requests waiting on it fail with it
  const ready = async () => {
    await loaded;
    return client!;
  };
  return {
    get server() {
      return client?.server ?? '';
    },
    loaded,
    core: {
      listPodForAllNamespaces: async (p) => (await ready()).core.listPodForAllNamespaces(p),
      readNamespacedPersistentVolumeClaim: async (p) => (await ready()).core.readNamespacedPersistentVolumeClaim(p),
      createNamespacedEvent: async (p) => (await ready()).core.createNamespacedEvent(p),
      patchNamespacedEvent: async (p, o) => (await ready()).core.patchNamespacedEvent(p, o),
    },
    watch: {
      watch: async (path, query, onEvent, done) => (await ready()).watch.watch(path, query, onEvent, done),
    },
  };
}

/** Runs the configuration loader: the connection and credentials, or why not (its stderr). */
function runLoader(source: Exclude<KubeSource, { kind: 'off' }>): Promise<LoadedKubeConfig> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, loaderArgs(source), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code !== 0) return reject(new Error(err.trim() || `the configuration loader exited with ${code ?? signal}`));
      try {
        resolve(parseLoaded(out));
      } catch (e) {
        reject(e);
      }
    });
  });
}

const TOKEN_REREAD_MS = 60_000;
const RELOAD_MIN_GAP_MS = 30_000;

function createClient(initial: LoadedKubeConfig, base: URL, load: () => Promise<LoadedKubeConfig>): KubeClient {
  const loaded = Promise.resolve();
  let cfg = initial;
  const secure = base.protocol === 'https:';
  const makeAgent = (c: LoadedKubeConfig) =>
    secure
      ? new https.Agent({ keepAlive: true, ...(c.ca ? { ca: c.ca } : {}), ...(c.cert ? { cert: c.cert } : {}), ...(c.key ? { key: c.key } : {}), ...(c.servername ? { servername: c.servername } : {}), ...(c.insecure ? { rejectUnauthorized: false } : {}) })
      : new http.Agent({ keepAlive: true });
  let agent = makeAgent(cfg);
  let token: { value: string; at: number } | undefined;
  let lastReload = -Infinity;
  let reloading: Promise<void> | undefined;

  const headers = (): Record<string, string> => {
    const h: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'juicefs-path-prober', ...cfg.headers };
    if (cfg.tokenFile) {
      const now = performance.now();
      if (!token || now - token.at > TOKEN_REREAD_MS) {
        try {
          token = { value: fs.readFileSync(cfg.tokenFile, 'utf8').trim(), at: now };
        } catch {
          token = token ? { value: token.value, at: now } : undefined;
        }
      }
      if (token) h.Authorization = `Bearer ${token.value}`;
    }
    return h;
  };

  /** A 401: the credentials expired (an exec plugin's token) or were rotated; load them again, not too often. */
  const refused = () => {
    if (reloading || performance.now() - lastReload < RELOAD_MIN_GAP_MS) return;
    lastReload = performance.now();
    token = undefined;
    reloading = load()
      .then(
        (c) => {
          const old = agent;
          cfg = c;
          agent = makeAgent(c);
          old.destroy();
        },
        () => {},
      )
      .finally(() => (reloading = undefined));
  };

  const url = (path: string, query: Record<string, string | number | boolean | undefined> = {}) => {
    const u = new URL(base.pathname.replace(/\/$/, '') + path, base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  };

  // No AbortSignal on the request: aborting through one destroys a keep-alive socket
  // with an error event nobody may be listening for. Requests are ended by hand.
  const open = (method: string, u: URL, body?: { type: string; data: string }, timeoutMs?: number) => {
    const h = headers();
    if (body) {
      h['Content-Type'] = body.type;
      h['Content-Length'] = String(Buffer.byteLength(body.data));
    }
    const req = (secure ? https : http).request(u, { method, agent, headers: h });
    if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from the API server within ${timeoutMs} ms`)));
    const res = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.on('error', reject);
    });
    req.end(body?.data);
    return { req, res };
  };

  const readAll = (res: http.IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.once('end', () => resolve(text));
      res.on('error', reject);
    });

  const call = async <T>(method: string, u: URL, body?: { type: string; data: string }): Promise<T> => {
    const res = await open(method, u, body, 60_000).res;
    const text = await readAll(res);
    const code = res.statusCode ?? 0;
    if (code === 401) refused();
    if (code < 200 || code >= 300) throw new KubeApiError(code, text);
    return JSON.parse(text) as T;
  };
  const json = (o: unknown) => ({ type: 'application/json', data: JSON.stringify(o) });
  const seg = encodeURIComponent;

  return {
    server: cfg.server,
    loaded,
    core: {
      listPodForAllNamespaces: (p) => call('GET', url('/api/v1/pods', { fieldSelector: p.fieldSelector, limit: p.limit, continue: p._continue })),
      readNamespacedPersistentVolumeClaim: (p) => call('GET', url(`/api/v1/namespaces/${seg(p.namespace)}/persistentvolumeclaims/${seg(p.name)}`)),
      createNamespacedEvent: (p) => call('POST', url(`/api/v1/namespaces/${seg(p.namespace)}/events`), json(p.body)),
      patchNamespacedEvent: (p) =>
        call('PATCH', url(`/api/v1/namespaces/${seg(p.namespace)}/events/${seg(p.name)}`), { type: PatchStrategy.MergePatch, data: JSON.stringify(p.body) }),
    },
    watch: {
      async watch(path, query, onEvent, done) {
        let ended = false;
        let aborted = false;
        const { req, res: pending } = open('GET', url(path, { ...query, watch: true }));
        const end = (err: unknown) => {
          if (ended) return;
          ended = true;
          req.destroy();
          done(err);
        };
        const abort = () => {
          aborted = true;
          end(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }));
        };
        try {
          const res = await pending;
          const code = res.statusCode ?? 0;
          if (code !== 200) {
            if (code === 401) refused();
            const text = await readAll(res).catch(() => '');
            throw Object.assign(new KubeApiError(code, text), { statusCode: code });
          }
          res.socket?.setKeepAlive(true, 30_000);
          res.on('error', (err) => end(aborted ? null : err));
          const lines = createInterface({ input: res, crlfDelay: Infinity });
          // readline passes the stream's errors on (a dropped connection): one handler for both.
          lines.on('error', (err) => end(aborted ? null : err));
          lines.on('line', (line) => {
            if (ended) return;
            let data: { type?: unknown; object?: unknown };
            try {
              data = JSON.parse(line) as typeof data;
            } catch {
              return;
            }
            onEvent(String(data.type), data.object);
          });
          res.once('close', () => end(null));
        } catch (err) {
          end(err);
        }
        return { abort };
      },
    },
  };
}

// The five requests the daemon makes of the API server, as plain HTTP: list
// and watch pods, read a claim, create and patch events. Credentials come from
// the configuration loader; a 401 loads them again (an exec plugin's token
// expired), and an in-cluster token file is re-read as kubelet rotates it.

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { LoadedKubeConfig } from './config-types.js';
import { KubeApiError, PatchStrategy, type KubeClient } from './client.js';

const TOKEN_REREAD_MS = 60_000;
const RELOAD_MIN_GAP_MS = 30_000;

export function createHttpClient(initial: LoadedKubeConfig, base: URL, load: () => Promise<LoadedKubeConfig>): KubeClient {
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

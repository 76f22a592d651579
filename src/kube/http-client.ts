// The requests the daemon makes of the API server, as plain HTTP: list and
// watch pods, read a claim, create and patch events; and, only when asked
// (--pod-condition, --evict-after), patch a pod's status and evict a pod. Credentials, their
// refresh and the connection pool are credentials.ts's; here each request
// gets the ones current when it starts. A request has a deadline (the clock's,
// through p-timeout) and may be abandoned through its caller's signal: either
// closes its connection, instead of leaving it to hang.

import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { V1PodList } from '@kubernetes/client-node';
import type { Clock } from '../shared/clock.js';
import { KubeApiError, PatchStrategy, type KubeClient, type RequestOptions } from './client.js';
import type { LoadedKubeConfig } from './config-types.js';
import { createCredentials } from './credentials.js';

/** The longest a list, a claim read or an event request may take. */
const REQUEST_TIMEOUT_MS = 60_000;

interface Body {
  readonly type: string;
  readonly data: string;
}

interface Answer {
  readonly code: number;
  readonly text: string;
  readonly retryAfterMs: number | undefined;
}

function retryAfter(v: string | undefined, now: number): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export async function createHttpClient(o: { initial: LoadedKubeConfig; base: URL; load: (signal: AbortSignal) => Promise<LoadedKubeConfig>; clock: Clock }): Promise<KubeClient> {
  const { base, clock } = o;
  const secure = base.protocol === 'https:';
  const creds = await createCredentials({ initial: o.initial, secure, load: o.load, clock });
  const transport = secure ? https : http;

  const url = (path: string, query: Record<string, string | number | boolean | undefined> = {}) => {
    const u = new URL(base.pathname.replace(/\/$/, '') + path, base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  };

  const start = (method: string, u: URL, body?: Body) => {
    const h = creds.headers();
    if (body) {
      h['Content-Type'] = body.type;
      h['Content-Length'] = String(Buffer.byteLength(body.data));
    }
    return transport.request(u, { method, agent: creds.agent(), headers: h });
  };

  /**
   * One request and its whole answer. The signal is followed by hand, not given to Node: an
   * abort must destroy this request's socket and nothing else, and every error the request
   * or its answer raises later (a reset after the abort) must land on a listener.
   */
  const exchange = (method: string, u: URL, body: Body | undefined, signal: AbortSignal) =>
    new Promise<Answer>((resolve, reject) => {
      const req = start(method, u, body);
      let settled = false;
      const onAbort = () => {
        const reason: unknown = signal.reason;
        req.destroy(reason instanceof Error ? reason : new Error(String(reason)));
        fail(reason);
      };
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(err);
      };
      req.on('error', fail);
      req.once('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('error', fail);
        res.once('end', () => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve({ code: res.statusCode ?? 0, text, retryAfterMs: retryAfter(res.headers['retry-after'], clock.now()) });
        });
      });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      req.end(body?.data);
    });

  const call = <T>(method: string, u: URL, body?: Body, ro: RequestOptions = {}): Promise<T> =>
    clock.deadline(REQUEST_TIMEOUT_MS, `no answer from the API server within ${REQUEST_TIMEOUT_MS} ms`, async (deadline) => {
      await creds.current();
      const a = await exchange(method, u, body, ro.signal ? AbortSignal.any([deadline, ro.signal]) : deadline);
      if (a.code === 401) creds.refused();
      if (a.code < 200 || a.code >= 300) throw new KubeApiError(a.code, a.text, a.retryAfterMs);
      creds.accepted();
      return JSON.parse(a.text) as T;
    });
  const json = (v: unknown): Body => ({ type: 'application/json', data: JSON.stringify(v) });
  const seg = encodeURIComponent;

  return {
    server: o.initial.server,
    loaded: Promise.resolve(),
    authError: () => creds.authError(),
    authErrors: () => creds.authErrors(),
    onCredentials: (l) => creds.onLoad(l),
    stop: () => creds.stop(),
    core: {
      async listPodForAllNamespaces(p, ro) {
        const list = await call<V1PodList & { metadata?: { continue?: string } }>('GET', url('/api/v1/pods', { fieldSelector: p.fieldSelector, limit: p.limit, continue: p._continue }), undefined, ro);
        // The wire's `continue` is the client library's `_continue` (a reserved word in its generated types).
        if (list.metadata?.continue) list.metadata._continue = list.metadata.continue;
        return list;
      },
      readNamespacedPersistentVolumeClaim: (p, ro) => call('GET', url(`/api/v1/namespaces/${seg(p.namespace)}/persistentvolumeclaims/${seg(p.name)}`), undefined, ro),
      createNamespacedEvent: (p, ro) => call('POST', url(`/api/v1/namespaces/${seg(p.namespace)}/events`), json(p.body), ro),
      patchNamespacedEvent: (p, ro) =>
        call('PATCH', url(`/api/v1/namespaces/${seg(p.namespace)}/events/${seg(p.name)}`), { type: PatchStrategy.MergePatch, data: JSON.stringify(p.body) }, ro),
      patchNamespacedPodStatus: (p, ro) =>
        call('PATCH', url(`/api/v1/namespaces/${seg(p.namespace)}/pods/${seg(p.name)}/status`), { type: PatchStrategy.StrategicMergePatch, data: JSON.stringify(p.body) }, ro),
      createNamespacedPodEviction: (p, ro) => call('POST', url(`/api/v1/namespaces/${seg(p.namespace)}/pods/${seg(p.name)}/eviction`), json(p.body), ro),
    },
    watch: {
      // A watch has no deadline of its own: it is long by design; its owner ends it (kube.ts).
      async watch(path, query, onEvent, done) {
        let ended = false;
        let aborted = false;
        await creds.current();
        const req = start('GET', url(path, { ...query, watch: true }));
        const pending = new Promise<http.IncomingMessage>((resolve, reject) => {
          req.once('response', resolve);
          req.on('error', reject);
        });
        req.end();
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
        req.on('error', (err) => end(aborted ? null : err));
        try {
          const res = await pending;
          const code = res.statusCode ?? 0;
          if (code !== 200) {
            if (code === 401) creds.refused();
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            await new Promise<void>((r) => {
              res.once('end', r);
              res.once('error', () => r());
            });
            throw Object.assign(new KubeApiError(code, text), { statusCode: code });
          }
          creds.accepted();
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

// The HTTP surface, as a node:http request listener from a factory; only main
// listens. A request with a body is refused; then the route: 404 for unknown
// paths, 405 for methods other than GET and HEAD, else the handler, whose
// failure is a logged 500. Every handler answers from memory: no request waits
// on a probe.

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.js';
import { negotiateFormat, OPENMETRICS_TEXT, PROMETHEUS_TEXT, type Format } from '../metrics/exposition.js';
import { prefersGzip } from './accept-encoding.js';

export interface AppDeps {
  /** The /metrics body in `format`, gzip-compressed when `gzip` (see metrics/scrape-body.ts). */
  readonly renderMetrics: (format: Format, gzip: boolean) => Promise<Buffer>;
  /** The /status document, answered as JSON. */
  readonly status: () => object;
  /** The HTML page at `/` (see status-page.ts). */
  readonly statusPage: () => string;
  readonly isReady: () => boolean;
  /** What /readyz says while not ready. */
  readonly notReadyReason?: () => string;
  readonly logger: Logger;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

const ALLOW = 'GET, HEAD';

/** An answer before it is written: Content-Length comes from the body. */
interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

type Handler = (req: IncomingMessage) => Reply | Promise<Reply>;

function plain(status: number, text: string, headers: Readonly<Record<string, string>> = {}): Reply {
  return { status, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }, body: text };
}

export function createApp(deps: AppDeps): RequestListener {
  const routes: Readonly<Record<string, Handler>> = {
    '/metrics': async (req) => {
      const format = negotiateFormat(req.headers.accept);
      // Prometheus asks for gzip: a tenth of the bytes, and kept compressed between scrapes.
      const gzip = prefersGzip(req.headers['accept-encoding']);
      const body = await deps.renderMetrics(format, gzip);
      const headers: Record<string, string> = { 'Content-Type': format === 'openmetrics' ? OPENMETRICS_TEXT : PROMETHEUS_TEXT, Vary: 'Accept-Encoding' };
      if (gzip) headers['Content-Encoding'] = 'gzip';
      return { status: 200, headers, body };
    },
    '/healthz': () => plain(200, 'ok\n'),
    '/readyz': () => {
      const ready = deps.isReady();
      return plain(ready ? 200 : 503, ready ? 'ready\n' : `${deps.notReadyReason?.() ?? 'waiting for the first probe cycle'}\n`);
    },
    '/status': () => ({ status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(deps.status()) }),
    '/': () => ({
      status: 200,
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        // The page carries names from the API and the kubelet directory: besides escaping them,
        // let the browser run nothing and load nothing, whatever the page turns out to contain.
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
        'X-Content-Type-Options': 'nosniff',
      },
      body: deps.statusPage(),
    }),
  };

  async function answer(req: IncomingMessage): Promise<Reply> {
    if (hasBody(req.headers)) return refuseBody(req.method);
    const path = pathOf(req.url ?? '/');
    const handler = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!handler) return plain(404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(405, 'method not allowed\n', { Allow: ALLOW });
    let reply: Reply;
    try {
      reply = await handler(req);
    } catch (err) {
      // No stack trace to the client: it can name paths on the node.
      deps.logger.error('http handler failed', { path, error: err });
      reply = plain(500, 'internal error\n');
    }
    return { ...reply, headers: { 'Cache-Control': 'no-store', ...reply.headers } };
  }

  return (req, res) => {
    reportStreamErrors(req, res, deps.logger);
    answer(req)
      .then((reply) => send(req, res, reply))
      .catch((err: unknown) => {
        deps.logger.error('http handler failed', { path: req.url, error: err });
        res.destroy();
      });
  };
}

/**
 * Nothing here reads a body: refuse one rather than read it, and close the
 * connection so the rest of it is never read either.
 */
function refuseBody(method: string | undefined): Reply {
  const get = method === 'GET' || method === 'HEAD';
  return get
    ? plain(413, 'request bodies are not accepted\n', { Connection: 'close' })
    : plain(405, 'method not allowed\n', { Allow: ALLOW, Connection: 'close' });
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

/** The path of a request target, without query or fragment; an absolute URL's scheme and host are dropped. Never decoded. */
function pathOf(target: string): string {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  const rest = authority ? target.slice(authority[0].length) : target;
  const end = rest.search(/[?#]/);
  return (end === -1 ? rest : rest.slice(0, end)) || '/';
}

/** Writes `reply` with its length; HEAD gets the same headers and no body. A client already gone gets nothing. */
function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (res.writableEnded || res.socket?.writable === false) return;
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  res.setHeader('Content-Length', body.length);
  if (req.method === 'HEAD') res.end();
  else res.end(body);
}

/**
 * A client that goes away mid-answer makes the response or its connection
 * emit 'error': logged once per kind, never thrown. The connection outlives
 * the response on keep-alive, so its listener goes when the response closes.
 */
function reportStreamErrors(req: IncomingMessage, res: ServerResponse, logger: Logger): void {
  const report = (err: unknown) => logger.once(`http-error:${String(err)}`, 'warn', 'http request failed', { error: err });
  res.on('error', report);
  const socket = req.socket;
  socket.on('error', report);
  res.once('close', () => socket.off('error', report));
}

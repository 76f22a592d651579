// The HTTP surface, as a Koa app from a factory; only main listens. Composed
// middleware: error boundary → body refusal → routes (404, method guard, the
// handler). Every handler answers from memory: no request waits on a probe.

import Koa from 'koa';
import type { Logger } from '../log/logger.js';
import { negotiateFormat, OPENMETRICS_TEXT, PROMETHEUS_TEXT, type Format } from '../metrics/exposition.js';

export interface AppDeps {
  /** The /metrics body in `format`, gzip-compressed when `gzip` (see metrics/scrape-body.ts). */
  readonly renderMetrics: (format: Format, gzip: boolean) => Promise<Buffer>;
  readonly status: () => unknown;
  /** The HTML page at `/` (see status-page.ts). */
  readonly statusPage: () => string;
  readonly isReady: () => boolean;
  /** What /readyz says while not ready. */
  readonly notReadyReason?: () => string;
  readonly logger: Logger;
}

const ALLOW = 'GET, HEAD';

type Handler = (ctx: Koa.Context) => Promise<void> | void;

function plain(ctx: Koa.Context, status: number, text: string): void {
  ctx.status = status;
  ctx.type = 'text/plain';
  ctx.body = text;
}

/** A handler that throws answers 500 with no stack trace, and is logged. */
function errorBoundary(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      logger.error('http handler failed', { path: ctx.path, error: err });
      plain(ctx, 500, 'internal error\n');
    }
  };
}

/**
 * Nothing here reads a body: refuse one rather than read it, and close the
 * connection so the rest of it is never read either.
 */
const refuseBodies: Koa.Middleware = async (ctx, next) => {
  if (!hasBody(ctx.req.headers)) return next();
  const get = ctx.method === 'GET' || ctx.method === 'HEAD';
  if (!get) ctx.set('Allow', ALLOW);
  ctx.set('Connection', 'close');
  plain(ctx, get ? 413 : 405, get ? 'request bodies are not accepted\n' : 'method not allowed\n');
};

/** Known paths answer GET and HEAD only; unknown ones are 404 whatever the method. */
function routes(table: Readonly<Record<string, Handler>>): Koa.Middleware {
  return async (ctx) => {
    const handler = Object.hasOwn(table, ctx.path) ? table[ctx.path] : undefined;
    if (!handler) return plain(ctx, 404, 'not found\n');
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', ALLOW);
      return plain(ctx, 405, 'method not allowed\n');
    }
    ctx.set('Cache-Control', 'no-store');
    await handler(ctx);
  };
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (err: unknown) => deps.logger.once(`http-error:${String(err)}`, 'warn', 'http request failed', { error: err }));
  app.use(errorBoundary(deps.logger));
  app.use(refuseBodies);
  app.use(
    routes({
      '/metrics': async (ctx) => {
        const format = negotiateFormat(ctx.get('Accept'));
        // Prometheus asks for gzip: a tenth of the bytes, and kept compressed between scrapes.
        const gzip = ctx.acceptsEncodings('gzip', 'identity') === 'gzip';
        ctx.body = await deps.renderMetrics(format, gzip);
        ctx.set('Content-Type', format === 'openmetrics' ? OPENMETRICS_TEXT : PROMETHEUS_TEXT);
        ctx.vary('Accept-Encoding');
        if (gzip) ctx.set('Content-Encoding', 'gzip');
      },
      '/healthz': (ctx) => plain(ctx, 200, 'ok\n'),
      '/readyz': (ctx) => {
        const ready = deps.isReady();
        plain(ctx, ready ? 200 : 503, ready ? 'ready\n' : `${deps.notReadyReason?.() ?? 'waiting for the first probe cycle'}\n`);
      },
      '/status': (ctx) => {
        ctx.body = deps.status();
      },
      '/': (ctx) => {
        ctx.type = 'text/html; charset=utf-8';
        // The page carries names from the API and the kubelet directory: besides escaping them,
        // let the browser run nothing and load nothing, whatever the page turns out to contain.
        ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'");
        ctx.set('X-Content-Type-Options', 'nosniff');
        ctx.body = deps.statusPage();
      },
    }),
  );
  return app;
}

function hasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

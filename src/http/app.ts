// The HTTP surface, as a Koa app from a factory; only main listens. Every
// handler answers from memory: no request ever waits on a probe.

import Koa from 'koa';
import type { Logger } from '../log/logger.js';
import { negotiateFormat, OPENMETRICS_TEXT, PROMETHEUS_TEXT, type Format } from '../metrics/exposition.js';

export interface AppDeps {
  readonly renderMetrics: (format: Format) => Promise<string>;
  readonly status: () => unknown;
  /** The HTML page at `/` (see status-page.ts). */
  readonly statusPage: () => string;
  readonly isReady: () => boolean;
  /** What /readyz says while not ready. */
  readonly notReadyReason?: () => string;
  readonly logger: Logger;
  readonly version: string;
}

const ROUTES = new Set(['/', '/metrics', '/healthz', '/readyz', '/status']);
const ALLOW = 'GET, HEAD';

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (err: unknown) => deps.logger.once(`http-error:${String(err)}`, 'warn', 'http request failed', { error: err }));

  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      deps.logger.error('http handler failed', { path: ctx.path, error: err });
      ctx.status = 500;
      ctx.type = 'text/plain';
      ctx.body = 'internal error\n'; // never a stack trace
    }
  });

  app.use(async (ctx) => {
    // Nothing here reads a body: refuse one rather than read it, and close the
    // connection so the rest of it is never read either.
    if (hasBody(ctx.req.headers)) {
      ctx.status = ctx.method === 'GET' || ctx.method === 'HEAD' ? 413 : 405;
      if (ctx.status === 405) ctx.set('Allow', ALLOW);
      ctx.set('Connection', 'close');
      ctx.type = 'text/plain';
      ctx.body = ctx.status === 413 ? 'request bodies are not accepted\n' : 'method not allowed\n';
      return;
    }
    if (!ROUTES.has(ctx.path)) {
      ctx.status = 404;
      ctx.type = 'text/plain';
      ctx.body = 'not found\n';
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', ALLOW);
      ctx.type = 'text/plain';
      ctx.body = 'method not allowed\n';
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    switch (ctx.path) {
      case '/metrics': {
        const format = negotiateFormat(ctx.get('Accept'));
        ctx.body = await deps.renderMetrics(format);
        ctx.set('Content-Type', format === 'openmetrics' ? OPENMETRICS_TEXT : PROMETHEUS_TEXT);
        return;
      }
      case '/healthz':
        ctx.type = 'text/plain';
        ctx.body = 'ok\n';
        return;
      case '/readyz': {
        const ready = deps.isReady();
        ctx.status = ready ? 200 : 503;
        ctx.type = 'text/plain';
        ctx.body = ready ? 'ready\n' : `${deps.notReadyReason?.() ?? 'waiting for the first probe cycle'}\n`;
        return;
      }
      case '/status':
        ctx.body = deps.status();
        return;
      case '/':
        ctx.type = 'text/html; charset=utf-8';
        // The page carries names from the API and the kubelet directory: besides escaping them,
        // let the browser run nothing and load nothing, whatever the page turns out to contain.
        ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'");
        ctx.set('X-Content-Type-Options', 'nosniff');
        ctx.body = deps.statusPage();
        return;
    }
  });

  return app;
}

function hasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

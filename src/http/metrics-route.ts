// GET /metrics: the format by the scraper's Accept, gzip by its Accept-Encoding.

import { negotiateFormat, OPENMETRICS_TEXT, PROMETHEUS_TEXT, type Format } from '../metrics/exposition.js';
import { prefersGzip } from './accept-encoding.js';
import type { Route } from './routes.js';

/** `render` gives the body in `format`, gzip-compressed when `gzip` (see metrics/scrape-body.ts): koa sends it as it is. */
export function metricsRoute(render: (format: Format, gzip: boolean) => Promise<Buffer>): Route {
  return async (ctx) => {
    const format = negotiateFormat(ctx.get('Accept'));
    // Prometheus asks for gzip: a tenth of the bytes, and kept compressed between scrapes.
    const gzip = prefersGzip(ctx.get('Accept-Encoding'));
    const body = await render(format, gzip);
    ctx.type = format === 'openmetrics' ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
    ctx.vary('Accept-Encoding');
    if (gzip) ctx.set('Content-Encoding', 'gzip');
    ctx.body = body;
  };
}

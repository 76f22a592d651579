// GET /metrics: the format and the encoding are koa's content negotiation
// (`ctx.accepts`, `ctx.acceptsEncodings`: negotiator), over what this route can send.

import type Koa from 'koa';
import { OPENMETRICS_TEXT, PROMETHEUS_TEXT, type Format } from '../metrics/exposition.js';
import type { Route } from './routes.js';

/**
 * What this route can send, as its Content-Type says it (a range naming a parameter, such
 * as `charset=utf-8`, applies only to a type that has it). OpenMetrics also under each
 * name-escaping scheme Prometheus 3 asks for (`escaping=allow-utf-8` and the rest): every
 * metric and label name here is in the legacy character set, so the body is the same under
 * all of them. Text first: where one range covers both (no Accept, or a range of any type),
 * text is sent; between ranges of equal weight, negotiator takes the one listed first.
 */
const OFFERED = [PROMETHEUS_TEXT, OPENMETRICS_TEXT, ...['allow-utf-8', 'underscores', 'dots', 'values'].map((e) => `${OPENMETRICS_TEXT}; escaping=${e}`)];

/** OpenMetrics when the scraper weighs it above text; text too when it accepts neither (RFC 9110 §12.5.1 lets the header be disregarded rather than answer 406). */
export function formatFor(ctx: Koa.Context): Format {
  const chosen = ctx.accepts(OFFERED);
  return chosen !== false && chosen !== PROMETHEUS_TEXT ? 'openmetrics' : 'prometheus';
}

/** `render` gives the body in `format`, gzip-compressed when `gzip` (see metrics/scrape-body.ts): koa sends it as it is. */
export function metricsRoute(render: (format: Format, gzip: boolean) => Promise<Buffer>): Route {
  return async (ctx) => {
    const format = formatFor(ctx);
    // Prometheus asks for gzip: a tenth of the bytes, and kept compressed between scrapes.
    const gzip = ctx.acceptsEncodings('gzip', 'identity') === 'gzip';
    const body = await render(format, gzip);
    ctx.type = format === 'openmetrics' ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
    ctx.vary('Accept-Encoding');
    if (gzip) ctx.set('Content-Encoding', 'gzip');
    ctx.body = body;
  };
}

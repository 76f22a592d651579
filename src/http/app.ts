// The HTTP surface: a Koa app from a factory; only main listens (server.ts wraps
// its callback). Composed middleware: response errors reported → error boundary
// → body refusal → routes (404, method guard, the handler). Every handler
// answers from memory: no request waits on a probe.

import Koa from 'koa';
import type { Logger } from '../log/logger.js';
import type { Format } from '../metrics/exposition.js';
import { refuseBodies } from './body-refusal.js';
import { errorBoundary } from './error-boundary.js';
import { metricsRoute } from './metrics-route.js';
import { plain } from './plain.js';
import { routes } from './routes.js';
import { logAppErrors, reportResponseErrors } from './stream-errors.js';

export interface AppDeps {
  /** The /metrics body in `format`, gzip-compressed when `gzip` (see metrics/scrape-body.ts). */
  readonly renderMetrics: (format: Format, gzip: boolean) => Promise<Buffer>;
  /** The /status document, answered as JSON. */
  readonly status: () => object;
  /** The HTML page at `/` (see status-page.ts). */
  readonly statusPage: () => string;
  /** Why the daemon is not ready, said by /readyz; undefined when it is (src/readiness.ts). */
  readonly notReady: () => string | undefined;
  readonly logger: Logger;
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  logAppErrors(app, deps.logger);
  app.use(reportResponseErrors);
  app.use(errorBoundary(deps.logger));
  app.use(refuseBodies);
  app.use(
    routes({
      '/metrics': metricsRoute(deps.renderMetrics),
      '/healthz': (ctx) => plain(ctx, 200, 'ok\n'),
      '/readyz': (ctx) => {
        const why = deps.notReady();
        plain(ctx, why === undefined ? 200 : 503, `${why ?? 'ready'}\n`);
      },
      '/status': (ctx) => {
        ctx.type = 'application/json; charset=utf-8';
        // Serialised here, inside the error boundary, not by koa after it.
        ctx.body = JSON.stringify(deps.status());
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

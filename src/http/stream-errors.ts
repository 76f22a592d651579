// Errors outside any handler: a client that goes away mid-answer makes its
// connection or the response emit 'error'. Each kind is logged once and never
// thrown, and koa prints nothing to stderr.

import type Koa from 'koa';
import type { Logger } from '../log/logger.js';

/** koa reports a connection's error (and anything its error handling meets) as an 'error' event of the app. */
export function logAppErrors(app: Koa, logger: Logger): void {
  // With a listener koa adds no printer of its own; `silent` keeps it quiet should one be added.
  app.silent = true;
  app.on('error', (err: unknown) => logger.once(`http-error:${String(err)}`, 'warn', 'http request failed', { error: err }));
}

/** An 'error' on the response with no listener would end the process: it goes to the app's. */
export const reportResponseErrors: Koa.Middleware = (ctx, next) => {
  ctx.res.on('error', (err) => ctx.app.emit('error', err, ctx));
  return next();
};

// A handler that throws answers a bare 500 and is logged: no stack trace or
// message reaches the client, since either can name paths on the node.

import type Koa from 'koa';
import type { Logger } from '../log/logger.js';
import { plain } from './plain.js';

export function errorBoundary(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      logger.error('http handler failed', { path: ctx.path, error: err });
      // Whatever the handler had set (an encoding, a length) does not describe this answer.
      for (const name of ctx.res.getHeaderNames()) ctx.remove(name);
      ctx.set('Cache-Control', 'no-store');
      plain(ctx, 500, 'internal error\n');
    }
  };
}

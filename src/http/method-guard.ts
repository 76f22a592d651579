// Every route answers GET and HEAD only; koa answers HEAD with the GET's
// headers, Content-Length included, and no body.

import type Koa from 'koa';
import { plain } from './plain.js';

export const ALLOW = 'GET, HEAD';

export const methodGuard: Koa.Middleware = (ctx, next) => {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') return next();
  ctx.set('Allow', ALLOW);
  plain(ctx, 405, 'method not allowed\n');
};

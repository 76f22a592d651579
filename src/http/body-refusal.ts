// Nothing here reads a request body: one is refused rather than read, and the
// connection closed so the rest of it is never read either. A GET or HEAD with
// a body is 413; any other method is 405, as it would be without one.

import type { IncomingHttpHeaders } from 'node:http';
import type Koa from 'koa';
import { ALLOW } from './method-guard.js';
import { plain } from './plain.js';

export const refuseBodies: Koa.Middleware = (ctx, next) => {
  if (!hasBody(ctx.req.headers)) return next();
  const get = ctx.method === 'GET' || ctx.method === 'HEAD';
  if (!get) ctx.set('Allow', ALLOW);
  ctx.set('Connection', 'close');
  plain(ctx, get ? 413 : 405, get ? 'request bodies are not accepted\n' : 'method not allowed\n');
};

function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

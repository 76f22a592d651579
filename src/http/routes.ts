// Five fixed paths: a table, not a router. An unknown path is 404 whatever the
// method; a known one passes the method guard, and its answer is never cached.
// The path is koa's (`ctx.path`: no query, an absolute-form target's scheme and
// host dropped, never decoded), so `/%2e%2e/` is just another unknown path.

import type Koa from 'koa';
import { methodGuard } from './method-guard.js';
import { plain } from './plain.js';

export type Route = (ctx: Koa.Context) => void | Promise<void>;

export function routes(table: Readonly<Record<string, Route>>): Koa.Middleware {
  return (ctx) => {
    const route = Object.hasOwn(table, ctx.path) ? table[ctx.path] : undefined;
    if (!route) return plain(ctx, 404, 'not found\n');
    return methodGuard(ctx, async () => {
      ctx.set('Cache-Control', 'no-store');
      await route(ctx);
    });
  };
}

// The short text answers: 404, 405, 413, 500, /healthz and /readyz.

import type Koa from 'koa';

export function plain(ctx: Koa.Context, status: number, text: string): void {
  ctx.status = status;
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = text;
}

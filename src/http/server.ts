// The HTTP server around the Koa app's callback, with the limits that keep a slow or
// hostile client from holding it: header size and count, header, request and
// keep-alive timeouts checked every second, idle sockets closed. Only main listens.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { ListenError } from '../errors.js';

export const HTTP_LIMITS = {
  maxHeaderSize: 16 * 1024,
  maxHeadersCount: 64,
  /** All request headers must arrive within this. */
  headersTimeoutMs: 5_000,
  /** The whole request must arrive within this. */
  requestTimeoutMs: 10_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** A socket with no traffic at all (a client that stopped reading) is closed after this. */
  socketIdleMs: 30_000,
  /** Node checks header and request timeouts this often (its default, 30 s, lets a slow client stay 6 times too long). */
  checkIntervalMs: 1_000,
  /** Pending connections the kernel may queue: a thousand scrapers at once must not be refused. */
  backlog: 4096,
} as const;

export function createHttpServer(app: Koa): http.Server {
  const server = http.createServer(
    {
      maxHeaderSize: HTTP_LIMITS.maxHeaderSize,
      headersTimeout: HTTP_LIMITS.headersTimeoutMs,
      requestTimeout: HTTP_LIMITS.requestTimeoutMs,
      keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
      connectionsCheckingInterval: HTTP_LIMITS.checkIntervalMs,
    },
    app.callback(),
  );
  server.maxHeadersCount = HTTP_LIMITS.maxHeadersCount;
  server.setTimeout(HTTP_LIMITS.socketIdleMs, (socket) => socket.destroy());
  // Malformed, oversized and too-slow requests get Node's own bare 400, 431 or 408: no 'clientError' listener on purpose.
  return server;
}

/** Listens on `host:port`; a failure is a ListenError naming the address and `flag`. */
export function listen(server: http.Server, at: { readonly host: string | undefined; readonly port: number }, flag: string): Promise<AddressInfo> {
  const { host, port } = at;
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => reject(new ListenError(`${host === undefined ? '' : host.includes(':') ? `[${host}]` : host}:${port}`, flag, { cause: err }));
    server.once('error', failed);
    server.listen({ port, host, backlog: HTTP_LIMITS.backlog }, () => {
      server.off('error', failed);
      resolve(server.address() as AddressInfo);
    });
  });
}

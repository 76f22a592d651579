// /metrics content negotiation over real HTTP: which format for an Accept header
// and whether gzip for an Accept-Encoding header. The answers were recorded against
// the earlier hand-written readers of both headers and are kept as they were; where
// those readers disagreed with RFC 9110, the RFC's answer is the one tested.

import test from 'ava';
import fc from 'fast-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/log/logger.js';

const PROMETHEUS_2_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const PROMETHEUS_3_ACCEPT = 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';

let url: string;
let server: http.Server;
test.before(async () => {
  const app = createApp({
    logger: createLogger({ write: () => {} }),
    notReady: () => undefined,
    renderMetrics: async (format, gzip) => (gzip ? gzipSync(format) : Buffer.from(format)),
    status: () => ({}),
    statusPage: () => '',
  });
  server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
});
test.after.always(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

function get(headers: Record<string, string>): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res));
      })
      .on('error', reject);
  });
}

async function formatFor(accept: string | undefined): Promise<'openmetrics' | 'prometheus'> {
  const res = await get(accept === undefined ? {} : { accept });
  return res.headers['content-type']?.startsWith('application/openmetrics-text;') ? 'openmetrics' : 'prometheus';
}

async function gzipFor(acceptEncoding: string | undefined): Promise<boolean> {
  const res = await get(acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding });
  return res.headers['content-encoding'] === 'gzip';
}

test('Prometheus’s own Accept headers (2.x and 3.x) get OpenMetrics; plain clients get text', async (t) => {
  t.is(await formatFor(PROMETHEUS_2_ACCEPT), 'openmetrics');
  t.is(await formatFor(PROMETHEUS_3_ACCEPT), 'openmetrics');
  t.is(await formatFor(undefined), 'prometheus');
  t.is(await formatFor('*/*'), 'prometheus');
  t.is(await formatFor('text/plain'), 'prometheus');
  t.is(await formatFor('text/plain;q=0.9, application/openmetrics-text;q=0.5'), 'prometheus');
  t.is(await formatFor('application/openmetrics-text;q=0'), 'prometheus');
});

test('a media range applies by its type, subtype and parameters, as RFC 9110 has it', async (t) => {
  // A more specific range overrides */* and text/* only for the types it names.
  t.is(await formatFor('application/openmetrics-text;q=0.5, */*'), 'prometheus');
  t.is(await formatFor('application/openmetrics-text;q=0.5, text/*'), 'prometheus');
  t.is(await formatFor('application/*'), 'openmetrics');
  t.is(await formatFor('application/*;q=0.9, text/plain;q=0.5'), 'openmetrics');
  // A parameter in the range must be the answer's: OpenMetrics here is 1.0.0, and its Content-Type says charset=utf-8.
  t.is(await formatFor('application/openmetrics-text;version=0.0.1'), 'prometheus');
  t.is(await formatFor('application/openmetrics-text;charset=utf-8'), 'openmetrics');
  // Equal weights: the range listed first.
  t.is(await formatFor('text/plain, application/openmetrics-text'), 'prometheus');
  t.is(await formatFor('application/openmetrics-text, text/plain'), 'openmetrics');
});

test('the q parameter is named case-insensitively (RFC 9110 §12.4.2)', async (t) => {
  t.false(await gzipFor('gzip;Q=0'));
  t.is(await formatFor('application/openmetrics-text;Q=0'), 'prometheus');
});

test('what Prometheus and curl --compressed send gets gzip; no header or identity alone does not', async (t) => {
  for (const h of ['gzip', 'deflate, gzip', 'deflate, gzip, br, zstd', 'GZIP']) t.true(await gzipFor(h), h);
  for (const h of [undefined, '', 'identity', 'deflate, br']) t.false(await gzipFor(h), String(h));
});

test('a weight of 0 refuses gzip, named or through *', async (t) => {
  for (const h of ['gzip;q=0', 'gzip; q=0, deflate', '*;q=0', 'gzip;q=0, *', '*, gzip;q=0', 'gzip;q=not-a-number']) t.false(await gzipFor(h), h);
});

test('* stands for gzip and identity alike, and the tie goes to gzip', async (t) => {
  t.true(await gzipFor('*'));
  t.true(await gzipFor('br, *;q=0.1'));
  t.true(await gzipFor('gzip, *;q=0'), 'identity refused through *');
  t.true(await gzipFor('gzip, identity;q=0'), 'identity refused by name');
});

test('weights decide between gzip and identity; equal weights go to the one listed first', async (t) => {
  t.false(await gzipFor('gzip;q=0.5, identity'));
  t.true(await gzipFor('gzip, identity;q=0.5'));
  t.false(await gzipFor('identity, gzip'));
  t.true(await gzipFor('gzip, identity'));
  t.false(await gzipFor('*;q=0.5, identity'));
  t.true(await gzipFor('*;q=0.1, gzip;q=0.9'), 'gzip named outright keeps its own weight, not that of *');
  t.false(await gzipFor('gzip;q=0.8, *;q=0.9'), 'identity through * outweighs gzip');
  t.true(await gzipFor('gzip;q=0.8, *;q=0.9, identity;q=0.7'));
});

test('identity not listed counts at the lowest positive weight listed, after every listed coding, so a listed gzip wins', async (t) => {
  for (const h of ['gzip;q=0.001', 'br;q=0.1, gzip;q=0.2', 'br;q=0, gzip;q=0.2']) t.true(await gzipFor(h), h);
});

test('malformed entries are skipped, the rest still count', async (t) => {
  for (const h of [',, gzip ,', 'x y, gzip', 'gzip;level=1']) t.true(await gzipFor(h), h);
  t.false(await gzipFor('gzip deflate'));
});

test('gzip is never chosen unless listed by name or through * with a positive weight', async (t) => {
  const coding = fc.constantFrom('identity', 'deflate', 'br', 'zstd', 'x-gzip', 'gzipx', 'gzip', '*');
  const weight = fc.constantFrom('', ';q=0', ';q=0.5', ';q=1', ';q=junk');
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(coding, weight), { maxLength: 6 }), async (entries) => {
      const header = entries.map(([c, w]) => c + w).join(', ');
      const listed = entries.some(([c, w]) => (c === 'gzip' || c === '*') && (w === '' || w === ';q=0.5' || w === ';q=1'));
      return listed || !(await gzipFor(header));
    }),
    { seed: 20_261_127 },
  );
  t.pass();
});

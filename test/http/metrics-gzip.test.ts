// /metrics over real HTTP with a real tracker: gzip when the scraper asks for
// it, the same exposition either way, and the new state in the next scrape.

import test from 'ava';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/log/logger.js';
import { pathStates, requires, samples } from '../fixtures/harness.js';
import { numberedVolume as volume, testMetrics, testTracking } from '../fixtures/metrics.js';

const OM = 'application/openmetrics-text;version=1.0.0';
const logger = createLogger({ write: () => {} });

async function serve(t: { teardown(fn: () => unknown): void }) {
  const tracker = testTracking();
  const metrics = testMetrics({ tracker: tracker.tracker });
  for (let i = 0; i < 200; i++) tracker.observe(volume(i), { state: 'healthy', detail: '' });
  const app = createApp({ logger, notReady: () => undefined, renderMetrics: (f, gzip) => metrics.body.render(f, gzip), status: () => ({}), statusPage: () => '' });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return { tracker, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` };
}

/** A request whose body is read as sent: fetch would decompress it. */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .request(url, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject)
      .end();
  });
}

test('gzip is answered only when the scraper accepts it, and every answer varies by Accept-Encoding', async (t) => {
  const { url } = await serve(t);
  for (const [accept, gzip] of [[undefined, false], ['identity', false], ['gzip;q=0', false], ['deflate', false], ['gzip', true], ['deflate, gzip', true], ['*', true]] as const) {
    const r = await get(url, accept === undefined ? {} : { 'accept-encoding': accept });
    t.is(r.status, 200);
    t.is(r.headers['content-encoding'], gzip ? 'gzip' : undefined, String(accept));
    t.is(r.headers.vary, 'Accept-Encoding', String(accept));
    t.is(r.headers['content-length'], String(r.body.length));
    t.is(r.body.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])), gzip, String(accept));
  }
});

test('a gzip answer gunzips to the plain answer, in both formats; OpenMetrics still ends with # EOF', async (t) => {
  const { url } = await serve(t);
  for (const accept of ['text/plain', OM]) {
    const plain = await get(url, { accept });
    const gz = await get(url, { accept, 'accept-encoding': 'gzip' });
    t.is(gz.headers['content-type'], plain.headers['content-type']);
    t.true(gz.body.length < plain.body.length / 4, `${gz.body.length} of ${plain.body.length} bytes`);
    t.is(gunzipSync(gz.body).toString(), plain.body.toString(), accept);
    t.is(samples(plain.body.toString(), 'juicefs_volume_path_health').length, 200);
  }
  const om = (await get(url, { accept: OM, 'accept-encoding': 'gzip' })).body;
  t.regex(gunzipSync(om).toString(), /\n# EOF\n$/);
  t.regex(gunzipSync(om).toString(), /^# HELP juicefs_volume_path_health /);
});

test('HEAD answers the length and encoding a GET would, with no body', async (t) => {
  const { url } = await serve(t);
  const cases: Record<string, string>[] = [{}, { 'accept-encoding': 'gzip' }, { accept: OM, 'accept-encoding': 'gzip' }];
  for (const headers of cases) {
    const g = await get(url, headers);
    const h = await get(url, headers, 'HEAD');
    t.is(h.status, 200);
    t.is(h.body.length, 0);
    t.is(h.headers['content-length'], g.headers['content-length']);
    t.is(h.headers['content-encoding'], g.headers['content-encoding']);
    t.is(h.headers['content-type'], g.headers['content-type']);
  }
});

test('the scrape after a state change shows it, gzipped or not', async (t) => {
  const { tracker, url } = await serve(t);
  const state = (text: string) => pathStates(text).get(volume(7).path);
  const both = async () => [(await get(url)).body.toString(), gunzipSync((await get(url, { 'accept-encoding': 'gzip' })).body).toString()];
  for (const text of await both()) t.is(state(text), 'healthy');
  tracker.observe(volume(7), { state: 'disconnected', detail: 'ENOTCONN' });
  for (const text of await both()) t.is(state(text), 'disconnected');
});

requires({ tool: 'curl' })('curl --compressed reads the whole gzip answer', async (t) => {
  const { url } = await serve(t);
  const plain = (await get(url, { accept: OM })).body.toString();
  // Not spawnSync: the server answering is in this process.
  const { stdout } = await promisify(execFile)('curl', ['-sS', '--fail', '--compressed', '-H', `Accept: ${OM}`, url], { encoding: 'utf8', maxBuffer: 1 << 24 });
  t.is(stdout, plain);
});

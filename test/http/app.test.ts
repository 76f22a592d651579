import test from 'ava';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { createApp, type AppDeps } from '../../src/http/app.js';
import { createLogger } from '../../src/log/logger.js';
import { renderRegistry } from '../../src/metrics/exposition.js';
import { createScrapeBody } from '../../src/metrics/scrape-body.js';
import { eventually } from '../fixtures/harness.js';

async function serve(over: Partial<AppDeps> = {}) {
  const registry = new Registry();
  new Gauge({ name: 'up_test', help: 'h', registers: [registry] }).set(1);
  let ready = false;
  const body = createScrapeBody({ kept: { revision: () => 0, render: () => '' }, fresh: (f) => renderRegistry(registry, f) });
  const app = createApp({
    logger: createLogger({ write: () => {} }),
    notReady: () => (ready ? undefined : 'waiting for the first probe cycle'),
    renderMetrics: (f, gzip) => body.render(f, gzip),
    status: () => ({ paths: [] }),
    statusPage: () => '<!doctype html><title>page</title>juicefs-path-prober 1.2.3',
    ...over,
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, setReady: (v: boolean) => (ready = v), close: () => new Promise((r) => server.close(r)) };
}

test('the documented endpoints answer GET', async (t) => {
  const s = await serve();
  t.teardown(s.close);
  const metrics = await fetch(`${s.url}/metrics`);
  t.is(metrics.status, 200);
  t.is(metrics.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  t.regex(await metrics.text(), /^up_test 1$/m);
  t.is((await fetch(`${s.url}/healthz`)).status, 200);
  t.deepEqual(await (await fetch(`${s.url}/status`)).json(), { paths: [] });
  const landing = await fetch(`${s.url}/`);
  t.regex(landing.headers.get('content-type')!, /text\/html/);
  t.regex(await landing.text(), /juicefs-path-prober 1\.2\.3/);
});

test('OpenMetrics is served when the scraper asks for it', async (t) => {
  const s = await serve();
  t.teardown(s.close);
  const r = await fetch(`${s.url}/metrics`, { headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' } });
  t.is(r.headers.get('content-type'), 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  t.regex(await r.text(), /# EOF\n$/);
});

test('/readyz is 503 until the first cycle, then 200', async (t) => {
  const s = await serve();
  t.teardown(s.close);
  t.is((await fetch(`${s.url}/readyz`)).status, 503);
  s.setReady(true);
  t.is((await fetch(`${s.url}/readyz`)).status, 200);
});

test('HEAD is allowed; other methods get 405 with Allow; unknown paths 404', async (t) => {
  const s = await serve();
  t.teardown(s.close);
  const head = await fetch(`${s.url}/metrics`, { method: 'HEAD' });
  t.is(head.status, 200);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const r = await fetch(`${s.url}/metrics`, { method, body: method === 'DELETE' ? undefined : 'x' });
    t.is(r.status, 405, method);
    t.is(r.headers.get('allow'), 'GET, HEAD');
  }
  for (const p of ['/nope', '/metrics/', '/../etc/passwd', '/status.json']) t.is((await fetch(`${s.url}${p}`)).status, 404, p);
});

test('no answer of a route is cached; the page forbids sniffing and loads nothing; HEAD has the GET’s length and no body', async (t) => {
  const s = await serve();
  t.teardown(s.close);
  for (const p of ['/metrics', '/healthz', '/readyz', '/status', '/']) {
    const get = await fetch(`${s.url}${p}`, { headers: { 'accept-encoding': 'identity' } });
    t.is(get.headers.get('cache-control'), 'no-store', p);
    const head = await fetch(`${s.url}${p}`, { method: 'HEAD', headers: { 'accept-encoding': 'identity' } });
    t.is(head.headers.get('content-length'), String(Buffer.byteLength(await get.text())), p);
    t.is(await head.text(), '', p);
  }
  const page = await fetch(`${s.url}/`);
  t.is(page.headers.get('x-content-type-options'), 'nosniff');
  t.regex(page.headers.get('content-security-policy') ?? '', /^default-src 'none';/);
});

test('a failing handler answers 500 without a stack trace', async (t) => {
  const s = await serve({
    status: () => {
      throw new Error('boom at /secret/path');
    },
  });
  t.teardown(s.close);
  const r = await fetch(`${s.url}/status`);
  t.is(r.status, 500);
  const body = await r.text();
  t.is(body, 'internal error\n');
  t.is(r.headers.get('cache-control'), 'no-store');
});

test('scrapers that reset their connection while the answer is being made are logged once, and the server keeps serving', async (t) => {
  const lines: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let asked = 0;
  const s = await serve({
    logger: createLogger({ write: (l) => lines.push(l) }),
    renderMetrics: async () => {
      asked++;
      await held;
      return Buffer.from('up_test 1\n');
    },
  });
  t.teardown(s.close);
  const { port } = new URL(s.url);
  const clients = [0, 1].map(() => {
    const c = net.connect(Number(port), '127.0.0.1');
    c.on('error', () => {});
    c.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    return c;
  });
  await eventually('both scrapes asked for', () => asked === 2);
  for (const c of clients) c.resetAndDestroy();
  const failed = () => lines.filter((l) => JSON.parse(l).msg === 'http request failed');
  await eventually('the reset logged', () => failed().length > 0);
  release();
  t.is((await fetch(`${s.url}/metrics`)).status, 200);
  t.is(failed().length, 1);
});

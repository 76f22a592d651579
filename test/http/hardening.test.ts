import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { startDaemon, type DaemonProcess } from '../fixtures/daemon.js';
import { createKubeletTree, newPodUid, type KubeletTree } from '../fixtures/kubelet-tree.js';

// The real daemon over loopback, with real clients. No mounts needed: its paths are pending.
let tree: KubeletTree;
let daemon: DaemonProcess;
let port: number;
test.before(async () => {
  tree = createKubeletTree('http');
  for (let i = 0; i < 50; i++) tree.publish(newPodUid(), `pv-${i}`);
  daemon = await startDaemon(['--kubelet-dir', tree.kubeletDir, '--interval', '1s', '--publish-grace', '1h']);
  port = Number(new URL(daemon.url).port);
  await daemon.waitFor((s) => s.ready && s.paths.length === 50, 20_000, 'ready');
});
test.after.always(async () => {
  await daemon?.stop('SIGKILL');
  tree?.remove();
});

interface Raw {
  readonly socket: net.Socket;
  /** Everything the server sent. */
  text(): string;
  /** Resolves with ms since connect when the server closes the connection. */
  readonly closed: Promise<number>;
}
function raw(): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    let got = '';
    const socket = net.connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (got += d));
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - t0)));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, text: () => got, closed }));
    socket.once('error', reject);
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`${what} not within ${ms} ms`)))]);

test.serial('slow clients (headers a byte at a time, idle keep-alive) are cut off while others are served', async (t) => {
  const slow = await Promise.all(Array.from({ length: 30 }, raw));
  let dripping = true;
  const drip = (async () => {
    for (const c of slow) c.socket.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    while (dripping) {
      for (const c of slow) if (!c.socket.destroyed) c.socket.write('X-Slow: 1\r\n');
      await sleep(500);
    }
  })();
  // Served while the slow ones hang on.
  for (let i = 0; i < 5; i++) t.is((await fetch(`${daemon.url}/healthz`)).status, 200);
  const idle = await raw();
  idle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');

  const times = await within(Promise.all(slow.map((c) => c.closed)), 20_000, 'slow header clients cut off');
  dripping = false;
  await drip;
  t.log(`slow header clients closed after ${Math.min(...times)}–${Math.max(...times)} ms (header timeout 5 s)`);
  for (const c of slow) t.regex(c.text(), /^(HTTP\/1\.1 408|$)/, 'a 408 or a plain close');
  const idleMs = await within(idle.closed, 20_000, 'idle keep-alive closed');
  t.log(`idle keep-alive connection closed after ${idleMs} ms (keep-alive timeout 5 s)`);
  t.regex(idle.text(), /^HTTP\/1\.1 200/);
});

test.serial('a request body is never read: GET with a body is 413, other methods 405, and the connection closes', async (t) => {
  for (const [line, status] of [
    ['POST /metrics HTTP/1.1', 405],
    ['PUT /status HTTP/1.1', 405],
    ['GET /metrics HTTP/1.1', 413],
  ] as const) {
    const c = await raw();
    // Announces a gigabyte and sends a few bytes: the answer must not wait for the rest.
    c.socket.write(`${line}\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\nabc`);
    await within(c.closed, 10_000, `${line} answered and closed`);
    t.regex(c.text(), new RegExp(`^HTTP/1\\.1 ${status} `), line);
    t.false(c.text().includes('    at '), 'no stack trace');
  }
  const chunked = await raw();
  chunked.socket.write('GET /status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
  await within(chunked.closed, 10_000, 'chunked body answered');
  t.regex(chunked.text(), /^HTTP\/1\.1 413 /);
});

test.serial('oversized headers are refused with 431; too many headers are dropped or refused, as the Node.js version does it; the server keeps serving', async (t) => {
  for (const headers of [{ 'x-big': 'a'.repeat(20_000) }, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-h${i}`, 'b'.repeat(60)]))]) {
    const c = await raw();
    c.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    await within(c.closed, 10_000, 'answered');
    t.regex(c.text(), /^HTTP\/1\.1 431 /);
  }
  const c = await raw();
  c.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${Array.from({ length: 100 }, (_, i) => `x-${i}: 1\r\n`).join('')}\r\n`);
  await within(c.closed, 10_000, 'answered');
  // Past maxHeadersCount, Node 20 drops the extra fields and answers; Node 24 refuses the request.
  const major = Number(process.versions.node.split('.')[0]);
  t.regex(c.text(), major >= 24 ? /^HTTP\/1\.1 431 / : major <= 20 ? /^HTTP\/1\.1 200 / : /^HTTP\/1\.1 (200|431) /);
  const long = await raw();
  long.socket.write(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await within(long.closed, 10_000, 'a huge URL answered');
  t.regex(long.text(), /^HTTP\/1\.1 431 /);
  t.is((await fetch(`${daemon.url}/healthz`)).status, 200);
});

test.serial('only GET and HEAD on the documented paths; hostile paths and malformed requests get bare errors, never a file or a stack', async (t) => {
  const hostile = [
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '//etc/passwd',
    '/metrics/../../etc/passwd',
    '/status/..%2f..%2fetc%2fpasswd',
    '/proc/self/environ',
    '/%00',
    '/%',
    '/metrics%00.txt',
    '/\u00e9t\u00e9',
  ];
  for (const p of hostile) {
    const c = await raw();
    c.socket.write(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await within(c.closed, 10_000, p);
    t.regex(c.text(), /^HTTP\/1\.1 (404|400) /, p);
    t.false(/root:|PATH=|    at /.test(c.text()), p);
  }
  // A query string or an absolute URL changes nothing about what is served.
  for (const target of ['/status?file=/etc/passwd', 'http://evil.example/status', '/status#x']) {
    const c = await raw();
    c.socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await within(c.closed, 10_000, target);
    t.regex(c.text(), /^HTTP\/1\.1 (200|400) /, target);
    t.false(c.text().includes('root:'), target);
  }
  for (const method of ['OPTIONS', 'TRACE', 'DELETE', 'PATCH']) {
    const c = await raw();
    c.socket.write(`${method} /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await within(c.closed, 10_000, method);
    t.regex(c.text(), /^HTTP\/1\.1 405 /, method);
    t.regex(c.text(), /\r\nAllow: GET, HEAD\r\n/i, method);
  }
  for (const junk of ['FOO /metrics HTTP/1.1\r\n\r\n', 'GET /metrics HTTP/9.9\r\n\r\n', '\x00\x01\x02\r\n\r\n', 'GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n']) {
    const c = await raw();
    c.socket.write(junk);
    await within(c.closed, 10_000, JSON.stringify(junk));
    t.regex(c.text(), /^(HTTP\/1\.1 (400|505) |$)/, JSON.stringify(junk));
    t.false(c.text().includes('    at '), 'no stack trace');
  }
  t.is((await fetch(`${daemon.url}/healthz`)).status, 200, 'still serving');
});

test.serial('scrapes at once each get the whole exposition, plain or gzip, with every path in it', async (t) => {
  // Capacity (how many a second, at what latency) is the bench's: `npm run bench -- --only=http`.
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const one = (gzip: boolean) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers = { accept: 'application/openmetrics-text;version=1.0.0', 'accept-encoding': gzip ? 'gzip' : 'identity' };
      http
        .get({ host: '127.0.0.1', port, path: '/metrics', agent, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: (gzip ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks)).toString() }));
        })
        .on('error', reject);
    });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => one(i % 2 === 0)));
  agent.destroy();
  const perPath = (text: string) => text.split('\n').filter((l) => l.startsWith('juicefs_volume_path_'));
  const first = perPath(results[0]!.text);
  t.is(new Set(first.map((l) => /volume_path="([^"]*)"/.exec(l)?.[1])).size, 50, 'all 50 paths');
  for (const r of results) {
    t.is(r.status, 200);
    t.regex(r.text, /^juicefs_path_prober_build_info\{/m);
    t.regex(r.text, /\n# EOF\n$/, 'the whole exposition');
    t.deepEqual(perPath(r.text), first);
  }
});

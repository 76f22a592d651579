// The status page at `/`, from the real daemon over real HTTP, with names that
// are markup: a PV directory and a pod name (from an API server speaking
// list/watch on 127.0.0.1) carrying <script> and quotes. Needs no mounts: an
// unmounted path past the grace and a fresh one within it give two states.

import test from 'ava';
import fs from 'node:fs';
import { byPath } from './fixtures/daemon.js';
import { eventually, sandbox } from './fixtures/harness.js';
import { appPod } from './fixtures/kube-api-server.js';
import { newPodUid } from './fixtures/kubelet-tree.js';

const EVIL = `<script>alert("x")</script>'`;
const ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;';
// A directory name cannot hold the closing tag's slash.
const EVIL_DIR = `<script>alert("x")'`;
const ESCAPED_DIR = '&lt;script&gt;alert(&quot;x&quot;)&#39;';

const box = sandbox();

test('/ lists the node’s paths grouped by state, unhealthy first, with pod, PVC, reason and since, all escaped; /status stays JSON', async (t) => {
  const k = box.tree('status-page');
  const a = await box.api();
  const uid = newPodUid();
  const pvBad = `pv-${EVIL_DIR}`;
  const broken = k.publish(uid, pvBad);
  // Published ten minutes ago and never mounted: not_mounted once the grace is over.
  const old = new Date(Date.now() - 10 * 60_000);
  fs.utimesSync(broken.pvDir, old, old);
  const fresh = k.publish(newPodUid(), 'pv-fresh', { mountDir: false });
  a.putPod(appPod({ uid, name: `web-${EVIL}`, namespace: 'shop', node: 'test-node', claims: { data: 'data-web-0' } }));
  a.setClaim('shop', 'data-web-0', pvBad);

  const d = await box.daemon(['--kubelet-dir', k.kubeletDir, '--kubeconfig', a.kubeconfig, '--interval', '300ms', '--timeout', '400ms', '--publish-grace', '5m'], { JFS_PROBER_KUBE: 'auto' });
  await d.waitFor(
    (s) => {
      const p = byPath(s, broken.mountPath) as (ReturnType<typeof byPath> & { kube?: { pvc: string | null } }) | undefined;
      return p?.state === 'not_mounted' && p.kube?.pvc === 'data-web-0' && byPath(s, fresh.mountPath)?.state === 'pending';
    },
    20_000,
    'one path not_mounted with its claim known, one pending',
  );

  const r = await d.get('/');
  t.is(r.status, 200);
  t.is(r.headers.get('content-type'), 'text/html; charset=utf-8');
  t.regex(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  const html = await r.text();
  t.notRegex(html, /<script/i, 'no element from a name');
  t.false(html.includes(EVIL) || html.includes(EVIL_DIR));
  t.true(html.includes(`shop/web-${ESCAPED}`), 'the pod, escaped');
  t.true(html.includes(`pv-${ESCAPED_DIR}/mount`), 'the path, escaped');
  t.regex(html, /data-web-0/, 'the claim');

  const notMounted = html.indexOf('id="not_mounted"');
  const pending = html.indexOf('id="pending"');
  t.true(notMounted > 0 && pending > notMounted, 'unhealthy before pending');
  const unhealthySection = html.slice(notMounted, pending);
  t.true(unhealthySection.includes(`web-${ESCAPED}`));
  t.regex(unhealthySection, /<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">\d+s<\/time>/, 'since, as an age and a time');
  const detail = byPath(await d.status(), broken.mountPath)!.detail;
  t.truthy(detail);
  t.true(unhealthySection.includes(detail.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`)), 'the reason');
  t.true(html.slice(pending).includes('pv-fresh'));
  t.regex(html, /2 JuiceFS paths:\s*<span class="bad">1 unhealthy<\/span>, 1 pending/);

  // HEAD answers like GET, without a body.
  const head = await fetch(`${d.url}/`, { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(await head.text(), '');

  // /status is unchanged: JSON, names as they are.
  const s = await d.get('/status');
  t.regex(s.headers.get('content-type') ?? '', /^application\/json/);
  const json = (await s.json()) as { paths: { path: string; kube?: { pod: string | null } }[] };
  t.is(json.paths.find((p) => p.path === broken.mountPath)?.kube?.pod, `web-${EVIL}`);
  // No real API server holds a pod by that name (pod names are DNS subdomains): the stand-in
  // refuses the Event named after it (422, the name holds a '/'), as such a server would.
  await eventually('the Event refused', () => a.events.some((e) => e.status === 422));
  t.true(a.takeProblems().every((p) => p.startsWith('422 POST /api/v1/namespaces/shop/events')));
});

import test from 'ava';
import { escapeHtml, formatAge, renderStatusPage, STATE_ORDER, type StatusPageInput } from '../../src/http/status-page.js';
import { ALL_STATES, type PathOwner, type PathState, type PathStatus } from '../../src/types.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const EVIL = `<script>alert("x")</script>'&`;

function status(pv: string, state: PathState, o: { uid?: string; detail?: string; ageMs?: number; subpath?: boolean } = {}): PathStatus {
  const uid = o.uid ?? `uid-${pv}`;
  const path = `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~csi/${pv}/mount`;
  return {
    volume: {
      path,
      kind: o.subpath ? 'subpath' : 'volume',
      podUid: uid,
      pv,
      volumeId: `vol-${pv}`,
      driver: 'csi.juicefs.com',
      ...(o.subpath ? { subpath: { volumeName: 'data', container: 'app', index: '0' } } : {}),
    },
    state,
    detail: o.detail ?? '',
    since: NOW - (o.ageMs ?? 60_000),
  };
}

function page(paths: StatusPageInput['paths'], over: Partial<StatusPageInput> = {}): string {
  return renderStatusPage({ node: 'node-a', version: '1.2.3', now: NOW, ready: true, kube: 'on', stuckProbes: 0, paths, ...over });
}

const owner = (pod: string, pvc: string, namespace = 'default'): PathOwner => ({ namespace, pod, pvc });
/** The state sections in the order they appear. */
const sections = (html: string) => [...html.matchAll(/<h2 [^>]*id="([a-z_]+)">([a-z_]+) \((\d+)\)<\/h2>/g)].map((m) => `${m[2]} ${m[3]}`);
/** The part of the page under one state's heading. */
function section(html: string, state: string): string {
  const start = html.indexOf(`id="${state}"`);
  if (start === -1) return '';
  const next = html.indexOf('<h2 ', start);
  return html.slice(start, next === -1 ? undefined : next);
}

test('paths are grouped by state: unhealthy states first, then pending, then healthy, each with its count', (t) => {
  const html = page([
    { status: status('pv-ok1', 'healthy') },
    { status: status('pv-pend', 'pending') },
    { status: status('pv-ok2', 'healthy') },
    { status: status('pv-dead', 'disconnected', { detail: 'ENOTCONN: Transport endpoint is not connected' }) },
    { status: status('pv-hung', 'timeout', { detail: 'no answer for 5s' }) },
  ]);
  t.deepEqual(sections(html), ['disconnected 1', 'timeout 1', 'pending 1', 'healthy 2']);
  t.regex(section(html, 'disconnected'), /pv-dead[\s\S]*ENOTCONN: Transport endpoint is not connected/);
  t.regex(section(html, 'healthy'), /pv-ok1[\s\S]*pv-ok2/);
  t.notRegex(section(html, 'healthy'), /pv-dead|pv-hung|pv-pend/);
  t.regex(html, /5 JuiceFS paths:\s*<span class="bad">2 unhealthy<\/span>, 1 pending, <span class="ok">2 healthy<\/span>/);
  t.regex(html, /<title>2 unhealthy - juicefs-path-prober on node-a<\/title>/);
});

test('the group order covers every state once, unhealthy ones before orphaned, pending and healthy', (t) => {
  t.deepEqual([...STATE_ORDER].sort(), [...ALL_STATES].sort());
  t.deepEqual(STATE_ORDER.slice(-3), ['orphaned', 'pending', 'healthy']);
});

test('each row shows pod, PVC, reason and since; a path whose pod is unknown shows its pod uid', (t) => {
  const html = page([
    { status: status('pv-a', 'io_error', { detail: 'EIO: i/o error', ageMs: 3 * 3600_000 + 5 * 60_000 }), owner: owner('web-0', 'data-web-0', 'shop') },
    { status: status('pv-b', 'not_mounted', { uid: '1234-abcd' }) },
  ]);
  const io = section(html, 'io_error');
  t.regex(io, /<td>shop\/web-0<\/td>\s*<td>data-web-0<\/td>/);
  t.regex(io, /<td>EIO: i\/o error<\/td>/);
  t.regex(io, /<time datetime="2026-03-01T08:55:00Z">3h 5m<\/time>/);
  const nm = section(html, 'not_mounted');
  t.regex(nm, /pod uid<\/span> 1234-abcd/);
  t.regex(nm, /<td><span class="dim">-<\/span><\/td>/, 'no PVC known');
});

test('a subPath row names its volume, container and index', (t) => {
  const html = page([{ status: status('pv-s', 'stale', { subpath: true }) }]);
  t.regex(section(html, 'stale'), /subPath data\/app\/0/);
});

test('the mount pod column appears in Kubernetes mode only, with the pod’s phase and why', (t) => {
  const row = { status: status('pv-m', 'mount_pod_not_running'), owner: { ...owner('db-0', 'data-db-0'), mountPod: { namespace: 'kube-system', name: 'juicefs-node-a-pv-m', phase: 'Running', running: false, why: 'container jfs-mount waiting: CrashLoopBackOff' } } };
  const on = page([row]);
  t.regex(on, /<th>Mount pod<\/th>/);
  t.regex(on, /kube-system\/juicefs-node-a-pv-m<br><span class="bad">Running: container jfs-mount waiting: CrashLoopBackOff<\/span>/);
  t.notRegex(on, /process mount mode/);
  const processMode = page([{ status: row.status, owner: { ...row.owner, mountPod: { ...row.owner.mountPod, name: 'juicefs-csi-node-x7k2p', csiNode: true } } }]);
  t.regex(processMode, /kube-system\/juicefs-csi-node-x7k2p<br>.*<span class="dim">CSI node pod, process mount mode<\/span>/);
  const off = page([{ status: row.status }], { kube: 'off' });
  t.notRegex(off, /Mount pod/);
  t.regex(off, /Kubernetes mode: off\./);
});

test('every value from the kubelet directory or the API is escaped: no markup gets through', (t) => {
  const html = page(
    [
      {
        status: status(`pv-${EVIL}`, 'error', { uid: `uid-${EVIL}`, detail: `detail ${EVIL}`, subpath: true }),
        owner: { namespace: `ns-${EVIL}`, pod: `pod-${EVIL}`, pvc: `pvc-${EVIL}`, mountPod: { namespace: `mns-${EVIL}`, name: `mp-${EVIL}`, phase: `phase-${EVIL}`, running: false, why: `why-${EVIL}` } },
      },
      { status: status(`pv2-${EVIL}`, 'healthy', { uid: `uid2-${EVIL}` }) },
    ],
    { node: `node-${EVIL}`, version: `v-${EVIL}` },
  );
  t.notRegex(html, /<script/i);
  t.notRegex(html, /alert\("x"\)/, 'quotes are escaped too');
  const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;';
  for (const s of ['pv-', 'uid-', 'detail ', 'ns-', 'pod-', 'pvc-', 'mns-', 'mp-', 'phase-', 'why-', 'pv2-', 'node-', 'v-']) {
    t.true(html.includes(s + escaped), `${s}… escaped`);
  }
  // Only the page's own elements, and attribute values free of the input.
  const tags = new Set([...html.matchAll(/<\/?([a-zA-Z0-9]+)/g)].map((m) => m[1]!.toLowerCase()));
  t.deepEqual([...tags].sort(), ['a', 'body', 'br', 'code', 'h1', 'h2', 'head', 'html', 'meta', 'p', 'span', 'style', 'table', 'td', 'th', 'time', 'title', 'tr']);
  for (const m of html.matchAll(/\s([a-z-]+)="([^"]*)"/g)) t.notRegex(m[2]!, /[<>'&]/, `attribute ${m[1]}`);
});

test('escapeHtml replaces the five characters HTML gives meaning to, and nothing else', (t) => {
  t.is(escapeHtml(`a<b>c&d"e'f`), 'a&lt;b&gt;c&amp;d&quot;e&#39;f');
  t.is(escapeHtml('/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/pv/mount'), '/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/pv/mount');
  t.is(escapeHtml('&amp;'), '&amp;amp;', 'escapes once, as given');
});

test('an empty node, a daemon not yet ready, a stale API cache and stuck probes are said in words', (t) => {
  const html = page([], { ready: false, kube: 'stale', stuckProbes: 2 });
  t.regex(html, /No JuiceFS volume is published on this node/);
  t.regex(html, /Not ready: the first probe cycle has not finished/);
  t.regex(html, /API server unreachable/);
  t.regex(html, /2 probes stuck on a hung mount/);
  t.deepEqual(sections(html), []);
  const fine = page([{ status: status('pv', 'healthy') }]);
  t.notRegex(fine, /Not ready|unreachable|stuck/);
});

test('ages read in at most two units', (t) => {
  t.is(formatAge(0), '0s');
  t.is(formatAge(-5000), '0s', 'a since in the future (clock stepped) reads as now');
  t.is(formatAge(12_400), '12s');
  t.is(formatAge(5 * 60_000 + 12_000), '5m 12s');
  t.is(formatAge(2 * 3600_000 + 5 * 60_000 + 9_000), '2h 5m');
  t.is(formatAge(3600_000 + 30_000), '1h');
  t.is(formatAge(3 * 86_400_000 + 4 * 3600_000 + 59 * 60_000), '3d 4h');
});

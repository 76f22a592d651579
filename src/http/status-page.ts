// The page at `/`: this node's paths for a person to read, unhealthy first.
// Plain HTML, no scripts. Every value shown comes from the kubelet directory
// or the Kubernetes API, so each one is escaped: the template below escapes
// every interpolation unless it is markup this module built itself.

import { healthValue, UNHEALTHY_STATES, type PathOwner, type PathState, type PathStatus } from '../types.js';

export interface StatusPageInput {
  readonly node: string;
  readonly version: string;
  /** Epoch ms the page is rendered at: "since" is shown relative to it. */
  readonly now: number;
  readonly ready: boolean;
  /** Kubernetes mode: off, on, or on with a cache the API server no longer refreshes. */
  readonly kube: 'off' | 'on' | 'stale';
  /** What keeps Kubernetes mode from working (no credentials), shown beside it. */
  readonly kubeProblem?: string | undefined;
  /** Mount sources whose probe timed out and has not returned. */
  readonly stuckProbes: number;
  readonly paths: readonly { readonly status: PathStatus; readonly owner?: PathOwner | undefined }[];
}

/** Group order: what needs a person first. */
export const STATE_ORDER: readonly PathState[] = [...UNHEALTHY_STATES, 'orphaned', 'pending', 'healthy'];

class Html {
  constructor(readonly text: string) {}
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function show(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(show).join('');
  if (v === undefined || v === null) return '';
  return escapeHtml(String(v));
}

function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += show(v) + strings[i + 1]!));
  return new Html(out);
}

/** 3d 4h, 2h 5m, 5m 12s, 12s: two units are enough to read. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const units: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'm'],
    [s % 60, 's'],
  ];
  const first = units.findIndex(([n]) => n > 0);
  if (first === -1) return '0s';
  return units
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join(' ');
}

type Row = StatusPageInput['paths'][number];

function podCell({ status, owner }: Row): Html {
  if (owner?.pod) return html`${owner.namespace}/${owner.pod}`;
  return html`<span class="dim">pod uid</span> ${status.volume.podUid}`;
}

function pathCell({ status }: Row): Html {
  const v = status.volume;
  const sub = v.subpath ? html`<br><span class="dim">subPath ${v.subpath.volumeName}/${v.subpath.container}/${v.subpath.index}</span>` : '';
  return html`<code>${v.path}</code>${sub}`;
}

function mountPodCell({ owner }: Row): Html {
  const m = owner?.mountPod;
  if (!m) return html`<span class="dim">-</span>`;
  const role = m.csiNode ? html`<br><span class="dim">CSI node pod, process mount mode</span>` : '';
  return html`${m.namespace}/${m.name}<br><span class="${m.running ? 'ok' : 'bad'}">${m.phase}${m.why ? `: ${m.why}` : ''}</span>${role}`;
}

function row(r: Row, now: number, kube: boolean): Html {
  const s = r.status;
  const since = new Date(s.since).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return html`<tr>
<td>${podCell(r)}</td>
<td>${r.owner?.pvc || html`<span class="dim">-</span>`}</td>
<td>${s.volume.pv}${s.volume.volumeId && s.volume.volumeId !== s.volume.pv ? html`<br><span class="dim">${s.volume.volumeId}</span>` : ''}</td>
<td>${pathCell(r)}</td>
<td>${s.detail || html`<span class="dim">-</span>`}</td>
${kube ? html`<td>${mountPodCell(r)}</td>\n` : ''}<td><time datetime="${since}">${formatAge(now - s.since)}</time><br><span class="dim">${since}</span></td>
</tr>
`;
}

function sortKey({ status, owner }: Row): string {
  return `${owner?.namespace ?? ''}\0${owner?.pod || status.volume.podUid}\0${status.volume.path}`;
}

export function renderStatusPage(input: StatusPageInput): string {
  const kube = input.kube !== 'off';
  const groups = STATE_ORDER.map((state) => ({
    state,
    rows: input.paths.filter((p) => p.status.state === state).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1)),
  })).filter((g) => g.rows.length > 0);
  const count = (pred: (s: PathState) => boolean) => input.paths.filter((p) => pred(p.status.state)).length;
  const unhealthy = count((s) => healthValue(s) === 0);
  const pending = count((s) => s === 'pending');
  const orphaned = count((s) => s === 'orphaned');
  const healthy = count((s) => s === 'healthy');

  const summary = html`<p class="summary">${input.paths.length} JuiceFS path${input.paths.length === 1 ? '' : 's'}:
<span class="${unhealthy > 0 ? 'bad' : ''}">${unhealthy} unhealthy</span>, ${orphaned > 0 ? `${orphaned} orphaned (pod gone, kubelet not done), ` : ''}${pending} pending, <span class="${healthy > 0 ? 'ok' : ''}">${healthy} healthy</span>.
${input.ready ? '' : html`<span class="bad">Not ready: the first probe cycle has not finished.</span>`}
${input.stuckProbes > 0 ? html`<span class="bad">${input.stuckProbes} probe${input.stuckProbes === 1 ? '' : 's'} stuck on a hung mount.</span>` : ''}
Kubernetes mode: ${input.kube === 'stale' ? html`<span class="bad">on, API server unreachable (pods and claims as last seen)</span>` : input.kube}${input.kubeProblem ? html`, <span class="bad">${input.kubeProblem}</span>` : ''}.</p>`;

  const head = html`<tr><th>Pod</th><th>PVC</th><th>PV / volume</th><th>Path</th><th>Reason</th>${kube ? html`<th>Mount pod</th>` : ''}<th>Since</th></tr>`;
  const sections = groups.map(
    (g) => html`<h2 class="${healthValue(g.state) === 0 ? 'bad' : g.state === 'healthy' ? 'ok' : ''}" id="${g.state}">${g.state} (${g.rows.length})</h2>
<table>
${head}
${g.rows.map((r) => row(r, input.now, kube))}</table>
`,
  );

  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${unhealthy > 0 ? `${unhealthy} unhealthy - ` : ''}juicefs-path-prober on ${input.node}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { text-align: left; vertical-align: top; padding: .3em .8em .3em 0; border-bottom: 1px solid #ddd; }
code { font-size: .85em; word-break: break-all; }
.dim { color: #777; font-size: .85em; }
.bad { color: #b00020; }
.ok { color: #1b7a2b; }
</style></head>
<body>
<h1>juicefs-path-prober ${input.version} on ${input.node}</h1>
${summary}
${groups.length === 0 ? html`<p>No JuiceFS volume is published on this node.</p>\n` : sections}<p class="dim">Machine-readable: <a href="metrics">/metrics</a> (Prometheus), <a href="status">/status</a> (JSON, every field), <a href="healthz">/healthz</a>, <a href="readyz">/readyz</a>. Rendered ${new Date(input.now).toISOString()}.</p>
</body></html>
`.text;
}

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon } from '../fixtures/daemon.js';
import { createKubeletTree } from '../fixtures/kubelet-tree.js';
import { DASHBOARD, dashboardExprs, metricNames, readDashboard } from './dashboard.js';
import { kustomization, MANIFESTS } from './repo.js';

test('the dashboard is valid JSON with unique panel ids, a Prometheus data source variable and a query in every panel', (t) => {
  const d = readDashboard();
  t.is(d.uid, 'juicefs-path-prober');
  t.true(d.panels.length >= 8);
  t.is(new Set(d.panels.map((p) => p.id)).size, d.panels.length);
  t.truthy(d.templating.list.find((v) => v.name === 'datasource' && v.type === 'datasource'));
  for (const p of d.panels) {
    t.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
    t.true((p.targets ?? []).length > 0, `${p.title} has a query`);
    t.true(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the grid`);
    for (const q of p.targets ?? []) t.regex(q.expr, /node_name=~"\$node"/, `${p.title}: filtered by the node variable`);
  }
});

test('every dashboard query of a series the CSI plugin also exports reads only the prober’s targets', (t) => {
  // juicefs_volume_path_* share their names with the CSI node plugin's, and process_* with every
  // Go or Node exporter the driver's PodMonitor may scrape beside the prober.
  const shared = dashboardExprs().filter((e) => metricNames(e.expr).some((n) => /^(juicefs_volume_path_|process_)/.test(n)));
  t.true(shared.length >= 7);
  for (const { where, expr } of shared) {
    t.regex(expr, /\band on \(instance\) juicefs_path_prober_build_info\b/, where);
  }
});

test('the dashboard is shipped as a ConfigMap for Grafana’s sidecar by the kustomization', (t) => {
  const k = kustomization() as unknown as { configMapGenerator: { name: string; files: string[] }[]; generatorOptions: { labels: Record<string, string> } };
  const gen = k.configMapGenerator;
  t.is(gen.length, 1);
  t.deepEqual(gen[0]!.files.map((f) => path.join(MANIFESTS, f)), [DASHBOARD]);
  t.is(k.generatorOptions.labels.grafana_dashboard, '1');
  // A ConfigMap holds at most 1 MiB; the sidecar also reads annotations, so keep well below.
  t.true(fs.statSync(DASHBOARD).size < 256 * 1024);
});

test('the dashboard queries only metrics the daemon exports', async (t) => {
  const tree = createKubeletTree('dashboard');
  const d = await startDaemon(['--kubelet-dir', tree.kubeletDir, '--interval', '300ms']);
  t.teardown(async () => {
    await d.stop('SIGKILL');
    tree.remove();
  });
  const text = await (await d.get('/metrics', { accept: 'text/plain' })).text();
  const exported = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [name, type] = [m[1]!, m[2]!];
    exported.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(name + s);
  }
  t.true(exported.has('juicefs_volume_path_health'), 'path metrics are declared even with no paths');
  const used = new Set(dashboardExprs().flatMap((e) => metricNames(e.expr)));
  t.true(used.size >= 10);
  for (const name of used) t.true(exported.has(name), `${name} is exported by the daemon`);
  // The test would notice a metric the daemon does not export.
  t.false(exported.has('juicefs_volume_path_info'));
});

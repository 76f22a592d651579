import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { byPath, FAST_FLAGS, startDaemon, type DaemonProcess } from '../fixtures/daemon.js';
import { appPod, startFakeApiServer, type FakeApiServer } from '../fixtures/kube-api-server.js';
import { createKubeletTree, newPodUid, type KubeletTree } from '../fixtures/kubelet-tree.js';
import { cleanupAll, startFuse } from '../fixtures/mounts.js';
import { asQuery, dashboardExprs } from './dashboard.js';
import { startPrometheus, type PrometheusServer } from './prometheus.js';
import { writeRuleFile } from './rules-file.js';
import { toolTest } from './tools.js';

// How Prometheus Operator labels the targets on a node where the JuiceFS CSI driver runs too:
// our PodMonitor (honorLabels) scrapes the prober; the driver's documented PodMonitor
// (app.kubernetes.io/name=juicefs-csi-driver, port "metrics", no honorLabels) scrapes the
// prober and the driver's node plugin alike.
const OWN_JOB = 'kube-system/juicefs-path-prober';
const DOC_JOB = 'juicefs/juicefs-csi';
const PROBER_POD = { namespace: 'kube-system', pod: 'juicefs-path-prober-x7k2p', container: 'juicefs-path-prober', endpoint: 'metrics' };
const PLUGIN_POD = { namespace: 'kube-system', pod: 'juicefs-csi-node-q8d4m', container: 'juicefs-plugin', endpoint: 'metrics' };

/** Stands in for the CSI node plugin's /metrics: the prober under test is real, this is the other source. */
async function startPluginEndpoint(t: ExecutionContext): Promise<{ target: string; set(body: string): void }> {
  let body = '';
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { target: `127.0.0.1:${(server.address() as AddressInfo).port}`, set: (b) => (body = b) };
}

toolTest(
  'a real Prometheus scrapes the daemon on real mounts beside the CSI plugin’s series, under our PodMonitor and the driver’s: the unhealthy alert fires once for the broken path and names its pod',
  ['prometheus'],
  async (t) => {
    t.timeout(240_000);
    let tree: KubeletTree | undefined;
    let daemon: DaemonProcess | undefined;
    let prom: PrometheusServer | undefined;
    let api: FakeApiServer | undefined;
    const rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-e2e-rules-'));
    t.teardown(async () => {
      await prom?.stop();
      await daemon?.stop('SIGKILL');
      await api?.close();
      cleanupAll();
      tree?.remove();
      fs.rmSync(rulesDir, { recursive: true, force: true });
    });

    tree = createKubeletTree('prometheus');
    const uid = newPodUid();
    const okFuse = await startFuse(path.join(tree.root, 'jfs', 'pv-ok'));
    const ok = tree.publish(uid, 'pv-ok', { volumeHandle: 'vol-ok', mountFrom: okFuse.mnt });
    const deadFuse = await startFuse(path.join(tree.root, 'jfs', 'pv-dead'));
    const dead = tree.publish(uid, 'pv-dead', { volumeHandle: 'vol-dead', mountFrom: deadFuse.mnt });
    await deadFuse.kill(); // the JuiceFS client died: the mount stays, every access gets ENOTCONN

    // Kubernetes mode against an API server that does not know the pod yet: the alert
    // first names it by UID, then, once the pod is listed, by namespace, name and claim.
    api = await startFakeApiServer();
    api.setClaim('shop', 'data', 'pv-dead');
    api.setClaim('shop', 'config', 'pv-ok');
    daemon = await startDaemon(['--kubelet-dir', tree.kubeletDir, '--kubeconfig', api.kubeconfig, ...FAST_FLAGS], { JFS_PROBER_KUBE: 'auto' });
    await daemon.waitFor(
      (s) => byPath(s, ok.mountPath)?.state === 'healthy' && byPath(s, dead.mountPath)?.state === 'disconnected',
      30_000,
      'healthy and disconnected',
    );

    // The CSI plugin computed its value before the client died and keeps it: a stale 1 for the
    // broken path; and a process_* series of its own that the dashboard must not mistake for ours.
    const plugin = await startPluginEndpoint(t);
    const pluginLabels = (vol: string, mp: string) => `node_name="test-node",volume_id="${vol}",volume_path="${mp}",pod_uid="${uid}"`;
    plugin.set(
      `juicefs_volume_path_health{${pluginLabels('vol-ok', ok.mountPath)}} 1\n` +
        `juicefs_volume_path_health{${pluginLabels('vol-dead', dead.mountPath)}} 1\n` +
        `process_resident_memory_bytes{node_name="test-node"} 4e+09\n`,
    );

    // The rules as shipped, except `for:` of the unhealthy alert: 2m in production would
    // make this test wait two minutes for what promtool's unit tests already time exactly.
    // Here the point is the expression, its labels and the info join, evaluated by a
    // real Prometheus on real scraped data.
    const ruleFile = writeRuleFile(rulesDir, (r) => (r.alert === 'JuiceFSVolumePathUnhealthy' ? { ...r, for: '3s' } : r));
    const proberTarget = new URL(daemon.url).host;
    prom = await startPrometheus({
      jobs: [
        { job: OWN_JOB, honorLabels: true, groups: [{ targets: [proberTarget], labels: PROBER_POD }] },
        {
          job: DOC_JOB,
          groups: [
            { targets: [proberTarget], labels: PROBER_POD },
            { targets: [plugin.target], labels: PLUGIN_POD },
          ],
        },
      ],
      ruleFile,
    });
    const p = prom;

    let last: unknown;
    const raw = await p.waitFor(
      'both sources scraped: the prober’s 0 under two jobs, the plugin’s stale 1',
      async () => {
        const r = await p.query(`juicefs_volume_path_health{volume_id="vol-dead"}`);
        last = r;
        return r.length === 3 ? r : undefined;
      },
      90_000,
      () => last,
    );
    for (const s of raw) t.log(`query juicefs_volume_path_health{volume_id="vol-dead"} → job=${s.metric.job} pod=${s.metric.pod} = ${s.value[1]}`);
    t.deepEqual(raw.map((s) => `${s.metric.job} ${s.metric.pod} ${s.value[1]}`).sort(), [
      `${DOC_JOB} ${PLUGIN_POD.pod} 1`,
      `${DOC_JOB} ${PROBER_POD.pod} 0`,
      `${OWN_JOB} ${PROBER_POD.pod} 0`,
    ]);

    const firingUnhealthy = async () => (await p.alerts()).filter((x) => x.labels.alertname === 'JuiceFSVolumePathUnhealthy' && x.state === 'firing');
    const firingWhen = (what: string, done: (f: Awaited<ReturnType<typeof firingUnhealthy>>) => boolean) =>
      p.waitFor(
        what,
        async () => {
          const f = await firingUnhealthy();
          last = f;
          return done(f) ? f : undefined;
        },
        90_000,
        () => last,
      );
    const byUid = await firingWhen('JuiceFSVolumePathUnhealthy firing for the broken path', (f) => f.length > 0);
    for (const a of byUid) t.log(`alert ${a.labels.alertname} ${a.state}: ${JSON.stringify(a.labels)} — ${a.annotations.summary}`);
    t.is(byUid.length, 1, 'one alert, for the broken path only, despite two jobs and the plugin’s 1');
    const deadPath = { alertname: 'JuiceFSVolumePathUnhealthy', severity: 'critical', node_name: 'test-node', volume_id: 'vol-dead', volume_path: dead.mountPath, pod_uid: uid };
    t.deepEqual(byUid[0]!.labels, deadPath);
    t.is(byUid[0]!.annotations.summary, `JuiceFS volume vol-dead is unhealthy in pod ${uid} on test-node`);
    t.is(byUid[0]!.annotations.runbook_url, 'docs/runbook.md#juicefsvolumepathunhealthy');

    // The pod is listed: the prober's info series names it, and the alert follows.
    api.putPod(appPod({ uid, name: 'web-0', namespace: 'shop', node: 'test-node', claims: { data: 'data', config: 'config' } }));
    const named = await firingWhen('the unhealthy alert naming the pod, and no other', (f) => f.length === 1 && f[0]!.labels.pod_name === 'web-0');
    for (const a of named) t.log(`alert ${a.labels.alertname} ${a.state}: ${JSON.stringify(a.labels)} — ${a.annotations.summary}`);
    t.deepEqual(named[0]!.labels, { ...deadPath, pod_namespace: 'shop', pod_name: 'web-0', pvc_name: 'data' });
    t.is(named[0]!.annotations.summary, 'JuiceFS volume vol-dead is unhealthy in pod shop/web-0 on test-node');

    const stateSeries = 'max by (volume_id, state) (juicefs_volume_path_state == 1 and on (instance) juicefs_path_prober_build_info)';
    const state = await p.query(stateSeries);
    for (const s of state) t.log(`query juicefs_volume_path_state == 1 → ${s.metric.volume_id} state=${s.metric.state}`);
    t.deepEqual(state.map((s) => `${s.metric.volume_id}=${s.metric.state}`), ['vol-dead=disconnected'], 'only the path that is not healthy has a state series');
    // A healthy path's state is its health of 1.
    const every = await p.query(
      `${stateSeries} or label_replace(max by (volume_id) (juicefs_volume_path_health == 1 and on (instance) juicefs_path_prober_build_info), "state", "healthy", "", "")`,
    );
    t.deepEqual(every.map((s) => `${s.metric.volume_id}=${s.metric.state}`).sort(), ['vol-dead=disconnected', 'vol-ok=healthy']);
    const up = await p.query('up');
    t.deepEqual(up.map((s) => s.value[1]), ['1', '1', '1'], 'every target scraped');
    const others = (await p.alerts()).filter((a) => a.state === 'firing' && a.labels.alertname !== 'JuiceFSVolumePathUnhealthy');
    t.deepEqual(others.map((a) => a.labels.alertname), [], 'nothing else fires for a healthy prober');
    // Every dashboard query is valid PromQL that this Prometheus evaluates, and counts the prober's view only.
    for (const { where, expr } of dashboardExprs()) {
      const q = expr.startsWith('label_values(') ? `group by (node_name) (${/label_values\((\w+)/.exec(expr)![1]})` : asQuery(expr);
      await t.notThrowsAsync(p.query(q), `dashboard ${where}: ${q}`);
    }
    const panel = async (where: string) => (await p.query(asQuery(dashboardExprs().find((e) => e.where === where)!.expr)))[0]?.value[1];
    t.is(await panel('Unhealthy paths/A'), '1', 'the dashboard counts the broken path, whatever the plugin says');
    t.is(await panel('Healthy paths/A'), '1');
    const rss = Number(await panel('Prober memory and CPU/A'));
    t.log(`dashboard: prober RSS ${(rss / 2 ** 20).toFixed(1)} MiB (daemon process)`);
    t.true(rss > 0 && rss < 4e9, 'the memory panel shows the prober, not the plugin');
  },
  { mounts: true },
);

toolTest(
  'promtool check metrics finds no naming problems in a live scrape of the daemon on real mounts',
  ['promtool'],
  async (t) => {
    const tree = createKubeletTree('checkmetrics');
    let daemon: DaemonProcess | undefined;
    t.teardown(async () => {
      await daemon?.stop('SIGKILL');
      cleanupAll();
      tree.remove();
    });
    const uid = newPodUid();
    const fuse = await startFuse(path.join(tree.root, 'jfs', 'pv-a'));
    const vol = tree.publish(uid, 'pv-a', { mountFrom: fuse.mnt });
    const gone = tree.publish(uid, 'pv-b');
    daemon = await startDaemon(['--kubelet-dir', tree.kubeletDir, ...FAST_FLAGS]);
    await daemon.waitFor((s) => byPath(s, vol.mountPath)?.state === 'healthy' && byPath(s, gone.mountPath)?.state === 'not_mounted', 30_000, 'states');
    // promtool reads the Prometheus text format.
    const text = await (await daemon.get('/metrics', { accept: 'text/plain' })).text();
    t.regex(text, /^juicefs_volume_path_health\{/m, 'per-path series are in the scrape');
    t.regex(text, /^juicefs_path_prober_probe_duration_seconds_bucket\{/m);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 });
    t.log(`promtool check metrics: exit ${r.status}${r.stdout || r.stderr ? `\n${r.stdout}${r.stderr}` : ', no findings'}`);
    t.is(r.status, 0, r.stdout + r.stderr);
    t.is((r.stdout + r.stderr).trim(), '');
  },
  { mounts: true },
);

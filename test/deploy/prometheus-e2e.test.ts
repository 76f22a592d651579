import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { byPath, FAST_FLAGS, startDaemon, type DaemonProcess } from '../fixtures/daemon.js';
import { createKubeletTree, newPodUid, type KubeletTree } from '../fixtures/kubelet-tree.js';
import { cleanupAll, startFuse } from '../fixtures/mounts.js';
import { asQuery, dashboardExprs } from './dashboard.js';
import { startPrometheus, type PrometheusServer } from './prometheus.js';
import { writeRuleFile } from './rules-file.js';
import { toolTest } from './tools.js';

const JOB = 'juicefs-path-prober';

toolTest(
  'a real Prometheus scrapes the daemon on real mounts: health 1 and 0, the unhealthy alert fires, and takes pod names from an info series',
  ['prometheus'],
  async (t) => {
    t.timeout(240_000);
    let tree: KubeletTree | undefined;
    let daemon: DaemonProcess | undefined;
    let prom: PrometheusServer | undefined;
    const rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-e2e-rules-'));
    t.teardown(async () => {
      await prom?.stop();
      await daemon?.stop('SIGKILL');
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

    daemon = await startDaemon(['--kubelet-dir', tree.kubeletDir, ...FAST_FLAGS]);
    await daemon.waitFor(
      (s) => byPath(s, ok.mountPath)?.state === 'healthy' && byPath(s, dead.mountPath)?.state === 'disconnected',
      30_000,
      'healthy and disconnected',
    );

    // The rules as shipped, except `for:` of the unhealthy alert: 2m in production would
    // make this test wait two minutes for what promtool's unit tests already time exactly.
    // Here the point is the expression, its labels and the info fallback, evaluated by a
    // real Prometheus on real scraped data.
    const ruleFile = writeRuleFile(rulesDir, (r) => (r.alert === 'JuiceFSVolumePathUnhealthy' ? { ...r, for: '3s' } : r));
    // Stands in for juicefs_volume_path_info, which the prober exports when it can reach the
    // Kubernetes API (none runs here): empty at first, then naming the broken path's pod.
    let info = '';
    const infoServer = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(info));
    await new Promise<void>((r) => infoServer.listen(0, '127.0.0.1', r));
    t.teardown(() => {
      infoServer.closeAllConnections();
      infoServer.close();
    });
    const infoTarget = `127.0.0.1:${(infoServer.address() as AddressInfo).port}`;
    prom = await startPrometheus({
      jobs: [
        { job: JOB, targets: [new URL(daemon.url).host] },
        { job: 'kube-info', targets: [infoTarget] },
      ],
      ruleFile,
    });
    const p = prom;

    let lastHealth: unknown;
    const health = await p.waitFor(
      'health 1 for the healthy path and 0 for the broken one',
      async () => {
        const r = await p.query('juicefs_volume_path_health');
        lastHealth = r;
        const of = (mp: string) => r.find((s) => s.metric.volume_path === mp)?.value[1];
        return of(ok.mountPath) === '1' && of(dead.mountPath) === '0' ? r : undefined;
      },
      90_000,
      () => lastHealth,
    );
    for (const s of health) t.log(`query juicefs_volume_path_health → ${s.metric.volume_id} ${s.metric.volume_path} = ${s.value[1]}`);
    t.is(health.length, 2);
    for (const s of health) {
      t.like(s.metric, { job: JOB, node_name: 'test-node', pod_uid: uid });
    }

    let lastAlerts: unknown;
    const firing = await p.waitFor(
      'JuiceFSVolumePathUnhealthy firing for the broken path',
      async () => {
        const a = await p.alerts();
        lastAlerts = a;
        const f = a.filter((x) => x.labels.alertname === 'JuiceFSVolumePathUnhealthy' && x.state === 'firing');
        return f.length > 0 ? f : undefined;
      },
      90_000,
      () => lastAlerts,
    );
    for (const a of firing) t.log(`alert ${a.labels.alertname} ${a.state}: ${JSON.stringify(a.labels)} — ${a.annotations.summary}`);
    t.is(firing.length, 1, 'one alert, for the broken path only, without pod names while no info series exists');
    t.deepEqual(firing[0]!.labels, {
      alertname: 'JuiceFSVolumePathUnhealthy',
      severity: 'critical',
      node_name: 'test-node',
      volume_id: 'vol-dead',
      volume_path: dead.mountPath,
      pod_uid: uid,
    });
    t.is(firing[0]!.annotations.summary, `JuiceFS volume vol-dead is unhealthy in pod ${uid} on test-node`);
    t.is(firing[0]!.annotations.runbook_url, 'docs/runbook.md#juicefsvolumepathunhealthy');

    const state = await p.query('juicefs_volume_path_state == 1');
    for (const s of state) t.log(`query juicefs_volume_path_state == 1 → ${s.metric.volume_id} state=${s.metric.state}`);
    t.deepEqual(state.map((s) => `${s.metric.volume_id}=${s.metric.state}`).sort(), ['vol-dead=disconnected', 'vol-ok=healthy']);
    const up = await p.query(`up{job="${JOB}"}`);
    t.log(`query up{job="${JOB}"} → ${up[0]?.value[1]}`);
    t.is(up[0]?.value[1], '1');
    const others = (await p.alerts()).filter((a) => a.state === 'firing' && a.labels.alertname !== 'JuiceFSVolumePathUnhealthy');
    t.deepEqual(others.map((a) => a.labels.alertname), [], 'nothing else fires for a healthy prober');
    // Every dashboard query is valid PromQL that this Prometheus evaluates.
    for (const { where, expr } of dashboardExprs()) {
      const q = expr.startsWith('label_values(') ? `group by (node_name) (${/label_values\((\w+)/.exec(expr)![1]})` : asQuery(expr);
      await t.notThrowsAsync(p.query(q), `dashboard ${where}: ${q}`);
    }
    const unhealthyPanel = await p.query(asQuery(dashboardExprs().find((e) => e.where === 'Unhealthy paths/A')!.expr));
    t.is(unhealthyPanel[0]?.value[1], '1', 'the dashboard counts the broken path');
    // Once the info series names the pod, the alert carries namespace, pod and pvc, and the
    // fallback without them is gone: one alert still.
    info = `juicefs_volume_path_info{volume_id="vol-dead",volume_path="${dead.mountPath}",pod_uid="${uid}",namespace="shop",pod="web-0",pvc="data",pv="pv-dead",mount_pod="juicefs-test-node-pv-dead"} 1\n`;
    const joined = await p.waitFor(
      'the unhealthy alert with namespace/pod/pvc from the info series',
      async () => {
        const a = await p.alerts();
        lastAlerts = a;
        const f = a.filter((x) => x.labels.alertname === 'JuiceFSVolumePathUnhealthy' && x.state === 'firing');
        return f.length === 1 && f[0]!.labels.pod === 'web-0' ? f[0]! : undefined;
      },
      90_000,
      () => lastAlerts,
    );
    t.log(`alert ${joined.labels.alertname} ${joined.state}: ${JSON.stringify(joined.labels)} — ${joined.annotations.summary}`);
    t.like(joined.labels, { namespace: 'shop', pod: 'web-0', pvc: 'data', volume_id: 'vol-dead', pod_uid: uid, node_name: 'test-node' });
    t.is(joined.annotations.summary, 'JuiceFS volume vol-dead is unhealthy in pod shop/web-0 on test-node');

    const rss = await p.query('process_resident_memory_bytes');
    t.log(`query process_resident_memory_bytes → ${(Number(rss[0]?.value[1]) / 2 ** 20).toFixed(1)} MiB (daemon process)`);
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

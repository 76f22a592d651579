// The README's alert rule, run through promtool against series shaped like the
// daemon's: it must parse, join the info labels in, still fire for a path that
// has no info series, fire once for a prober scraped by two monitors, and ignore
// the CSI plugin's series of the same name (a stale 1, a stale 0).

import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const have = promtool.status === 0;

const path1 = '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-a/mount';
const path2 = '/var/lib/kubelet/pods/u2/volumes/kubernetes.io~csi/pv-b/mount';
const path3 = '/var/lib/kubelet/pods/u3/volumes/kubernetes.io~csi/pv-c/mount';
const target = 'instance="10.0.0.5:9567",job="juicefs-path-prober",node_name="n1"';
// The same prober under the CSI driver's documented PodMonitor, and the driver's node plugin,
// which exports juicefs_volume_path_health with the same labels and a stale 1.
const docTarget = 'instance="10.0.0.5:9567",job="juicefs/juicefs-csi",namespace="kube-system",pod="juicefs-path-prober-x7k2p",node_name="n1"';
const plugin = 'instance="10.0.0.9:9567",job="juicefs/juicefs-csi",namespace="kube-system",pod="juicefs-csi-node-q8d4m",node_name="n1"';

const unitTest = `
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'juicefs_path_prober_build_info{${target},version="0.1.0"}'
        values: '1x5'
      - series: 'juicefs_path_prober_build_info{${docTarget},version="0.1.0"}'
        values: '1x5'
      - series: 'juicefs_volume_path_health{${target},volume_id="pv-a",volume_path="${path1}",pod_uid="u1"}'
        values: '0x5'
      - series: 'juicefs_volume_path_health{${docTarget},volume_id="pv-a",volume_path="${path1}",pod_uid="u1"}'
        values: '0x5'
      - series: 'juicefs_volume_path_health{${plugin},volume_id="pv-a",volume_path="${path1}",pod_uid="u1"}'
        values: '1x5'
      - series: 'juicefs_volume_path_info{${target},volume_id="pv-a",volume_path="${path1}",pod_uid="u1",pod_namespace="default",pod_name="web-0",pvc_name="data-web-0",pv="pv-a",mount_pod="juicefs-n1-pv-a-x"}'
        values: '1x5'
      - series: 'juicefs_volume_path_info{${docTarget},volume_id="pv-a",volume_path="${path1}",pod_uid="u1",pod_namespace="default",pod_name="web-0",pvc_name="data-web-0",pv="pv-a",mount_pod="juicefs-n1-pv-a-x"}'
        values: '1x5'
      - series: 'juicefs_volume_path_health{${target},volume_id="pv-b",volume_path="${path2}",pod_uid="u2"}'
        values: '0x5'
      - series: 'juicefs_volume_path_health{${plugin},volume_id="pv-b",volume_path="${path2}",pod_uid="u2"}'
        values: '1x5'
      - series: 'juicefs_volume_path_health{${target},volume_id="pv-c",volume_path="${path3}",pod_uid="u3"}'
        values: '1x5'
      - series: 'juicefs_volume_path_health{${plugin},volume_id="pv-c",volume_path="${path3}",pod_uid="u3"}'
        values: '0x5'
      - series: 'juicefs_volume_path_info{${target},volume_id="pv-c",volume_path="${path3}",pod_uid="u3",pod_namespace="default",pod_name="web-2",pvc_name="data-web-2",pv="pv-c",mount_pod=""}'
        values: '1x5'
    alert_rule_test:
      - eval_time: 30s
        alertname: JuiceFSVolumePathUnhealthy
        exp_alerts: []
      - eval_time: 2m
        alertname: JuiceFSVolumePathUnhealthy
        exp_alerts:
          - exp_labels: {severity: critical, node_name: n1, volume_id: pv-a, volume_path: "${path1}", pod_uid: u1, pod_namespace: default, pod_name: web-0, pvc_name: data-web-0}
            exp_annotations:
              summary: default/web-0 (pvc data-web-0) cannot reach its JuiceFS volume
              description: 'volume pv-a at ${path1} on n1; see juicefs_volume_path_state for why'
          - exp_labels: {severity: critical, node_name: n1, volume_id: pv-b, volume_path: "${path2}", pod_uid: u2}
            exp_annotations:
              summary: pod u2 cannot reach its JuiceFS volume
              description: 'volume pv-b at ${path2} on n1; see juicefs_volume_path_state for why'
`;

const check = have || process.env.CI === 'true' ? test : test.skip;
check(`the README's alert rule joins the info labels, keeps paths without them, and reads only the prober (promtool)${have ? '' : ' [skipped: needs promtool]'}`, (t) => {
  t.true(have, 'promtool is installed by .ci/run');
  const readme = fs.readFileSync(README, 'utf8');
  const m = /<!-- alert-rule[^>]*-->\s*```yaml\n([\s\S]*?)```\s*<!-- \/alert-rule -->/.exec(readme);
  t.truthy(m, 'the README has the marked alert rule');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-promtool-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'rules.yml'), m![1]!);
  fs.writeFileSync(path.join(dir, 'test.yml'), unitTest);
  const checked = spawnSync('promtool', ['check', 'rules', 'rules.yml'], { cwd: dir, encoding: 'utf8' });
  t.is(checked.status, 0, checked.stdout + checked.stderr);
  const r = spawnSync('promtool', ['test', 'rules', 'test.yml'], { cwd: dir, encoding: 'utf8' });
  t.is(r.status, 0, r.stdout + r.stderr);
});

// promtool unit tests for JuiceFSVolumePathUnhealthy under every way the prober is
// scraped in the wild: by its own PodMonitor and ServiceMonitor (honorLabels), by the
// JuiceFS CSI driver's documented PodMonitor (no honorLabels; it also scrapes the CSI
// node plugin, which exports juicefs_volume_path_health with the same labels), or by
// both; each with and without the plugin's series. The plugin's value is refreshed only
// when kubelet asks for volume stats, so it can say 1 while the prober says 0.
//
// The series carry the labels Prometheus Operator gives a target (job, instance,
// namespace, pod, container, endpoint, service) on top of the exported ones, so the
// cases fail the way a real cluster would if a rule mixed the sources up.

import { stringify } from 'yaml';

export const MONITORS = ['own', 'doc', 'both'] as const;
export const PLUGIN = ['absent', 'present'] as const;
export type Monitors = (typeof MONITORS)[number];
export type Plugin = (typeof PLUGIN)[number];

const NODE = 'node-1';
const PROBER = { instance: '10.244.1.7:9567', namespace: 'kube-system', pod: 'juicefs-path-prober-x7k2p', container: 'juicefs-path-prober', endpoint: 'metrics' };
const CSI_NODE = { instance: '10.244.1.3:9567', namespace: 'kube-system', pod: 'juicefs-csi-node-q8d4m', container: 'juicefs-plugin', endpoint: 'metrics' };
/** The driver's documented PodMonitor: juicefs/juicefs-csi, selecting app.kubernetes.io/name=juicefs-csi-driver. */
const DOC_JOB = 'juicefs/juicefs-csi';

type Labels = Record<string, string>;

/** The label sets Prometheus stores the prober's samples under, one per monitor that scrapes it. */
function proberTargets(m: Monitors): Labels[] {
  const own = [
    { job: 'kube-system/juicefs-path-prober', ...PROBER },
    { job: 'juicefs-path-prober', service: 'juicefs-path-prober', ...PROBER },
  ];
  const doc = [{ job: DOC_JOB, ...PROBER }];
  return m === 'own' ? own : m === 'doc' ? doc : [...own, ...doc];
}

/** Where the CSI plugin's samples come from: the driver's PodMonitor, or (with only our monitors) one of its own. */
function pluginTarget(m: Monitors): Labels {
  return m === 'own' ? { job: 'kube-system/juicefs-csi-node', ...CSI_NODE } : { job: DOC_JOB, ...CSI_NODE };
}

interface PathCase {
  readonly pv: string;
  readonly uid: string;
  /** The prober's health, one value a minute (promtool's expanding notation). */
  readonly prober: string;
  /** What the CSI plugin says for the same path. */
  readonly plugin: string;
  /** The application pod as the prober's info series names it; '' while the pod is unknown. */
  readonly pod: { namespace: string; name: string; pvc: string };
}

const PATHS: readonly PathCase[] = [
  // Broken for good; the plugin still reports the 1 it computed before.
  { pv: 'pv-broken', uid: 'uid-broken', prober: '0x14', plugin: '1x14', pod: { namespace: 'shop', name: 'web-0', pvc: 'data-web-0' } },
  // Healthy, and the plugin agrees.
  { pv: 'pv-ok', uid: 'uid-ok', prober: '1x14', plugin: '1x14', pod: { namespace: 'shop', name: 'web-1', pvc: 'data-web-1' } },
  // Broken for 4 minutes, then recovers: fires, then resolves.
  { pv: 'pv-recovers', uid: 'uid-recovers', prober: '0 0 0 0 1x10', plugin: '1x14', pod: { namespace: 'batch', name: 'job-7', pvc: 'scratch' } },
  // One bad probe: never fires.
  { pv: 'pv-blip', uid: 'uid-blip', prober: '1 0 1x12', plugin: '1x14', pod: { namespace: 'shop', name: 'web-2', pvc: 'data-web-2' } },
  // Broken, pod not known to the prober (yet): named by its UID.
  { pv: 'pv-unnamed', uid: 'uid-unnamed', prober: '0x14', plugin: '1x14', pod: { namespace: '', name: '', pvc: '' } },
  // Healthy, while the plugin still says 0 from before: the prober is the one that decides.
  { pv: 'pv-plugin-stale-0', uid: 'uid-plugin-stale-0', prober: '1x14', plugin: '0x14', pod: { namespace: 'shop', name: 'web-3', pvc: 'data-web-3' } },
];

const pathOf = (c: PathCase) => `/var/lib/kubelet/pods/${c.uid}/volumes/kubernetes.io~csi/${c.pv}/mount`;
const pathLabels = (c: PathCase): Labels => ({ node_name: NODE, volume_id: c.pv, volume_path: pathOf(c), pod_uid: c.uid });

function series(name: string, labels: Labels): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return `${name}{${body}}`;
}

function expected(c: PathCase) {
  const named = c.pod.name !== '';
  const labels: Labels = { severity: 'critical', ...pathLabels(c), ...(named ? { pod_namespace: c.pod.namespace, pod_name: c.pod.name, pvc_name: c.pod.pvc } : {}) };
  return {
    exp_labels: labels,
    exp_annotations: {
      summary: `JuiceFS volume ${c.pv} is unhealthy in pod ${named ? `${c.pod.namespace}/${c.pod.name}` : c.uid} on ${NODE}`,
      description: `The path ${pathOf(c)} has failed its probe for 2 minutes (missing, disconnected, hung or erroring; juicefs_volume_path_state has the state). The pod cannot use this volume until it is remounted or the pod is recreated.`,
      runbook_url: 'docs/runbook.md#juicefsvolumepathunhealthy',
    },
  };
}

const firingAt: Record<string, readonly string[]> = {
  '1m': [],
  '3m': ['pv-broken', 'pv-recovers', 'pv-unnamed'],
  '6m': ['pv-broken', 'pv-unnamed'],
};

export interface MatrixCase {
  readonly monitors: Monitors;
  readonly plugin: Plugin;
  /** A promtool unit test file; its rule file is `rules.yaml` beside it. */
  readonly file: string;
  readonly yaml: string;
}

export function matrixCase(monitors: Monitors, plugin: Plugin): MatrixCase {
  const input: { series: string; values: string }[] = [];
  for (const target of proberTargets(monitors)) {
    input.push({ series: series('juicefs_path_prober_build_info', { ...target, node_name: NODE, version: '0.1.0', nodejs_version: 'v24.11.0' }), values: '1x14' });
    for (const c of PATHS) {
      input.push({ series: series('juicefs_volume_path_health', { ...target, ...pathLabels(c) }), values: c.prober });
      input.push({
        series: series('juicefs_volume_path_info', { ...target, ...pathLabels(c), pod_namespace: c.pod.namespace, pod_name: c.pod.name, pvc_name: c.pod.pvc, pv: c.pv, mount_pod: `juicefs-${NODE}-${c.pv}-abcdef` }),
        values: '1x14',
      });
    }
  }
  if (plugin === 'present') {
    const target = pluginTarget(monitors);
    for (const c of PATHS) input.push({ series: series('juicefs_volume_path_health', { ...target, ...pathLabels(c) }), values: c.plugin });
  }
  const doc = {
    rule_files: ['rules.yaml'],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: input,
        alert_rule_test: Object.entries(firingAt).map(([at, pvs]) => ({
          eval_time: at,
          alertname: 'JuiceFSVolumePathUnhealthy',
          exp_alerts: PATHS.filter((c) => pvs.includes(c.pv)).map(expected),
        })),
      },
    ],
  };
  const header = `# ${describe(monitors, plugin)}\n# Generated by test/deploy/scrape-matrix.ts.\n`;
  return { monitors, plugin, file: `unhealthy.${monitors}-monitors.csi-plugin-${plugin}.promtool.yaml`, yaml: header + stringify(doc, { lineWidth: 0 }) };
}

export function describe(monitors: Monitors, plugin: Plugin): string {
  const m = { own: 'the prober’s own PodMonitor and ServiceMonitor', doc: 'the CSI driver’s documented PodMonitor only', both: 'its own monitors and the driver’s PodMonitor' }[monitors];
  const p = plugin === 'present' ? 'the CSI plugin’s series present (a stale 1 for broken paths, a stale 0 for a healthy one)' : 'no CSI plugin series';
  return `scraped by ${m}; ${p}`;
}

export function matrix(): MatrixCase[] {
  return MONITORS.flatMap((m) => PLUGIN.map((p) => matrixCase(m, p)));
}

import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { Service, ServiceAccount } from 'kubernetes-models/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { PodMonitor, PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { FLAGS, parseCommandLine } from '../../src/cli/args.js';
import { kustomization, manifestObjects, MANIFESTS, objectOf, OVERLAYS, ROOT, ruleGroups, type K8sObject } from './repo.js';
import { toolTest } from './tools.js';

// Only the fields the assertions read; the schema check covers the rest.
interface Container {
  name: string;
  image: string;
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string | number } };
  readinessProbe: { httpGet: { path: string; port: string | number } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean; mountPropagation?: string }[];
}
interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}
interface NodeSelector {
  nodeSelectorTerms: { matchExpressions?: NodeSelectorRequirement[]; matchFields?: unknown[] }[];
}
interface PodSpec {
  serviceAccountName: string;
  priorityClassName: string;
  terminationGracePeriodSeconds: number;
  tolerations: { operator?: string; key?: string; effect?: string }[];
  securityContext: Record<string, unknown> & { seccompProfile?: { type: string } };
  containers: Container[];
  volumes: { name: string; hostPath?: { path: string; type?: string } }[];
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector } };
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
}
interface DaemonSetShape extends K8sObject {
  spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'apps/v1/DaemonSet': DaemonSet,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};
const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding']);
const NAME_LABEL = { 'app.kubernetes.io/name': 'juicefs-csi-driver' };
const OWN_LABELS = { ...NAME_LABEL, 'app.kubernetes.io/component': 'path-prober' };

function validate(obj: K8sObject): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  new Model(structuredClone(obj) as never).validate();
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const daemonSet = () => objectOf<DaemonSetShape>('DaemonSet');
const pod = () => daemonSet().spec.template.spec;
const container = () => pod().containers[0]!;

test('the kustomization lists every manifest file once, and the kinds an install needs', (t) => {
  const k = kustomization();
  const files = fs.readdirSync(MANIFESTS).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  t.deepEqual([...k.resources].sort(), files.sort());
  t.is(new Set(k.resources).size, k.resources.length);
  const kinds = manifestObjects().map(({ obj }) => obj.kind).sort();
  t.deepEqual(kinds, ['ClusterRole', 'ClusterRoleBinding', 'DaemonSet', 'PodMonitor', 'PrometheusRule', 'Service', 'ServiceAccount', 'ServiceMonitor']);
});

test('every manifest validates against the Kubernetes (and Prometheus Operator) schema', (t) => {
  for (const { file, obj } of manifestObjects()) t.notThrows(() => validate(obj), `${file}: ${obj.kind}`);
});

test('the schema check rejects a malformed object (it is not vacuous)', (t) => {
  const broken = structuredClone(daemonSet());
  (broken.spec.template.spec.containers[0]!.ports[0] as { containerPort: unknown }).containerPort = 'metrics';
  t.throws(() => validate(broken), { message: /containerPort must be integer/ });
  const noSelector = structuredClone(objectOf('PodMonitor')) as K8sObject & { spec: Record<string, unknown> };
  delete noSelector.spec.selector;
  t.throws(() => validate(noSelector), { message: /selector/ });
});

test('namespaced objects live in the kustomization namespace, kube-system; all carry our labels', (t) => {
  const ns = kustomization().namespace;
  t.is(ns, 'kube-system');
  for (const { obj } of manifestObjects()) {
    if (CLUSTER_SCOPED.has(obj.kind)) t.is(obj.metadata.namespace, undefined, obj.kind);
    else t.is(obj.metadata.namespace, ns, obj.kind);
    t.like(obj.metadata.labels ?? {}, OWN_LABELS, `${obj.kind} labels`);
  }
  const binding = objectOf('ClusterRoleBinding') as K8sObject & { subjects: { kind: string; name: string; namespace: string }[]; roleRef: { name: string } };
  t.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: objectOf('ServiceAccount').metadata.name, namespace: ns }]);
  t.is(binding.roleRef.name, objectOf('ClusterRole').metadata.name);
  t.is(pod().serviceAccountName, objectOf('ServiceAccount').metadata.name);
});

test('the ClusterRole grants exactly pods list/watch, claims get, events create/patch', (t) => {
  const role = objectOf('ClusterRole') as K8sObject & { rules: unknown[] };
  t.deepEqual(role.rules, [
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  ]);
});

test('the DaemonSet runs least-privileged: no capabilities, no escalation, read-only root, RuntimeDefault seccomp', (t) => {
  const p = pod();
  const sc = container().securityContext;
  t.is(sc.privileged, false);
  t.is(sc.allowPrivilegeEscalation, false);
  t.is(sc.readOnlyRootFilesystem, true);
  t.deepEqual(sc.capabilities, { drop: ['ALL'] }, 'drops ALL and adds none (measured: none needed)');
  t.is(p.securityContext.seccompProfile?.type, 'RuntimeDefault');
  // uid 0 is the measured need: kubelet's directories are root-owned, mode 0750.
  t.is(p.securityContext.runAsUser, 0);
  t.falsy(p.hostNetwork);
  t.falsy(p.hostPID);
  t.falsy(p.hostIPC);
  t.is(p.containers.length, 1);
});

test('the kubelet directory is a read-only hostPath at the same path with HostToContainer propagation', (t) => {
  const p = pod();
  const mounts = container().volumeMounts;
  t.is(mounts.length, 1);
  const m = mounts[0]!;
  const vol = p.volumes.find((v) => v.name === m.name);
  t.is(vol?.hostPath?.path, '/var/lib/kubelet');
  t.is(vol?.hostPath?.path, m.mountPath as string | undefined, 'same path inside, so the mount table names the paths kubelet uses');
  t.is(m.readOnly, true);
  t.is(m.mountPropagation, 'HostToContainer');
  t.is(p.volumes.length, 1);
});

test('the DaemonSet reaches every node, is node-critical, and has health probes, resources and a grace period', (t) => {
  const p = pod();
  t.deepEqual(p.tolerations, [{ operator: 'Exists' }], 'tolerates every taint');
  t.is(p.priorityClassName, 'system-node-critical');
  t.true(p.terminationGracePeriodSeconds >= 5, 'the daemon stops within 2 s of SIGTERM');
  const c = container();
  t.is(c.livenessProbe.httpGet.path, '/healthz');
  t.is(c.readinessProbe.httpGet.path, '/readyz');
  t.is(c.livenessProbe.httpGet.port, 'metrics');
  t.is(c.readinessProbe.httpGet.port, 'metrics');
  for (const r of ['cpu', 'memory']) {
    t.truthy(c.resources.requests[r], `requests.${r}`);
  }
  t.truthy(c.resources.limits.memory);
  t.deepEqual(c.env.find((e) => e.name === 'NODE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
});

// The scheduler's reading of a required node selector: terms ORed, expressions ANDed.
function nodeMatches(selector: NodeSelector, labels: Record<string, string>): boolean {
  return selector.nodeSelectorTerms.some((term) => {
    if (term.matchFields?.length) throw new Error('matchFields: not evaluated here');
    return (term.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const v = labels[key];
      switch (operator) {
        case 'In':
          return v !== undefined && values.includes(v);
        case 'NotIn':
          return v === undefined || !values.includes(v);
        case 'Exists':
          return v !== undefined;
        case 'DoesNotExist':
          return v === undefined;
        default:
          throw new Error(`operator ${operator}: not evaluated here`);
      }
    });
  });
}

test('the DaemonSet stays off virtual-kubelet and Fargate nodes, which have no kubelet directory, and runs on every other node', (t) => {
  const p = pod();
  const required = p.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return t.fail('no required node affinity');
  const runsOn = (labels: Record<string, string>) => nodeMatches(required, labels);
  // Labels as virtual-kubelet (Azure ACI, Alibaba ECI) and EKS Fargate set them.
  t.false(runsOn({ type: 'virtual-kubelet', 'kubernetes.io/role': 'agent', 'kubernetes.io/hostname': 'virtual-node-aci-linux' }));
  t.false(runsOn({ type: 'virtual-kubelet', 'kubernetes.io/os': 'linux' }));
  t.false(runsOn({ 'eks.amazonaws.com/compute-type': 'fargate', 'kubernetes.io/os': 'linux' }));
  // Ordinary nodes, labelled or bare, control plane included (tainted: tolerated).
  t.true(runsOn({}));
  t.true(runsOn({ 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': 'worker-1' }));
  t.true(runsOn({ 'node-role.kubernetes.io/control-plane': '' }));
  t.true(runsOn({ type: 'worker' }), 'another value of a label named type is not excluded');
  t.true(runsOn({ 'eks.amazonaws.com/compute-type': 'ec2' }));
  t.deepEqual(p.tolerations, [{ operator: 'Exists' }], 'the affinity, not a missing toleration, keeps it off those nodes');
});

test('every flag and environment variable the DaemonSet sets exists in the CLI and parses', (t) => {
  const c = container();
  const env = Object.fromEntries(c.env.map((e) => [e.name, e.value ?? 'node-a']));
  const parsed = parseCommandLine(c.args, env);
  if (parsed.kind !== 'run') return t.fail(`args parse to ${parsed.kind}`);
  t.is(parsed.config.command, 'serve');
  t.is(parsed.config.kubeletDir, container().volumeMounts[0]!.mountPath);
  t.is(c.ports.find((p) => p.name === 'metrics')?.containerPort, parsed.config.listen.port as number | undefined);
  t.is(parsed.config.nodeName, 'node-a', 'node name from the downward API');
  const knownEnv = new Set(Object.values(FLAGS).map((f) => f.env));
  for (const e of c.env) t.true(knownEnv.has(e.name), `${e.name} is read by the CLI`);
  // The parser is strict: a flag the CLI lacks would have thrown above.
  t.throws(() => parseCommandLine([...c.args, '--no-such-flag=1'], env), { message: /no-such-flag/ });
});

test('the image is the one the kustomization pins, tagged with the package version', (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const img = kustomization().images?.find((i) => i.name === container().image);
  t.truthy(img, 'kustomization images: entry for the container image');
  t.is(img?.newTag, pkg.version);
});

// The driver docs' PodMonitor and Service (+ ServiceMonitor on that Service's label), verbatim selectors.
const SEED_POD_MONITOR = { selector: NAME_LABEL, port: 'metrics' };
const SEED_SERVICE = { selector: NAME_LABEL, port: 9567, targetPort: 9567, portName: 'metrics' };
// A CSI node pod: our own monitors must not scrape the driver twice.
const CSI_NODE_POD_LABELS = { 'app.kubernetes.io/name': 'juicefs-csi-driver', app: 'juicefs-csi-node' };

test('the CSI driver docs’ PodMonitor and Service select and scrape the prober pods unchanged', (t) => {
  const labels = daemonSet().spec.template.metadata.labels;
  const ports = container().ports;
  t.true(selects(SEED_POD_MONITOR.selector, labels), 'seed PodMonitor selector matches');
  t.truthy(ports.find((p) => p.name === SEED_POD_MONITOR.port), 'seed PodMonitor port name exists on the pod');
  t.true(selects(SEED_SERVICE.selector, labels), 'seed Service selector matches');
  t.truthy(ports.find((p) => p.containerPort === SEED_SERVICE.targetPort && p.name === SEED_SERVICE.portName));
  t.deepEqual(ports, [{ name: 'metrics', containerPort: 9567, protocol: 'TCP' }]);
});

test('our own Service, PodMonitor and ServiceMonitor select the prober and not the CSI driver pods', (t) => {
  const labels = daemonSet().spec.template.metadata.labels;
  t.deepEqual(labels, OWN_LABELS);
  t.deepEqual(daemonSet().spec.selector.matchLabels, OWN_LABELS);
  const svc = objectOf('Service') as K8sObject & { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] } };
  t.true(selects(svc.spec.selector, labels));
  t.false(selects(svc.spec.selector, CSI_NODE_POD_LABELS));
  t.deepEqual(svc.spec.ports.map((p) => [p.name, p.port, p.targetPort]), [['metrics', 9567, 'metrics']]);
  const pm = objectOf('PodMonitor') as K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string }[] } };
  t.true(selects(pm.spec.selector.matchLabels, labels));
  t.false(selects(pm.spec.selector.matchLabels, CSI_NODE_POD_LABELS));
  t.deepEqual(pm.spec.podMetricsEndpoints.map((e) => [e.port, e.path]), [['metrics', '/metrics']]);
  const sm = objectOf('ServiceMonitor') as K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
  t.true(selects(sm.spec.selector.matchLabels, svc.metadata.labels ?? {}));
  t.deepEqual(sm.spec.endpoints.map((e) => [e.port, e.path]), [['metrics', '/metrics']]);
});

test('every alert has a severity, summary, description and a runbook link to a section of docs/runbook.md', (t) => {
  const runbook = fs.readFileSync(path.join(ROOT, 'docs', 'runbook.md'), 'utf8');
  const anchors = new Set([...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  const alerts = ruleGroups().flatMap((g) => g.rules).filter((r) => r.alert);
  t.true(alerts.length >= 4);
  for (const r of alerts) {
    const name = String(r.alert);
    const labels = r.labels as Record<string, string>;
    const ann = r.annotations as Record<string, string>;
    t.regex(labels.severity ?? "", /^(critical|warning|info)$/, name);
    t.truthy(ann.summary, `${name} summary`);
    t.truthy(ann.description, `${name} description`);
    const m = /^docs\/runbook\.md#(.+)$/.exec(ann.runbook_url ?? '');
    t.truthy(m, `${name} runbook_url`);
    t.true(anchors.has(m![1]!), `${name}: docs/runbook.md has a section #${m?.[1]}`);
  }
  const unhealthy = alerts.find((r) => r.alert === 'JuiceFSVolumePathUnhealthy');
  t.is((unhealthy?.labels as Record<string, string> | undefined)?.severity, 'critical');
});

test('the pod keeps its service account token: the prober finds the Kubernetes API in-cluster by itself', (t) => {
  const p = pod() as PodSpec & { automountServiceAccountToken?: boolean };
  t.not(p.automountServiceAccountToken, false);
  t.not((objectOf('ServiceAccount') as K8sObject & { automountServiceAccountToken?: boolean }).automountServiceAccountToken, false);
});

// kustomize itself: kubectl kustomize (Debian's kubernetes-client in CI, whose
// kubectl 1.20 embeds kustomize 2.0; newer kubectl renders the same bytes).
function kustomize(t: ExecutionContext, dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${path.relative(ROOT, dir)} exited ${r.status}: ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  for (const d of docs) if (d.errors.length > 0) t.fail(d.errors.map((e) => e.message).join('; '));
  return docs.map((d) => d.toJS() as K8sObject);
}
const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

toolTest('kubectl kustomize renders the files as the tests read them, plus the dashboard ConfigMap', ['kubectl'], (t) => {
  const rendered = kustomize(t, MANIFESTS);
  const ours = new Map(manifestObjects().map(({ obj }) => [key(obj), obj]));
  t.deepEqual(rendered.map(key).sort(), [...ours.keys(), 'ConfigMap/kube-system/juicefs-path-prober-dashboard'].sort());
  for (const o of rendered) {
    if (o.kind === 'ConfigMap') {
      t.like(o.metadata.labels ?? {}, { grafana_dashboard: '1', ...OWN_LABELS });
      t.notThrows(() => JSON.parse((o as K8sObject & { data: Record<string, string> }).data['juicefs-path-prober.json']!));
      continue;
    }
    const want = structuredClone(ours.get(key(o))!);
    if (o.kind === 'DaemonSet') {
      // The images: entry pins the tag.
      const c = (want as DaemonSetShape).spec.template.spec.containers[0]!;
      c.image = `${c.image}:${kustomization().images![0]!.newTag}`;
    }
    t.deepEqual(o, want, key(o));
  }
});

// One overlay per common kubelet root.
const KUBELET_ROOTS: Record<string, string> = {
  default: '/var/lib/kubelet',
  k0s: '/var/lib/k0s/kubelet',
  microk8s: '/var/snap/microk8s/common/var/lib/kubelet',
};

// The opt-in actions' overlays, each on the one before: what it adds to the DaemonSet's
// args and which one rule, in a ClusterRole of its own.
const ACTION_OVERLAYS: Record<string, { base: string; args: string[]; rule: { resources: string[]; verbs: string[] } }> = {
  'pod-condition': { base: 'default', args: ['--pod-condition=on', '--pod-condition-timeout-grace=1m'], rule: { resources: ['pods/status'], verbs: ['patch'] } },
  evict: { base: 'pod-condition', args: ['--evict-after=5m', '--evict=dry-run', '--evict-max=2', '--evict-window=10m'], rule: { resources: ['pods/eviction'], verbs: ['create'] } },
};

test('every overlay in overlays/ is one this file renders, and each has a kustomization', (t) => {
  const dirs = fs.readdirSync(OVERLAYS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  t.deepEqual(dirs.sort(), [...Object.keys(KUBELET_ROOTS), ...Object.keys(ACTION_OVERLAYS)].sort());
  for (const d of dirs) t.true(fs.existsSync(path.join(OVERLAYS, d, 'kustomization.yaml')), d);
});

for (const [name, root] of Object.entries(KUBELET_ROOTS)) {
  toolTest(`overlays/${name} sets hostPath, mountPath and --kubelet-dir to ${root} together and changes nothing else`, ['kubectl'], (t) => {
    const base = new Map(kustomize(t, MANIFESTS).map((o) => [key(o), o]));
    const rendered = kustomize(t, path.join(OVERLAYS, name));
    t.deepEqual(rendered.map(key).sort(), [...base.keys()].sort());
    for (const o of rendered) {
      const want = structuredClone(base.get(key(o))!);
      if (o.kind === 'DaemonSet') {
        const p = (want as DaemonSetShape).spec.template.spec;
        p.volumes[0]!.hostPath!.path = root;
        p.containers[0]!.volumeMounts[0]!.mountPath = root;
        p.containers[0]!.args = p.containers[0]!.args.map((a) => (a.startsWith('--kubelet-dir=') ? `--kubelet-dir=${root}` : a));
      }
      t.deepEqual(o, want, key(o));
    }
    // Read back the way kubelet and the daemon will.
    const ds = rendered.find((o) => o.kind === 'DaemonSet') as DaemonSetShape;
    const p = ds.spec.template.spec;
    const c = p.containers[0]!;
    const parsed = parseCommandLine(c.args, { NODE_NAME: 'node-a' });
    if (parsed.kind !== 'run') return t.fail(`args parse to ${parsed.kind}`);
    t.is(parsed.config.kubeletDir, root);
    t.deepEqual(c.volumeMounts.map((m) => [m.mountPath, m.readOnly, m.mountPropagation]), [[root, true, 'HostToContainer']]);
    t.deepEqual(p.volumes.map((v) => v.hostPath), [{ path: root, type: 'Directory' }]);
  });
}

for (const [name, o] of Object.entries(ACTION_OVERLAYS)) {
  toolTest(`overlays/${name} is overlays/${o.base} plus its flags and one ClusterRole with one rule, bound to the prober`, ['kubectl'], (t) => {
    const base = new Map(kustomize(t, path.join(OVERLAYS, o.base)).map((x) => [key(x), x]));
    const rendered = kustomize(t, path.join(OVERLAYS, name));
    const role = `juicefs-path-prober-${name}`;
    t.deepEqual(rendered.map(key).sort(), [...base.keys(), `ClusterRole//${role}`, `ClusterRoleBinding//${role}`].sort());
    for (const x of rendered) {
      const want = base.get(key(x));
      if (!want) continue;
      if (x.kind === 'DaemonSet') (want as DaemonSetShape).spec.template.spec.containers[0]!.args.push(...o.args);
      t.deepEqual(x, want, key(x));
    }
    const cr = rendered.find((x) => key(x) === `ClusterRole//${role}`) as K8sObject & { rules: unknown[] };
    t.deepEqual(cr.rules, [{ apiGroups: [''], ...o.rule }]);
    const crb = rendered.find((x) => key(x) === `ClusterRoleBinding//${role}`) as K8sObject & { subjects: unknown[]; roleRef: unknown };
    t.deepEqual(crb.subjects, [{ kind: 'ServiceAccount', name: 'juicefs-path-prober', namespace: 'kube-system' }]);
    t.like(crb.roleRef, { kind: 'ClusterRole', name: role });
    const ds = rendered.find((x) => x.kind === 'DaemonSet') as DaemonSetShape;
    const parsed = parseCommandLine(ds.spec.template.spec.containers[0]!.args, { NODE_NAME: 'node-a' });
    if (parsed.kind !== 'run') return t.fail(`args parse to ${parsed.kind}`);
    t.like(parsed.config.podCondition, { type: 'juicefs-path-prober.io/volumes-healthy', timeoutGraceMs: 60_000 });
    if (name === 'evict') t.like(parsed.config.evict, { mode: 'dry-run', afterMs: 300_000, max: 2, windowMs: 600_000, jobs: false, kubeSystem: false });
    else t.is(parsed.config.evict, undefined);
  });
}

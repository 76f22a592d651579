// The DaemonSet's pod, as `podman run` flags: what kubelet and containerd would
// give the container (args, env, user, capabilities, no_new_privs, seccomp, a
// read-only root, cgroup limits, the kubelet hostPath with its propagation, the
// port, the grace period), read from the rendered manifests. A field this file
// does not know how to reproduce is an error, not a silent difference: if the
// DaemonSet changes, the run changes or the check says why it cannot.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { parseAllDocuments } from 'yaml';

export class PodSpecError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PodSpecError';
  }
}

/** `kubectl kustomize <dir>`'s one DaemonSet. */
export function renderDaemonSet(dir: string): IDaemonSet {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new PodSpecError(`kubectl kustomize ${dir}: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) throw new PodSpecError(`kubectl kustomize ${dir} exited ${r.status}: ${r.stderr.trim()}`);
  const sets = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as { kind?: string } | null)
    .filter((o): o is IDaemonSet => o?.kind === 'DaemonSet');
  if (sets.length !== 1) throw new PodSpecError(`kubectl kustomize ${dir} rendered ${sets.length} DaemonSets, expected one`);
  return sets[0]!;
}

/** An HTTP probe of the container, as kubelet runs it. */
export interface HttpProbe {
  readonly path: string;
  readonly port: number;
  /** How long kubelet lets the container fail this probe before acting: initial delay + period × threshold. */
  readonly budgetMs: number;
}

export interface HostVolume {
  readonly name: string;
  /** The hostPath in the manifest, and the directory standing in for it here. */
  readonly hostPath: string;
  readonly source: string;
  readonly mountPath: string;
  /** podman's propagation option for the volume mount's mountPropagation. */
  readonly propagation: 'rprivate' | 'rslave' | 'rshared';
  readonly readOnly: boolean;
}

/** What the run is and what the checks expect of it, all from the manifest. */
export interface PodRun {
  /** `podman run` flags, before the image. */
  readonly flags: string[];
  /** What follows the image: the container's args (the image's ENTRYPOINT stays unless `command` is set). */
  readonly args: string[];
  readonly containerName: string;
  /** containerPort of each named port, and the ports to publish. */
  readonly ports: ReadonlyMap<string, number>;
  readonly liveness?: HttpProbe;
  readonly readiness?: HttpProbe;
  readonly graceSeconds: number;
  readonly volumes: readonly HostVolume[];
  readonly user: { readonly uid?: number; readonly gid?: number };
  readonly readOnlyRoot: boolean;
  readonly noNewPrivs: boolean;
  /** The capabilities the container ends up with (containerd's default set, less drop, plus add). */
  readonly capabilities: readonly string[];
  readonly memoryLimitBytes?: number;
  readonly memoryRequestBytes?: number;
  readonly cpuLimit?: number;
}

export interface PodRunOptions {
  /** The value the downward API would give `spec.nodeName`. */
  readonly nodeName: string;
  /** The directory standing in for a hostPath mounted at mountPath; a hostPath without one is an error. */
  readonly hostPaths: (hostPath: string, mountPath: string) => string | undefined;
}

// containerd's default capability set (what a Kubernetes container starts with).
const CONTAINERD_CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID',
  'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

// The pod fields read below, and those that only place, schedule or name the pod on a cluster.
const POD_KNOWN = new Set([
  'containers', 'volumes', 'securityContext', 'terminationGracePeriodSeconds',
  'affinity', 'tolerations', 'nodeSelector', 'priorityClassName', 'priority', 'schedulerName',
  'serviceAccountName', 'serviceAccount', 'dnsPolicy', 'restartPolicy', 'imagePullSecrets', 'enableServiceLinks',
]);
const CONTAINER_KNOWN = new Set([
  'name', 'image', 'imagePullPolicy', 'command', 'args', 'env', 'ports', 'resources', 'securityContext',
  'volumeMounts', 'livenessProbe', 'readinessProbe', 'startupProbe', 'workingDir',
  'terminationMessagePath', 'terminationMessagePolicy',
]);
const SECURITY_KNOWN = new Set([
  'runAsUser', 'runAsGroup', 'runAsNonRoot', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation',
  'capabilities', 'privileged', 'seccompProfile',
]);
const POD_SECURITY_KNOWN = new Set(['runAsUser', 'runAsGroup', 'runAsNonRoot', 'seccompProfile', 'supplementalGroups', 'fsGroup']);

function unknownKeys(obj: object | undefined, known: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(obj ?? {})) {
    if (!known.has(key)) throw new PodSpecError(`${where}.${key} is set, and the image check does not know how to reproduce it under podman (extend test/image/pod-spec.ts)`);
  }
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };

/** A Kubernetes resource quantity ("512Mi", "500m", "1.5") as a number of units. */
export function quantity(q: string | number, where: string): number {
  if (typeof q === 'number') return q;
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$/.exec(q.trim());
  if (!m) throw new PodSpecError(`${where}: cannot read the quantity ${JSON.stringify(q)}`);
  const unit = m[2] ?? '';
  return Number(m[1]) * (BINARY[unit] ?? DECIMAL[unit]!);
}

function httpProbe(p: IProbe | undefined, ports: ReadonlyMap<string, number>, where: string): HttpProbe | undefined {
  if (!p) return undefined;
  if (!p.httpGet) throw new PodSpecError(`${where} is not an httpGet probe; the image check runs HTTP probes only`);
  const port = typeof p.httpGet.port === 'number' ? p.httpGet.port : (ports.get(p.httpGet.port) ?? Number(p.httpGet.port));
  if (!Number.isInteger(port)) throw new PodSpecError(`${where}.httpGet.port ${p.httpGet.port} names no container port`);
  const budget = (p.initialDelaySeconds ?? 0) + (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3);
  return { path: p.httpGet.path ?? '/', port, budgetMs: budget * 1000 };
}

function only<T>(items: readonly T[] | undefined, where: string): T {
  if (items?.length !== 1) throw new PodSpecError(`${where} has ${items?.length ?? 0} entries; the image check runs exactly one`);
  return items[0]!;
}

/** The container, its pod and the podman flags that reproduce them. */
export function podRun(ds: IDaemonSet, opts: PodRunOptions): PodRun {
  const where = `DaemonSet ${ds.metadata?.namespace ?? ''}/${ds.metadata?.name ?? ''}`;
  const pod: IPodSpec | undefined = ds.spec?.template.spec;
  if (!pod) throw new PodSpecError(`${where} has no pod template`);
  unknownKeys(pod, POD_KNOWN, `${where} spec`);
  const c: IContainer = only(pod.containers, `${where} spec.containers`);
  unknownKeys(c, CONTAINER_KNOWN, `${where} container ${c.name}`);
  const flags: string[] = [];

  // Command and args: as in Kubernetes, args alone keep the image's ENTRYPOINT and replace its CMD.
  if (c.command) flags.push(`--entrypoint=${JSON.stringify(c.command)}`);
  if (c.workingDir) flags.push(`--workdir=${c.workingDir}`);

  // Environment, the downward API's node name included.
  for (const e of c.env ?? []) {
    if (e.value !== undefined) flags.push('--env', `${e.name}=${e.value}`);
    else if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName') flags.push('--env', `${e.name}=${opts.nodeName}`);
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') flags.push('--env', `${e.name}=${ds.metadata?.namespace ?? 'default'}`);
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') flags.push('--env', `${e.name}=${ds.metadata?.name ?? 'pod'}-image-check`);
    else if (e.valueFrom === undefined) flags.push('--env', `${e.name}=`);
    else throw new PodSpecError(`${where}: env ${e.name} comes from ${JSON.stringify(e.valueFrom)}, which the image check cannot provide`);
  }

  // Identity and privileges: the container's securityContext over the pod's.
  const podSec = pod.securityContext ?? {};
  const sec = c.securityContext ?? {};
  unknownKeys(podSec, POD_SECURITY_KNOWN, `${where} spec.securityContext`);
  unknownKeys(sec, SECURITY_KNOWN, `${where} container ${c.name} securityContext`);
  const uid = sec.runAsUser ?? podSec.runAsUser;
  const gid = sec.runAsGroup ?? podSec.runAsGroup;
  if ((sec.runAsNonRoot ?? podSec.runAsNonRoot) === true && uid === 0) throw new PodSpecError(`${where}: runAsNonRoot with runAsUser 0: kubelet would refuse to start the container`);
  if (gid !== undefined && uid === undefined) throw new PodSpecError(`${where}: runAsGroup without runAsUser needs the image's user; the image check sets both or neither`);
  if (uid !== undefined) flags.push(`--user=${uid}${gid !== undefined ? `:${gid}` : ''}`);
  for (const g of [...(podSec.supplementalGroups ?? []), ...(podSec.fsGroup !== undefined ? [podSec.fsGroup] : [])]) flags.push(`--group-add=${g}`);

  const privileged = sec.privileged === true;
  if (privileged) flags.push('--privileged');
  const drop = (sec.capabilities?.drop ?? []).map((x) => x.toUpperCase());
  const add = (sec.capabilities?.add ?? []).map((x) => x.toUpperCase());
  const capabilities = privileged
    ? ['ALL']
    : [...new Set([...(drop.includes('ALL') ? [] : CONTAINERD_CAPS.filter((x) => !drop.includes(x))), ...add])];
  if (!privileged) flags.push('--cap-drop=all', ...capabilities.map((x) => `--cap-add=${x}`));
  // Kubernetes sets no_new_privs exactly when allowPrivilegeEscalation is false.
  const noNewPrivs = sec.allowPrivilegeEscalation === false;
  if (noNewPrivs) flags.push('--security-opt=no-new-privileges');
  const seccomp = sec.seccompProfile ?? podSec.seccompProfile;
  // Without a profile Kubernetes runs the container unconfined (unless the kubelet's SeccompDefault is on).
  if (seccomp === undefined || seccomp.type === 'Unconfined') flags.push('--security-opt=seccomp=unconfined');
  else if (seccomp.type !== 'RuntimeDefault') throw new PodSpecError(`${where}: seccompProfile ${seccomp.type} is not reproducible here (RuntimeDefault and Unconfined are)`);

  // A read-only root is all of it: Kubernetes adds no tmpfs on /tmp or /run as podman --read-only would.
  const readOnlyRoot = sec.readOnlyRootFilesystem === true;
  if (readOnlyRoot) flags.push('--read-only', '--read-only-tmpfs=false');

  // Resources: limits as cgroup limits (no swap for a pod), the CPU request as kubelet's cpu shares.
  const res = c.resources ?? {};
  for (const key of [...Object.keys(res.limits ?? {}), ...Object.keys(res.requests ?? {})]) {
    if (!['cpu', 'memory', 'ephemeral-storage'].includes(key)) throw new PodSpecError(`${where}: resource ${key} is not reproducible here`);
  }
  const memoryLimitBytes = res.limits?.memory !== undefined ? quantity(res.limits.memory, 'limits.memory') : undefined;
  const memoryRequestBytes = res.requests?.memory !== undefined ? quantity(res.requests.memory, 'requests.memory') : undefined;
  const cpuLimit = res.limits?.cpu !== undefined ? quantity(res.limits.cpu, 'limits.cpu') : undefined;
  if (memoryLimitBytes !== undefined) flags.push(`--memory=${Math.floor(memoryLimitBytes)}b`, `--memory-swap=${Math.floor(memoryLimitBytes)}b`);
  if (cpuLimit !== undefined) flags.push(`--cpus=${cpuLimit}`);
  if (res.requests?.cpu !== undefined) flags.push(`--cpu-shares=${Math.max(2, Math.floor(quantity(res.requests.cpu, 'requests.cpu') * 1024))}`);

  // Volumes: hostPath only, each through the directory standing in for it here.
  const volumes: HostVolume[] = [];
  for (const m of c.volumeMounts ?? []) {
    const v = pod.volumes?.find((x) => x.name === m.name);
    if (!v?.hostPath) throw new PodSpecError(`${where}: volume ${m.name} is not a hostPath volume; the image check mounts hostPath volumes only`);
    if (m.subPath || m.subPathExpr) throw new PodSpecError(`${where}: volume mount ${m.name} uses a subPath, not reproduced here`);
    const source = opts.hostPaths(v.hostPath.path, m.mountPath);
    if (source === undefined) throw new PodSpecError(`${where}: no stand-in directory for hostPath ${v.hostPath.path}`);
    const type = v.hostPath.type ?? '';
    if (type === 'DirectoryOrCreate') fs.mkdirSync(source, { recursive: true });
    else if (type === 'Directory' && !fs.statSync(source, { throwIfNoEntry: false })?.isDirectory()) {
      throw new PodSpecError(`${where}: hostPath ${v.hostPath.path} is of type Directory and ${source} is not one`);
    } else if (type !== '' && type !== 'Directory') throw new PodSpecError(`${where}: hostPath type ${type} is not reproduced here`);
    const mode = m.mountPropagation ?? 'None';
    const propagation = mode === 'HostToContainer' ? 'rslave' : mode === 'Bidirectional' ? 'rshared' : mode === 'None' ? 'rprivate' : undefined;
    if (!propagation) throw new PodSpecError(`${where}: mountPropagation ${mode} is unknown`);
    const readOnly = m.readOnly === true;
    flags.push('--volume', `${source}:${m.mountPath}:${[readOnly ? 'ro' : 'rw', propagation].join(',')}`);
    volumes.push({ name: m.name, hostPath: v.hostPath.path, source, mountPath: m.mountPath, propagation, readOnly });
  }
  for (const v of pod.volumes ?? []) {
    if (!volumes.some((x) => x.name === v.name)) throw new PodSpecError(`${where}: volume ${v.name} is declared and not mounted`);
  }

  // Ports: each published on the loopback at a port of podman's choosing.
  const ports = new Map<string, number>();
  for (const p of c.ports ?? []) {
    if ((p.protocol ?? 'TCP') !== 'TCP') throw new PodSpecError(`${where}: port ${p.containerPort}/${p.protocol} is not TCP`);
    ports.set(p.name ?? String(p.containerPort), p.containerPort);
    flags.push(`--publish=127.0.0.1::${p.containerPort}`);
  }
  if (c.startupProbe) throw new PodSpecError(`${where}: a startupProbe is not reproduced here`);

  const graceSeconds = pod.terminationGracePeriodSeconds ?? 30;
  flags.push(`--stop-timeout=${graceSeconds}`);

  return {
    flags,
    args: c.args ?? [],
    containerName: c.name,
    ports,
    liveness: httpProbe(c.livenessProbe, ports, `${where} livenessProbe`),
    readiness: httpProbe(c.readinessProbe, ports, `${where} readinessProbe`),
    graceSeconds,
    volumes,
    user: { ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) },
    readOnlyRoot,
    noNewPrivs,
    capabilities,
    ...(memoryLimitBytes !== undefined ? { memoryLimitBytes } : {}),
    ...(memoryRequestBytes !== undefined ? { memoryRequestBytes } : {}),
    ...(cpuLimit !== undefined ? { cpuLimit } : {}),
  };
}

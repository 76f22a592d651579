// From Kubernetes API objects (typed from a list, or raw JSON from a watch
// stream: the same field names) to the records the prober keeps.

import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { PodConditionValue } from '../types.js';
import type { CsiNodeRecord, MountPodRecord, PodRecord } from './types.js';

export const MOUNT_POD_LABEL = 'app.kubernetes.io/name';
export const MOUNT_POD_LABEL_VALUE = 'juicefs-mount';
/** The CSI node DaemonSet's pods, as the driver's manifests and Helm chart label them. */
export const CSI_NODE_LABELS: Readonly<Record<string, string>> = { 'app.kubernetes.io/name': 'juicefs-csi-driver', app: 'juicefs-csi-node' };

/** The annotation key a mount pod gives a target path it serves: `juicefs-` and the path's SHA-256, cut to 63 characters. */
export function referenceKey(target: string): string {
  return `juicefs-${createHash('sha256').update(target).digest('hex')}`.slice(0, 63);
}

/** One annotation per target path, in every mount sharing mode (so a shared mount pod lists many). */
export function isTargetAnnotation(key: string, value: string): boolean {
  return key.startsWith('juicefs-') && key === referenceKey(value);
}

function mountState(pod: V1Pod): MountPodRecord {
  const targets = Object.entries(pod.metadata?.annotations ?? {})
    .filter(([k, v]) => isTargetAnnotation(k, v))
    .map(([, v]) => v)
    .sort();
  return { targets, ...runState(pod) };
}

function csiNodeState(pod: V1Pod): CsiNodeRecord {
  const byProcess = (pod.spec?.containers ?? []).some((c) => (c.args ?? []).some((a) => a === '--by-process' || a === '--by-process=true'));
  return { byProcess, ...runState(pod) };
}

/** Running: phase Running, no container waiting or terminated, not being deleted; else why not. */
function runState(pod: V1Pod): { running: boolean; why: string } {
  const phase = pod.status?.phase ?? 'Unknown';
  let why = '';
  for (const c of pod.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    const terminated = c.state?.terminated;
    if (waiting) why ||= `container ${c.name} waiting: ${waiting.reason ?? 'unknown reason'}`;
    else if (terminated) why ||= `container ${c.name} terminated: ${terminated.reason ?? `exit code ${terminated.exitCode}`}`;
  }
  // Mount pods can carry a readiness probe: one that fails means the FUSE client is not serving, however the containers run.
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'False' && phase === 'Running' && !why) why = `not Ready${ready.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}`;
  const deleting = Boolean(pod.metadata?.deletionTimestamp);
  if (deleting && !why) why = 'being deleted';
  return { running: phase === 'Running' && !why, why };
}

const NO_VOLUMES: ReadonlySet<string> = new Set();
const NO_CONDITIONS: ReadonlyMap<string, PodConditionValue> = new Map();

/** Conditions of qualified types only: the system ones (Ready, PodScheduled, ...) are kubelet's and never read here. */
function customConditions(pod: V1Pod): ReadonlyMap<string, PodConditionValue> {
  let out: Map<string, PodConditionValue> | undefined;
  for (const c of pod.status?.conditions ?? []) {
    if (!c.type?.includes('/')) continue;
    (out ??= new Map()).set(c.type, { status: c.status ?? '', reason: c.reason ?? '', message: c.message ?? '' });
  }
  return out ?? NO_CONDITIONS;
}

export function slimPod(pod: V1Pod): PodRecord | undefined {
  const uid = pod.metadata?.uid;
  const name = pod.metadata?.name;
  if (!uid || !name) return undefined;
  const claims = new Map<string, string>();
  let inline: Set<string> | undefined;
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) claims.set(v.name, v.persistentVolumeClaim.claimName);
    // A generic ephemeral volume's claim is made by Kubernetes and always named `<pod>-<volume>`.
    else if (v.ephemeral) claims.set(v.name, `${name}-${v.name}`);
    // An inline CSI volume is published under its pod volume name, with no claim.
    else if (v.csi) (inline ??= new Set()).add(v.name);
  }
  const labels = pod.metadata?.labels ?? {};
  const isMount = labels[MOUNT_POD_LABEL] === MOUNT_POD_LABEL_VALUE;
  const isCsiNode = Object.entries(CSI_NODE_LABELS).every(([k, v]) => labels[k] === v);
  return {
    uid,
    namespace: pod.metadata?.namespace ?? '',
    name,
    phase: pod.status?.phase ?? 'Unknown',
    deleting: Boolean(pod.metadata?.deletionTimestamp),
    claims,
    inline: inline ?? NO_VOLUMES,
    controllerKind: pod.metadata?.ownerReferences?.find((r) => r.controller === true)?.kind ?? '',
    conditions: customConditions(pod),
    ...(isMount ? { mount: mountState(pod) } : {}),
    ...(isCsiNode ? { csiNode: csiNodeState(pod) } : {}),
  };
}

/** `<uid>/<pv>` of a kubelet CSI target path, however the kubelet root is spelled. */
export function targetKey(path: string): string | undefined {
  const m = /\/pods\/([^/]+)\/volumes\/kubernetes\.io~csi\/([^/]+)\/mount\/?$/.exec(path);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

// The `/status` JSON document: what the daemon knows, for people and scripts
// (`kubectl exec … curl /status`, the tests). Its shape is a typed contract, so
// a field cannot change or vanish without the compiler saying where it is read.

import type { ActionsStatus } from '../act/pod-actions.js';
import type { KubeStatus } from '../kube/kube.js';
import type { HelperPoolStats } from '../probe/helper-pool.js';
import { healthValue, type PathOwner, type PathState, type PathStatus } from '../types.js';

export interface MountPodDocument {
  readonly namespace: string;
  readonly name: string;
  readonly phase: string;
  readonly running: boolean;
  readonly why: string | null;
  /** Process mount mode: the CSI node pod runs the clients and stands in for the mount pod. */
  readonly csi_node?: true;
}

/** The Kubernetes part of a path's entry (Kubernetes mode only). */
export interface PathKubeDocument {
  readonly namespace: string | null;
  readonly pod: string | null;
  readonly pvc: string | null;
  readonly mount_pod: MountPodDocument | null;
  /** The case upstream documents and never checks: the mount pod runs, its mount point does not work. */
  readonly mount_pod_running_but_path_broken?: true;
}

export interface PathDocument {
  readonly path: string;
  readonly kind: PathStatus['volume']['kind'];
  readonly pod_uid: string;
  readonly pv: string;
  readonly volume_id: string;
  readonly subpath?: PathStatus['volume']['subpath'];
  readonly state: PathState;
  /** 1, 0, or null while no health series is exported (pending, orphaned). */
  readonly health: 0 | 1 | null;
  readonly detail: string;
  readonly since: string | null;
  readonly last_probe: string | null;
  readonly last_probe_ms: number | null;
  readonly source: string | null;
  readonly kube?: PathKubeDocument;
}

/** What the Kubernetes adapter reports of itself (kube/kube.ts `status()`). */
export type KubeStatusDocument = KubeStatus;

/** The probe helpers, as the pool counts them. */
export type HelpersDocument = HelperPoolStats;

export interface StatusDocument {
  readonly node: string;
  readonly version: string;
  readonly started_at: string;
  readonly ready: boolean;
  /** Why the daemon is not ready, when it is a misconfiguration (the pods directory). */
  readonly not_ready?: string;
  readonly kube: ({ readonly mode: 'on' } & KubeStatusDocument) | { readonly mode: 'off'; readonly why: string };
  readonly probe: {
    readonly in_flight: number;
    readonly stuck: readonly { readonly source: string; readonly since: string | null }[];
    readonly helpers: HelpersDocument;
  };
  /** The opt-in actions, when one is on. */
  readonly actions?: ActionsStatus;
  readonly paths: readonly PathDocument[];
}

/** What the document is made from; read at request time. */
export interface StatusSources {
  readonly node: string;
  readonly version: string;
  readonly startedAt: string;
  ready(): boolean;
  notReady(): string | undefined;
  /** Kubernetes mode as it stands now (it turns off once an unusable configuration has loaded). */
  kube(): { readonly mode: 'off'; readonly why: string } | { readonly mode: 'on'; status(): KubeStatusDocument; owner(s: PathStatus): PathOwner | undefined };
  inFlight(): number;
  stuck(): readonly { readonly key: string; readonly since: number }[];
  helpers(): HelpersDocument;
  paths(): readonly PathStatus[];
  actions?(): ActionsStatus;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function pathKubeDocument(s: PathStatus, owner: PathOwner | undefined): PathKubeDocument {
  const m = owner?.mountPod;
  return {
    namespace: owner?.namespace || null,
    pod: owner?.pod || null,
    pvc: owner?.pvc || null,
    mount_pod: m ? { namespace: m.namespace, name: m.name, phase: m.phase, running: m.running, why: m.why || null, ...(m.csiNode ? { csi_node: true as const } : {}) } : null,
    ...(m?.running && healthValue(s.state) === 0 ? { mount_pod_running_but_path_broken: true as const } : {}),
  };
}

export function pathDocument(s: PathStatus): PathDocument {
  return {
    path: s.volume.path,
    kind: s.volume.kind,
    pod_uid: s.volume.podUid,
    pv: s.volume.pv,
    volume_id: s.volume.volumeId,
    ...(s.volume.subpath ? { subpath: s.volume.subpath } : {}),
    state: s.state,
    health: healthValue(s.state) ?? null,
    detail: s.detail,
    since: iso(s.since),
    last_probe: iso(s.lastProbeAt),
    last_probe_ms: s.lastProbeMs === undefined ? null : Math.round(s.lastProbeMs * 1000) / 1000,
    source: s.source ?? null,
  };
}

export function statusDocument(src: StatusSources): StatusDocument {
  const kube = src.kube();
  const notReady = src.notReady();
  return {
    node: src.node,
    version: src.version,
    started_at: src.startedAt,
    ready: src.ready(),
    ...(notReady ? { not_ready: notReady } : {}),
    kube: kube.mode === 'on' ? { mode: 'on', ...kube.status() } : { mode: 'off', why: kube.why },
    probe: {
      in_flight: src.inFlight(),
      // One entry per mount source, however many of its calls are stuck.
      stuck: [...new Map(src.stuck().map((s) => [s.key, s.since]))].map(([source, since]) => ({ source, since: iso(since) })),
      helpers: src.helpers(),
    },
    ...(src.actions ? { actions: src.actions() } : {}),
    paths: [...src.paths()]
      .sort((a, b) => (a.volume.path < b.volume.path ? -1 : 1))
      .map((s) => (kube.mode === 'on' ? { ...pathDocument(s), kube: pathKubeDocument(s, kube.owner(s)) } : pathDocument(s))),
  };
}

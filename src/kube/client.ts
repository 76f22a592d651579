// The client the Kubernetes adapter talks through: the calls it makes,
// shaped as @kubernetes/client-node's (whose types describe the objects), but
// served by plain HTTP (http-client.ts) so the library is never resident.

import http from 'node:http';
import type { CoreV1Event, V1Eviction, V1PersistentVolumeClaim, V1PodList } from '@kubernetes/client-node';

/** Per request: a signal that abandons it (its connection is closed, not left to time out). */
export interface RequestOptions {
  readonly signal?: AbortSignal;
}

export interface KubeCore {
  listPodForAllNamespaces(p: { fieldSelector?: string; limit?: number; _continue?: string }, o?: RequestOptions): Promise<V1PodList>;
  readNamespacedPersistentVolumeClaim(p: { name: string; namespace: string }, o?: RequestOptions): Promise<V1PersistentVolumeClaim>;
  createNamespacedEvent(p: { namespace: string; body: CoreV1Event }, o?: RequestOptions): Promise<unknown>;
  /** Always a JSON merge patch (the only kind the daemon sends). */
  patchNamespacedEvent(p: { name: string; namespace: string; body: object }, o?: RequestOptions): Promise<unknown>;
  /** A strategic merge patch of a pod's status: conditions merge by type, so kubelet's stay. (--pod-condition) */
  patchNamespacedPodStatus(p: { name: string; namespace: string; body: object }, o?: RequestOptions): Promise<unknown>;
  /** The Eviction API: PodDisruptionBudgets decide, a 429 says not now. (--evict-after) */
  createNamespacedPodEviction(p: { name: string; namespace: string; body: V1Eviction }, o?: RequestOptions): Promise<unknown>;
}

export interface KubeWatch {
  /** Resolves once the stream is open (or has failed: `done` is then called with the error). */
  watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (type: string, object: unknown) => void, done: (err: unknown) => void): Promise<{ abort(): void }>;
}

export interface KubeClient {
  readonly core: KubeCore;
  readonly watch: KubeWatch;
  /** The API server's URL; empty until the configuration is loaded. */
  readonly server: string;
  /**
   * Settles once the configuration is loaded; rejects with a KubeConfigError if it can never work,
   * a UsageError if it cannot be read.
   * Requests made before then wait for it, so loading never holds up the daemon's start.
   */
  readonly loaded: Promise<void>;
  /** Why the last configuration load could not get credentials (an exec plugin failed), or undefined. */
  authError(): string | undefined;
  /** Loads that could not get credentials, since the start. */
  authErrors(): number;
  /** Called once loaded, and after each load, with its auth error (undefined: credentials were had). */
  onCredentials(listener: (authError: string | undefined) => void): void;
  /** Stops refreshing credentials; open connections end with their requests. */
  stop(): void;
}

/** A refused request: `code` is the HTTP status, as the client library's errors carry it. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly body: string;
  /** The server's Retry-After (429, 503), in ms. */
  readonly retryAfterMs: number | undefined;
  constructor(code: number, body: string, retryAfterMs?: number) {
    super(`HTTP ${code}: ${http.STATUS_CODES[code] ?? 'error'}${body ? `: ${body.slice(0, 300)}` : ''}`);
    this.name = 'KubeApiError';
    this.code = code;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}

export const PatchStrategy = { MergePatch: 'application/merge-patch+json', StrategicMergePatch: 'application/strategic-merge-patch+json' } as const;

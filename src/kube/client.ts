// The client the Kubernetes adapter talks through: the five calls it makes,
// shaped as @kubernetes/client-node's (whose types describe the objects), but
// served by plain HTTP (http-client.ts) so the library is never resident.

import http from 'node:http';
import type { CoreV1Event, V1PersistentVolumeClaim, V1PodList } from '@kubernetes/client-node';

export interface KubeCore {
  listPodForAllNamespaces(p: { fieldSelector?: string; limit?: number; _continue?: string }): Promise<V1PodList>;
  readNamespacedPersistentVolumeClaim(p: { name: string; namespace: string }): Promise<V1PersistentVolumeClaim>;
  createNamespacedEvent(p: { namespace: string; body: CoreV1Event }): Promise<unknown>;
  /** Always a JSON merge patch (the only kind the daemon sends); `options` is accepted for the call's shape. */
  patchNamespacedEvent(p: { name: string; namespace: string; body: object }, options?: unknown): Promise<unknown>;
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
}

/** A refused request: `code` is the HTTP status, as the client library's errors carry it. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly body: string;
  constructor(code: number, body: string) {
    super(`HTTP ${code}: ${(http.STATUS_CODES[code] ?? 'error')}${body ? `: ${body.slice(0, 300)}` : ''}`);
    this.name = 'KubeApiError';
    this.code = code;
    this.body = body;
  }
}

/** Kept for the call sites written against the client library: a merge patch is what is sent. */
export const PatchStrategy = { MergePatch: 'application/merge-patch+json' } as const;
export function setHeaderOptions(_name: string, _value: string): undefined {
  return undefined;
}

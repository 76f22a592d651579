// The API client for a chosen source. A kubeconfig that cannot be used is a
// usage error (exit 2), found at start rather than at the first request.
//
// @kubernetes/client-node stays the authority on the configuration, but runs
// only in a short-lived loader process (config-main.ts): imported, it would keep
// ~60 MiB resident in the daemon for its whole life, for the five requests the
// daemon makes. Those are plain HTTP here: list and watch pods, read a claim,
// create and patch events; with the opt-in actions, patch a pod's status and evict.

import { UsageError, errorMessage } from '../errors.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { KubeClient } from './client.js';
import { KubeConfigError } from './config-check.js';
import type { KubeSource } from './detect.js';
import { createHttpClient } from './http-client.js';
import { LoaderError, runLoader } from './loader.js';

export type { KubeClient } from './client.js';

export function openKube(source: Exclude<KubeSource, { kind: 'off' }>, opts: { clock?: Clock } = {}): KubeClient {
  const flag = source.kind === 'kubeconfig' ? 'kubeconfig' : 'kube';
  let client: KubeClient | undefined;
  let stopped = false;
  const listeners: ((authError: string | undefined) => void)[] = [];
  const loaded = runLoader(source).then(
    async (cfg) => {
      let base: URL;
      try {
        base = new URL(cfg.server);
        if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`unsupported server URL ${cfg.server}`);
      } catch (err) {
        throw new UsageError(`--${flag}: ${errorMessage(err)}`, flag, { cause: err });
      }
      client = await createHttpClient({ initial: cfg, base, load: (signal) => runLoader(source, signal), clock: opts.clock ?? systemClock });
      for (const l of listeners) client.onCredentials(l);
      if (stopped) client.stop();
    },
    (err: unknown) => {
      // One that can never work is a KubeConfigError: fatal with --kube=on, Kubernetes mode off with auto.
      if (err instanceof LoaderError && err.unusable) throw new KubeConfigError(`--${flag}: ${err.message}`, flag, { cause: err });
      throw new UsageError(`--${flag}: ${errorMessage(err)}`, flag, { cause: err });
    },
  );
  loaded.catch(() => {}); // the owner awaits it; requests waiting on it fail with it
  const ready = async () => {
    await loaded;
    return client!;
  };
  return {
    get server() {
      return client?.server ?? '';
    },
    loaded,
    authError: () => client?.authError(),
    authErrors: () => client?.authErrors() ?? 0,
    onCredentials(l) {
      if (client) client.onCredentials(l);
      else listeners.push(l);
    },
    stop() {
      stopped = true;
      client?.stop();
    },
    core: {
      listPodForAllNamespaces: async (p, o) => (await ready()).core.listPodForAllNamespaces(p, o),
      readNamespacedPersistentVolumeClaim: async (p, o) => (await ready()).core.readNamespacedPersistentVolumeClaim(p, o),
      createNamespacedEvent: async (p, o) => (await ready()).core.createNamespacedEvent(p, o),
      patchNamespacedEvent: async (p, o) => (await ready()).core.patchNamespacedEvent(p, o),
      patchNamespacedPodStatus: async (p, o) => (await ready()).core.patchNamespacedPodStatus(p, o),
      createNamespacedPodEviction: async (p, o) => (await ready()).core.createNamespacedPodEviction(p, o),
    },
    watch: {
      watch: async (path, query, onEvent, done) => (await ready()).watch.watch(path, query, onEvent, done),
    },
  };
}

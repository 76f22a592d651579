// Wiring for `serve`: builds the core, Kubernetes mode, the scheduler, pod
// discovery and the HTTP app, connects their events, and listens. Only here is
// anything listened on or started; every decision lives in the modules wired.

import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { createCore, kubeExtras, type Core, type Deps } from './core.js';
import { createPodDiscovery } from './discovery/pod-discovery.js';
import { ListenError } from './errors.js';
import { createScheduler } from './health/scheduler.js';
import { createApp } from './http/app.js';
import { createHttpServer, HTTP_LIMITS } from './http/server.js';
import { statusDocument } from './http/status-document.js';
import { renderStatusPage } from './http/status-page.js';
import type { Kube } from './kube/kube.js';
import { openKubeMode } from './kube/mode.js';
import { registerKubeMetrics } from './metrics/kube-metrics.js';
import { realTimers } from './shared/timers.js';
import { systemClock } from './types.js';

export interface Daemon {
  readonly address: AddressInfo;
  readonly core: Core;
  stop(): Promise<void>;
}

/** Mount pods change verdicts: a burst of changes asks for one cycle, at most once a second. */
const KUBE_KICK_MS = 1000;

export async function startDaemon(config: Config, deps: Deps): Promise<Daemon> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  // Kubernetes mode adds labels, mount pod states and events; the probing never waits on it.
  const { kube, source: kubeSource, off: kubeOff } = await openKubeMode({ mode: config.kube, kubeconfig: config.kubeconfig, nodeName: config.nodeName }, logger);
  const core = await createCore(config, deps, kube ? kubeExtras(kube) : {});
  const startedAt = new Date(clock.now()).toISOString();

  const scheduler = createScheduler({ runCycle: core.runCycle, intervalMs: config.intervalMs, logger });
  scheduler.onCycle((r) => core.metrics.observeCycle(r.durationMs / 1000, r.ok));
  core.inventory.onChange(({ added }) => {
    if (added.length > 0) scheduler.trigger();
  });
  core.runner.onRelease(() => scheduler.trigger());
  const stopKube = kube ? wireKube(core, kube, () => scheduler.trigger()) : () => {};

  const discovery = createPodDiscovery({
    layout: core.layout,
    inventory: core.inventory,
    logger,
    resyncMs: config.resyncMs,
    ...(deps.fs ? { fs: deps.fs } : {}),
    onWatching: (on) => core.metrics.watching(on),
    onWatchError: () => core.metrics.discoveryError('watch'),
  });

  const probing = () => discovery.scanned() && scheduler.isReady();
  const isReady = () => probing() && discovery.podsDirProblem() === undefined;
  const app = createApp({
    logger,
    isReady,
    notReadyReason: () => discovery.podsDirProblem() ?? 'waiting for the first probe cycle',
    renderMetrics: (format) => core.metrics.render(format),
    status: () =>
      statusDocument({
        node: config.nodeName,
        version: core.version,
        startedAt,
        ready: isReady,
        notReady: () => discovery.podsDirProblem(),
        kube: kube ? { mode: 'on', status: () => kube.status(), owner: (s) => kube.owner(s.volume) } : { mode: 'off', why: kubeOff },
        inFlight: () => core.runner.inFlight(),
        stuck: () => core.runner.stuck(),
        helpers: () => core.pool.stats(),
        paths: () => core.tracker.list(),
      }),
    statusPage: () =>
      renderStatusPage({
        node: config.nodeName,
        version: core.version,
        now: clock.now(),
        ready: probing(),
        kube: !kube ? 'off' : kube.isStale() ? 'stale' : 'on',
        stuckProbes: core.runner.stuck().length,
        paths: core.tracker.list().map((status) => ({ status, owner: kube?.owner(status.volume) })),
      }),
  });

  const server = createHttpServer(app);
  const { host, port } = config.listen;
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => {
      core.close();
      kube?.stop();
      reject(new ListenError(`${host === undefined ? '' : host.includes(':') ? `[${host}]` : host}:${port}`, '--listen [host]:port', { cause: err }));
    };
    server.once('error', failed);
    server.listen({ port, host, backlog: HTTP_LIMITS.backlog }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  logger.info('listening', { address: address.address, port: address.port, node: config.nodeName, version: core.version });

  if (kube) {
    kube.start();
    logger.info('kubernetes mode on', { source: kubeSource.kind === 'kubeconfig' ? kubeSource.path : kubeSource.kind, node: config.nodeName });
  } else {
    logger.info('kubernetes mode off', { why: kubeOff });
  }
  await discovery.start();
  scheduler.start();

  return {
    address,
    core,
    async stop() {
      scheduler.stop();
      stopKube();
      server.close();
      server.closeAllConnections();
      // Blocked probes live in the helpers, so nothing here waits on a mount.
      core.close();
      await discovery.stop();
    },
  };
}

/** Kubernetes mode's hooks: info series, events on transitions, and a cycle soon after a mount pod changes. */
function wireKube(core: Core, kube: Kube, trigger: () => void): () => void {
  registerKubeMetrics({ registry: core.metrics.registry, pathSeries: core.metrics.pathSeries, owner: kube.owner, stale: kube.isStale, counters: kube.counters });
  core.tracker.onTransition((t) => kube.transition(t));
  core.tracker.onRemove((v) => kube.pathRemoved(v));
  let kick: unknown;
  kube.onMountPodChange(() => {
    kick ??= realTimers.setTimeout(() => {
      kick = undefined;
      trigger();
    }, KUBE_KICK_MS);
  });
  return () => {
    if (kick !== undefined) realTimers.clearTimeout(kick);
    kube.stop();
  };
}

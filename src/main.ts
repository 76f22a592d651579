// Wiring for `serve`: builds the core, Kubernetes mode, the scheduler, pod
// discovery, the readiness rule and the HTTP app, connects their events, and
// listens. Only here is anything listened on or started; every decision lives
// in the modules wired.

import type { AddressInfo } from 'node:net';
import { createPodActions } from './act/pod-actions.js';
import type { Config } from './config.js';
import { createCore, cycleOnMountPodChange, kubeExtras, reportToActions, reportToKube, type Core, type Deps } from './core.js';
import { createScheduler } from './cycle/scheduler.js';
import { createPodDiscovery } from './discovery/pod-discovery.js';
import { createApp } from './http/app.js';
import { createHttpServer, listen } from './http/server.js';
import { statusDocument } from './http/status-document.js';
import { renderStatusPage } from './http/status-page.js';
import { openKubeMode } from './kube/mode.js';
import { registerActionMetrics } from './metrics/action-metrics.js';
import { registerKubeMetrics } from './metrics/kube-metrics.js';
import { createReadiness } from './readiness.js';

export interface Daemon {
  readonly address: AddressInfo;
  readonly core: Core;
  stop(): Promise<void>;
}

export async function startDaemon(config: Config, deps: Deps): Promise<Daemon> {
  const { logger } = deps;
  // Kubernetes mode adds labels, mount pod states and events; the probing never waits on it.
  const mode = await openKubeMode({ mode: config.kube, kubeconfig: config.kubeconfig, nodeName: config.nodeName }, logger);
  // The adapter while Kubernetes mode is on; undefined once it is off.
  let kube = mode.kube;
  let kubeOff = mode.off;
  let kubeSettled = kube === undefined;
  const core = await createCore(config, deps, mode.kube ? kubeExtras(mode.kube) : {});
  const { clock } = core;
  const startedAt = new Date(clock.now()).toISOString();

  const scheduler = createScheduler({ runCycle: core.runCycle, intervalMs: config.intervalMs, logger, clock });
  scheduler.onCycle((r) => core.metrics.observeCycle(r.durationMs / 1000, r.ok));
  core.inventory.onChange(({ added }) => {
    if (added.length > 0) scheduler.trigger();
  });
  core.runner.onRelease(() => scheduler.trigger());
  // Kubernetes mode both ways, each on its own interface: what it tells the cycle, what it is told.
  const stopKick = mode.kube ? cycleOnMountPodChange(mode.kube, () => scheduler.trigger(), clock) : () => {};
  if (mode.kube) reportToKube(core, mode.kube);
  // Opt-in: a readiness-gate condition and evictions, after each cycle and on each change.
  const actions =
    mode.kube && (config.podCondition || config.evict)
      ? createPodActions({ api: mode.kube, paths: () => core.tracker.list(), clock, logger, condition: config.podCondition, evict: config.evict })
      : undefined;
  if (actions) {
    reportToActions(core, actions);
    scheduler.onCycle(() => actions.reconcile());
    registerActionMetrics(core.metrics.registry, actions.counters, { condition: config.podCondition !== undefined, evict: config.evict !== undefined });
  }

  const discovery = createPodDiscovery({
    layout: core.layout,
    inventory: core.inventory,
    logger,
    resyncMs: config.resyncMs,
    ...(deps.fs ? { fs: deps.fs } : {}),
    onWatching: (on) => core.metrics.watching(on),
    onWatchError: () => core.metrics.discoveryError('watch'),
    onWatchPolling: (dirs) => core.metrics.watchPolled(dirs),
  });

  const readiness = createReadiness({
    podsDirProblem: () => discovery.podsDirProblem(),
    scanned: () => discovery.scanned(),
    cycled: () => scheduler.isReady(),
    kubeSettled: () => kubeSettled,
    kubeAuthError: () => kube?.authError(),
  });
  const app = createApp({
    logger,
    notReady: readiness.reason,
    renderMetrics: (format, gzip) => core.metrics.body.render(format, gzip),
    status: () =>
      statusDocument({
        node: config.nodeName,
        version: core.version,
        startedAt,
        ready: readiness.ready,
        notReady: readiness.reason,
        kube: () => {
          const k = kube;
          return k ? { mode: 'on', status: () => k.status(), owner: (s) => k.owner(s.volume) } : { mode: 'off', why: kubeOff };
        },
        inFlight: () => core.runner.inFlight(),
        stuck: () => core.runner.stuck(),
        helpers: () => core.pool.stats(),
        paths: () => core.tracker.list(),
        ...(actions ? { actions: () => actions.status() } : {}),
      }),
    statusPage: () =>
      renderStatusPage({
        node: config.nodeName,
        version: core.version,
        now: clock.now(),
        ready: readiness.ready(),
        notReady: readiness.reason(),
        kube: !kube ? 'off' : kube.isStale() ? 'stale' : 'on',
        stuckProbes: core.runner.stuck().length,
        paths: core.tracker.list().map((status) => ({ status, owner: kube?.owner(status.volume) })),
      }),
  });

  const server = createHttpServer(app);
  let address: AddressInfo;
  try {
    address = await listen(server, config.listen, '--listen [host]:port');
  } catch (err) {
    core.close();
    kube?.stop();
    throw err;
  }
  logger.info('listening', { address: address.address, port: address.port, node: config.nodeName, version: core.version });

  kube?.start();
  await discovery.start();
  scheduler.start();

  const daemon: Daemon = {
    address,
    core,
    async stop() {
      scheduler.stop();
      actions?.stop();
      stopKick();
      mode.kube?.stop();
      server.close();
      server.closeAllConnections();
      // Blocked probes live in the helpers, so nothing here waits on a mount.
      core.close();
      await discovery.stop();
    },
  };
  // The client configuration loads in the background; whatever it says is said here, after the start.
  let settled;
  try {
    settled = await mode.settled;
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  kube = settled.kube;
  kubeOff = settled.off;
  kubeSettled = true;
  if (kube) {
    registerKubeMetrics({ registry: core.metrics.registry, pathSeries: core.metrics.pathSeries, owner: kube.owner, ownerRevision: kube.ownerRevision, stale: kube.isStale, counters: kube.counters });
    logger.info('kubernetes mode on', { source: mode.source.kind === 'kubeconfig' ? mode.source.path : mode.source.kind, node: config.nodeName });
    if (config.podCondition) logger.info('pod condition on', { condition: config.podCondition.type });
    if (config.evict) logger.info('evictions on', { mode: config.evict.mode, after_s: config.evict.afterMs / 1000, max: config.evict.max, window_s: config.evict.windowMs / 1000 });
  } else {
    logger.info('kubernetes mode off', { why: kubeOff });
    if (config.podCondition || config.evict) logger.warn('--pod-condition and --evict-after need Kubernetes mode, which is off: no pod is acted on', { why: kubeOff });
  }
  return daemon;
}

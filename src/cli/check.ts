// `check`: one probe cycle of every JuiceFS path on the node, as a table, and an
// exit code (0 all healthy, 1 any unhealthy or nothing could be seen). Built from
// the same core as the daemon, with Kubernetes mode when a cluster is there.

import type { Config } from '../config.js';
import { createCore, kubeExtras, type Deps } from '../core.js';
import { errorMessage } from '../errors.js';
import type { Kube } from '../kube/adapter.js';
import { openKubeMode } from '../kube/mode.js';
import { createLogger } from '../log/logger.js';
import { DeadlineError, holdingOpen, systemClock, type Clock } from '../shared/clock.js';
import { healthValue } from '../types.js';
import { formatTable } from './table.js';

export interface CheckRow {
  readonly pod: string;
  readonly pv: string;
  readonly path: string;
  readonly state: string;
  readonly detail: string;
  readonly latency: string;
  /** Kubernetes mode: who the path belongs to ('' when unknown). */
  readonly namespace?: string;
  readonly podName?: string;
  readonly pvc?: string;
}

export interface CheckResult {
  readonly rows: CheckRow[];
  readonly healthy: boolean;
  readonly mountTableOk: boolean;
  readonly podsDirOk: boolean;
  readonly podsDirProblem?: string;
  readonly mountTableProblem?: string;
  /** Whether the rows carry namespace, pod and claim. */
  readonly kube: boolean;
}

function withCause(err: unknown): string {
  const cause = err instanceof Error && err.cause !== undefined ? `: ${errorMessage(err.cause)}` : '';
  return `${errorMessage(err)}${cause}`;
}

/** How long `check` waits for the pod list and the claims before it prints without them. */
const CHECK_KUBE_WAIT_MS = 5000;
/** Claim reads announce nothing when they end: between the adapter's announcements, it is looked at this often. */
const SETTLE_LOOK_MS = 20;

/** Whether the adapter settles within `ms` on the clock: looked at on each change it announces, and every SETTLE_LOOK_MS. */
async function settles(kube: Kube, clock: Clock, ms: number): Promise<boolean> {
  if (kube.settled()) return true;
  try {
    await clock.deadline(ms, 'the Kubernetes API gave no complete answer in time', (signal) =>
      new Promise<void>((resolve) => {
        const look = () => {
          if (!kube.settled() || signal.aborted) return;
          clock.clearInterval(tick);
          resolve();
        };
        const tick = clock.setInterval(look, SETTLE_LOOK_MS);
        signal.addEventListener('abort', () => clock.clearInterval(tick), { once: true });
        kube.onMountPodChange(look);
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof DeadlineError) return false;
    throw err;
  }
}

/** One cycle, for `kubectl exec … check`: the rows, and whether no path is unhealthy. */
export async function runCheckOnce(config: Config, deps: Deps): Promise<CheckResult> {
  // One list is all a one-shot command sees of the API: a pod missing from it is gone.
  // A one-shot command waits for the configuration: its table is the whole answer.
  const { kube } = await (await openKubeMode({ mode: config.kube, kubeconfig: config.kubeconfig, nodeName: config.nodeName }, deps.logger, { orphanAfterMs: 0 })).settled;
  // The clock's timers never hold a process open (the daemon is held by its server and helpers);
  // a one-shot command waiting on an unreachable API server would end with nothing said.
  const clock = holdingOpen(deps.clock ?? systemClock);
  const core = await createCore(config, { ...deps, clock }, { ...(kube ? kubeExtras(kube) : {}), oneShot: true });
  try {
    if (kube) {
      kube.start();
      if (!(await settles(kube, clock, CHECK_KUBE_WAIT_MS))) {
        deps.logger.warn('the Kubernetes API gave no complete answer in time; pods and claims it did not name are left blank', {
          waited_ms: CHECK_KUBE_WAIT_MS,
          error: kube.status().last_error,
        });
      }
    }
    const podsDirOk = await core.inventory.resync();
    const podsDirProblem = core.inventory.podsDirProblem();
    const report = await core.runCycle();
    const statuses = core.tracker.list().sort((a, b) => (a.volume.path < b.volume.path ? -1 : 1));
    const rows = statuses.map((s): CheckRow => {
      const owner = kube?.owner(s.volume);
      return {
        pod: s.volume.podUid,
        pv: s.volume.pv,
        path: s.volume.path,
        state: s.state,
        detail: s.detail,
        latency: s.lastProbeMs === undefined ? '-' : s.lastProbeMs < 1 ? `${Math.round(s.lastProbeMs * 1000)}µs` : `${s.lastProbeMs.toFixed(1)}ms`,
        ...(kube ? { namespace: owner?.namespace ?? '', podName: owner?.pod ?? '', pvc: owner?.pvc ?? '' } : {}),
      };
    });
    // Pending paths (published, not mounted yet, within the grace) are not failures: they export no 0 either.
    return {
      rows,
      healthy: report.ok && statuses.every((s) => healthValue(s.state) !== 0),
      mountTableOk: report.ok,
      podsDirOk,
      ...(podsDirProblem ? { podsDirProblem } : {}),
      ...(report.ok ? {} : { mountTableProblem: withCause(core.mountTableError()) }),
      kube: kube !== undefined,
    };
  } finally {
    kube?.stop();
    core.close();
  }
}

/** Runs `check`: the table on stdout, problems on stderr; the exit code. */
export async function check(config: Config): Promise<number> {
  // Logs go to stderr so the table on stdout stays clean.
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, write: (l) => process.stderr.write(l) });
  const { rows, healthy, mountTableOk, podsDirOk, podsDirProblem, mountTableProblem, kube } = await runCheckOnce(config, { logger });
  if (!mountTableOk) {
    process.stderr.write(`${mountTableProblem ?? `cannot read the mount table ${config.mountinfo}`}\n`);
    return 1;
  }
  // "No paths" must not pass for healthy when the prober cannot see the pods at all.
  if (!podsDirOk) {
    process.stderr.write(`${podsDirProblem ?? 'cannot list the kubelet pods directory'}\n`);
    return 1;
  }
  if (rows.length === 0) {
    process.stdout.write(`no published volume paths of ${config.drivers.join(', ')} under ${config.kubeletDir}\n`);
    return 0;
  }
  const dash = (v: string | undefined) => v || '-';
  process.stdout.write(
    kube
      ? formatTable(
          ['NAMESPACE', 'POD', 'PVC', 'PV', 'PATH', 'STATE', 'DETAIL', 'LATENCY'],
          // A pod the API does not name is shown by its uid.
          rows.map((r) => [dash(r.namespace), r.podName || r.pod, dash(r.pvc), r.pv, r.path, r.state, dash(r.detail), r.latency]),
        )
      : formatTable(
          ['POD', 'PV', 'PATH', 'STATE', 'DETAIL', 'LATENCY'],
          rows.map((r) => [r.pod, r.pv, r.path, r.state, dash(r.detail), r.latency]),
        ),
  );
  return healthy ? 0 : 1;
}

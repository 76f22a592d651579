// When the daemon is ready, stated once: /readyz, /status and the status page
// all read this rule. Ready when every condition holds; while one does not,
// the first unmet condition, in the order below, says why.
//
// - pods_dir: the kubelet pods directory can be listed (else the misconfiguration, in words);
// - first_scan: the first full scan of it is done, so every published path is known;
// - first_cycle: a probe cycle that could read the mount table has finished, so every path has a verdict;
// - kube_settled: Kubernetes mode is settled, on or off: until then whether pods will be named is unknown;
// - kube_credentials: Kubernetes mode has its credentials (an exec plugin or auth provider that fails
//   leaves every request anonymous): until then pods are not named and no Event is sent.

export interface ReadinessSources {
  podsDirProblem(): string | undefined;
  scanned(): boolean;
  cycled(): boolean;
  kubeSettled(): boolean;
  /** Why the Kubernetes credentials cannot be had now, if they cannot. */
  kubeAuthError(): string | undefined;
}

export type ConditionName = 'pods_dir' | 'first_scan' | 'first_cycle' | 'kube_settled' | 'kube_credentials';

export interface Condition {
  readonly name: ConditionName;
  readonly met: boolean;
  /** What an unmet condition means, for /readyz and the status page. */
  readonly reason: string;
}

export interface Readiness {
  ready(): boolean;
  /** Why the daemon is not ready; undefined when it is. */
  reason(): string | undefined;
  conditions(): Condition[];
}

export function createReadiness(src: ReadinessSources): Readiness {
  const conditions = (): Condition[] => {
    const problem = src.podsDirProblem();
    const auth = src.kubeAuthError();
    return [
      { name: 'pods_dir', met: problem === undefined, reason: problem ?? '' },
      { name: 'first_scan', met: src.scanned(), reason: 'waiting for the first scan of the kubelet pods directory' },
      { name: 'first_cycle', met: src.cycled(), reason: 'waiting for the first probe cycle' },
      { name: 'kube_settled', met: src.kubeSettled(), reason: 'waiting for the Kubernetes client configuration to load' },
      { name: 'kube_credentials', met: auth === undefined, reason: `kubernetes credentials cannot be had: ${auth ?? ''}` },
    ];
  };
  const reason = () => conditions().find((c) => !c.met)?.reason;
  return {
    ready: () => reason() === undefined,
    reason,
    conditions,
  };
}

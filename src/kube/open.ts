// The API client for a chosen source. A kubeconfig that cannot be used is a
// usage error (exit 2), found at start rather than at the first request.

import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import fs from 'node:fs';
import { UsageError, errorMessage } from '../errors.js';
import { configProblems, KubeConfigError, loadProblem } from './config-check.js';
import type { KubeSource } from './detect.js';

export interface KubeClient {
  readonly core: CoreV1Api;
  readonly watch: Watch;
  readonly server: string;
}

export function openKube(source: Exclude<KubeSource, { kind: 'off' }>): KubeClient {
  const kc = new KubeConfig();
  try {
    if (source.kind === 'in-cluster') kc.loadFromCluster();
    else kc.loadFromFile(source.path);
  } catch (err) {
    const flag = source.kind === 'kubeconfig' ? 'kubeconfig' : 'kube';
    const missing = loadProblem(err);
    if (missing) throw new KubeConfigError(`--${flag}: the Kubernetes client configuration cannot work: ${missing}`, flag, { cause: err });
    throw new UsageError(`--${flag}: cannot load the Kubernetes client configuration: ${errorMessage(err)}`, flag, { cause: err });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UsageError('--kubeconfig: no current cluster in the configuration', 'kubeconfig');
  const user = kc.getCurrentUser();
  const problems = configProblems(
    {
      inCluster: source.kind === 'in-cluster',
      server: cluster.server,
      skipTLSVerify: cluster.skipTLSVerify,
      caFile: cluster.caFile,
      // In-cluster, the token is read from a file on every refresh.
      tokenFile: (user?.authProvider as { config?: { tokenFile?: string } } | undefined)?.config?.tokenFile,
      certFile: user?.certFile,
      keyFile: user?.keyFile,
    },
    fs.existsSync,
  );
  if (problems.length > 0) {
    const flag = source.kind === 'kubeconfig' ? 'kubeconfig' : 'kube';
    throw new KubeConfigError(`--${flag}: the Kubernetes client configuration cannot work: ${problems.join('; ')}`, flag);
  }
  try {
    return { core: kc.makeApiClient(CoreV1Api), watch: new Watch(kc), server: cluster.server };
  } catch (err) {
    throw new UsageError(`--kubeconfig: ${errorMessage(err)}`, 'kubeconfig', { cause: err });
  }
}

// Whether to talk to the Kubernetes API, and with which credentials. `auto`
// turns it on only where a cluster is clearly there (in-cluster service account
// or an explicit --kubeconfig): a prober without either runs as before.

import fs from 'node:fs';
import { UsageError } from '../errors.js';

export type KubeMode = 'auto' | 'on' | 'off';

export type KubeSource =
  | { readonly kind: 'off'; readonly why: string }
  | { readonly kind: 'in-cluster' }
  | { readonly kind: 'kubeconfig'; readonly path: string };

export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface DetectInput {
  readonly mode: KubeMode;
  readonly kubeconfig: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly exists?: (path: string) => boolean;
}

export function detectKubeSource(input: DetectInput): KubeSource {
  const env = input.env ?? process.env;
  const exists = input.exists ?? fs.existsSync;
  if (input.mode === 'off') return { kind: 'off', why: '--kube=off' };
  if (input.kubeconfig) {
    if (!exists(input.kubeconfig)) throw new UsageError(`--kubeconfig: ${input.kubeconfig} does not exist`, 'kubeconfig');
    return { kind: 'kubeconfig', path: input.kubeconfig };
  }
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && exists(SERVICE_ACCOUNT_TOKEN)) return { kind: 'in-cluster' };
  if (input.mode === 'on') {
    throw new UsageError('--kube: "on" needs an in-cluster service account or --kubeconfig, and neither is there', 'kube');
  }
  return { kind: 'off', why: 'no in-cluster service account and no --kubeconfig' };
}

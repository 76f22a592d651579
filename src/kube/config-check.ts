// A Kubernetes client configuration that loads but can never work: found at
// start and said with its fix, instead of as the same failed request every
// backoff. Plain facts in, problems out, so it is decided without a cluster.

import { errorCode, errorMessage, UsageError } from '../errors.js';

export interface ClientFacts {
  readonly inCluster: boolean;
  readonly server: string;
  readonly skipTLSVerify: boolean;
  readonly caFile?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

/** The configuration loader's exit code for a configuration that can never work. */
export const UNUSABLE_EXIT = 3;

/** The configuration cannot work; `--kube=on` makes it fatal, `auto` turns Kubernetes mode off. */
export class KubeConfigError extends UsageError {
  constructor(message: string, flag: string, options?: { cause?: unknown }) {
    super(message, flag, options);
    this.name = 'KubeConfigError';
  }
}

export function configProblems(f: ClientFacts, exists: (path: string) => boolean): string[] {
  const out: string[] = [];
  if (!f.server) out.push('the current cluster has no server address; set clusters[].cluster.server');
  // The client refuses plain http unless TLS verification is off: every request would fail.
  if (/^http:/i.test(f.server) && !f.skipTLSVerify) {
    out.push(
      f.inCluster
        ? `the in-cluster API address ${f.server} is plain http (KUBERNETES_SERVICE_PORT is 80, 8080 or 8001), which the client refuses; leave KUBERNETES_SERVICE_HOST/PORT as Kubernetes sets them (https, port 443)`
        : `server ${f.server} is plain http, which the client refuses unless the cluster sets insecure-skip-tls-verify: true; use the API server's https:// address`,
    );
  }
  const file = (p: string | undefined, what: string, fix: string) => {
    if (p && !exists(p)) out.push(`${what} ${p} does not exist; ${fix}`);
  };
  if (f.inCluster) {
    const mount = 'mount the service account token (automountServiceAccountToken must not be false)';
    file(f.caFile, 'the service account CA file', mount);
    file(f.tokenFile, 'the service account token file', mount);
  } else {
    file(f.caFile, 'certificate-authority file', 'fix the path, or use certificate-authority-data');
    file(f.tokenFile, 'token file', 'fix the path, or use token');
    file(f.certFile, 'client-certificate file', 'fix the path, or use client-certificate-data');
    file(f.keyFile, 'client-key file', 'fix the path, or use client-key-data');
  }
  return out;
}

/** A configuration that failed to load because a file it names is missing is unusable, not malformed. */
export function loadProblem(err: unknown): string | undefined {
  if (errorCode(err) !== 'ENOENT') return undefined;
  const file = (err as { path?: unknown }).path;
  return `a file the configuration names does not exist${typeof file === 'string' ? `: ${file}` : ''} (${errorMessage(err)}); fix the path`;
}

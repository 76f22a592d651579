// Loads the Kubernetes client configuration with @kubernetes/client-node, the
// authority on it (in-cluster service account, kubeconfig, exec plugins and auth
// providers), in a short-lived process of its own, and prints what a request
// needs as one JSON line. The library costs ~60 MiB once imported, and an ES
// module, once loaded, stays for the life of the process: the daemon itself
// never imports it.
//
//   node config-main.js '<KubeSource JSON>'  →  stdout: LoadedKubeConfig JSON; or a message on stderr
//   and exit 3 (a configuration that can never work: config-check.ts), or 2 (one that cannot be read)

import { KubeConfig } from '@kubernetes/client-node';
import fs from 'node:fs';
import { configProblems, loadProblem, UNUSABLE_EXIT } from './config-check.js';
import { proxyFor } from './proxy-env.js';
import type { https } from './config-types.js';
import { SERVICE_ACCOUNT_TOKEN, type KubeSource } from './detect.js';
import type { LoadedKubeConfig } from './config-types.js';

const source = JSON.parse(process.argv[2] ?? '{}') as Exclude<KubeSource, { kind: 'off' }>;
const fail = (message: string, code = 2): never => {
  process.stderr.write(message + '\n');
  process.exit(code);
};
const UNUSABLE = 'the Kubernetes client configuration cannot work: ';

const kc = new KubeConfig();
try {
  if (source.kind === 'in-cluster') kc.loadFromCluster();
  else kc.loadFromFile(source.path);
} catch (err) {
  const missing = loadProblem(err);
  if (missing) fail(UNUSABLE + missing, UNUSABLE_EXIT);
  fail(`cannot load the Kubernetes client configuration: ${err instanceof Error ? err.message : String(err)}`);
}
const cluster = kc.getCurrentCluster();
if (!cluster) fail('no current cluster in the configuration');
const user = kc.getCurrentUser();
const problems = configProblems(
  {
    inCluster: source.kind === 'in-cluster',
    server: cluster!.server,
    skipTLSVerify: cluster!.skipTLSVerify,
    caFile: cluster!.caFile,
    // In-cluster, the token is read from a file on every refresh.
    tokenFile: (user?.authProvider as { config?: { tokenFile?: string } } | undefined)?.config?.tokenFile,
    certFile: user?.certFile,
    keyFile: user?.keyFile,
  },
  fs.existsSync,
);
if (problems.length > 0) fail(UNUSABLE + problems.join('; '), UNUSABLE_EXIT);

const opts: https = { headers: {} };
let authError: string | undefined;
try {
  await kc.applyToHTTPSOptions(opts as never);
} catch (err) {
  // Credentials that cannot be had now (an exec plugin failing) are not a usage error: the
  // daemon runs, its requests are refused, and it asks again.
  authError = err instanceof Error ? err.message : String(err);
}

/**
 * When the credentials just computed stop working: the exec authenticator keeps the
 * ExecCredential its plugin printed (status.expirationTimestamp), and a JWT bearer token (an
 * OIDC id-token, many plugins' tokens) says it in its exp claim. The daemon loads them again
 * shortly before, instead of waiting for a 401.
 */
function expiryOf(authorization: string | undefined): number | undefined {
  const times: number[] = [];
  const authenticators = (kc as unknown as { authenticators?: unknown[] }).authenticators ?? [];
  for (const a of authenticators) {
    const cache = (a as { tokenCache?: Record<string, { status?: { expirationTimestamp?: string } } | null> }).tokenCache;
    const at = Date.parse(cache?.[user?.name ?? '']?.status?.expirationTimestamp ?? '');
    if (Number.isFinite(at)) times.push(at);
  }
  const jwt = /^Bearer [\w-]+\.([\w-]+)\.[\w-]*$/.exec(authorization ?? '');
  if (jwt) {
    try {
      const exp = (JSON.parse(Buffer.from(jwt[1]!, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
      if (typeof exp === 'number') times.push(exp * 1000);
    } catch {
      // Not a JWT after all: no expiry known.
    }
  }
  return times.length > 0 ? Math.min(...times) : undefined;
}

const text = (b: unknown) => (b === undefined || b === null ? undefined : Buffer.isBuffer(b) ? b.toString('utf8') : String(b));
const headers: Record<string, string> = {};
for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
const proxy = proxyFor(cluster!.server, process.env, cluster!.proxyUrl);
// In-cluster the token file is the credential, read again as kubelet rotates it: no expiry to act on.
const expiresAt = source.kind === 'in-cluster' ? undefined : expiryOf(headers.Authorization);
const out: LoadedKubeConfig = {
  server: cluster!.server,
  ...(text(opts.ca) ? { ca: text(opts.ca)! } : {}),
  ...(text(opts.cert) ? { cert: text(opts.cert)! } : {}),
  ...(text(opts.key) ? { key: text(opts.key)! } : {}),
  ...(opts.servername ? { servername: opts.servername } : {}),
  ...(opts.rejectUnauthorized === false ? { insecure: true } : {}),
  headers,
  // kubelet rotates the service account token in place: the daemon reads it again as it goes.
  ...(source.kind === 'in-cluster' ? { tokenFile: SERVICE_ACCOUNT_TOKEN } : {}),
  ...(authError ? { authError } : {}),
  ...(expiresAt !== undefined ? { expiresAt } : {}),
  ...(proxy ? { proxy } : {}),
};
process.stdout.write(JSON.stringify(out) + '\n');

import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configProblems } from '../../src/kube/config-check.js';
import { CLI, FAST_FLAGS, startDaemon } from '../fixtures/daemon.js';
import { createKubeletTree } from '../fixtures/kubelet-tree.js';

const all = () => true;
const none = () => false;

test('a plain-http server without insecure-skip-tls-verify can never work, and the problem names the fix', (t) => {
  t.deepEqual(configProblems({ inCluster: false, server: 'http://10.0.0.1:8080', skipTLSVerify: false }, all), [
    "server http://10.0.0.1:8080 is plain http, which the client refuses unless the cluster sets insecure-skip-tls-verify: true; use the API server's https:// address",
  ]);
  t.deepEqual(configProblems({ inCluster: false, server: 'http://10.0.0.1:8080', skipTLSVerify: true }, all), []);
  t.deepEqual(configProblems({ inCluster: false, server: 'https://10.0.0.1:6443', skipTLSVerify: false }, all), []);
  t.regex(configProblems({ inCluster: true, server: 'http://10.96.0.1:80', skipTLSVerify: false }, all)[0]!, /KUBERNETES_SERVICE_PORT/);
});

test('missing CA, token, certificate and key files are each named with their fix', (t) => {
  const files = { caFile: '/x/ca.crt', tokenFile: '/x/token', certFile: '/x/c.crt', keyFile: '/x/c.key' };
  t.deepEqual(configProblems({ inCluster: false, server: 'https://a:6443', skipTLSVerify: false, ...files }, none), [
    'certificate-authority file /x/ca.crt does not exist; fix the path, or use certificate-authority-data',
    'token file /x/token does not exist; fix the path, or use token',
    'client-certificate file /x/c.crt does not exist; fix the path, or use client-certificate-data',
    'client-key file /x/c.key does not exist; fix the path, or use client-key-data',
  ]);
  const inCluster = configProblems({ inCluster: true, server: 'https://10.96.0.1:443', skipTLSVerify: false, caFile: '/sa/ca.crt', tokenFile: '/sa/token' }, (p) => p === '/sa/token');
  t.deepEqual(inCluster, ['the service account CA file /sa/ca.crt does not exist; mount the service account token (automountServiceAccountToken must not be false)']);
  t.deepEqual(configProblems({ inCluster: false, server: 'https://a:6443', skipTLSVerify: false, ...files }, all), []);
});

function kubeconfig(dir: string, name: string, cluster: Record<string, unknown>, user: Record<string, unknown> = { token: 't' }): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  return file;
}

test('with --kube=on a configuration that can never work exits 2 at start, naming the fix; with auto it is one warning and the mode is off', async (t) => {
  const k = createKubeletTree('kube-config');
  t.teardown(() => k.remove());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-kubecfg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cases = [
    [kubeconfig(dir, 'http', { server: 'http://127.0.0.1:8080' }), 'server http://127.0.0.1:8080 is plain http, which the client refuses unless the cluster sets insecure-skip-tls-verify: true'],
    [kubeconfig(dir, 'ca', { server: 'https://127.0.0.1:6443', 'certificate-authority': path.join(dir, 'no-ca.crt') }), `certificate-authority file ${path.join(dir, 'no-ca.crt')} does not exist`],
    [kubeconfig(dir, 'token', { server: 'https://127.0.0.1:6443', 'insecure-skip-tls-verify': true }, { 'token-file': path.join(dir, 'no-token') }), `a file the configuration names does not exist: ${path.join(dir, 'no-token')}`],
  ] as const;
  const env = { ...process.env, KUBERNETES_SERVICE_HOST: '' };
  for (const [file, want] of cases) {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', '--kubelet-dir', k.kubeletDir, '--kube', 'on', '--kubeconfig', file], { encoding: 'utf8', env, timeout: 20_000 });
    t.is(r.status, 2, r.stderr);
    t.true(r.stderr.startsWith(`juicefs-path-prober: --kubeconfig: the Kubernetes client configuration cannot work: ${want}`), r.stderr);
    t.false(r.stderr.includes('    at '), 'no stack trace');

    const d = await startDaemon(['--kubelet-dir', k.kubeletDir, '--kubeconfig', file, ...FAST_FLAGS], { JFS_PROBER_KUBE: 'auto' });
    try {
      const s = (await d.waitFor((s) => s.ready, 10_000, 'ready')) as unknown as { kube: { mode: string; why: string } };
      t.is(s.kube.mode, 'off');
      t.true(s.kube.why.includes(want), s.kube.why);
      const warnings = d.logs.filter((l) => l.level === 'warn' && String(l.msg).startsWith('kubernetes mode off'));
      t.is(warnings.length, 1);
      t.true(String(warnings[0]!.error).includes(want));
      t.false((await d.metrics()).includes('juicefs_path_prober_kube_'), 'no Kubernetes series');
    } finally {
      await d.stop('SIGKILL');
    }
  }
});

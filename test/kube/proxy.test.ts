// Proxies: the kubeconfig's proxy-url first, as @kubernetes/client-node has
// it; then HTTPS_PROXY / NO_PROXY as kubectl reads them. End to end, `check
// --kubeconfig` from a "workstation" reaches the API stand-in (HTTPS) through
// a real CONNECT proxy, and goes direct for a host NO_PROXY names.

import test from 'ava';
import { spawn } from 'node:child_process';
import { createKube } from '../../src/kube/kube.js';
import { openKube } from '../../src/kube/open.js';
import { proxyFor } from '../../src/kube/proxy-env.js';
import { createLogger } from '../../src/log/logger.js';
import { startConnectProxy, startSocksProxy } from '../fixtures/kube-api/connect-proxy.js';
import { CLI } from '../fixtures/daemon.js';
import { eventually as until } from '../fixtures/harness.js';
import { appPod, startFakeApiServer } from '../fixtures/kube-api-server.js';
import { createKubeletTree, newPodUid } from '../fixtures/kubelet-tree.js';

test('the proxy is the kubeconfig’s proxy-url, else HTTPS_PROXY (HTTP_PROXY for http://) unless NO_PROXY names the host, as kubectl decides', (t) => {
  const env = { HTTPS_PROXY: 'http://proxy.corp:3128', HTTP_PROXY: 'http://plain.corp:8080' };
  t.is(proxyFor('https://api.example.com:6443', env, 'socks5://127.0.0.1:1080'), 'socks5://127.0.0.1:1080', 'proxy-url wins');
  t.is(proxyFor('https://api.example.com:6443', env), 'http://proxy.corp:3128');
  t.is(proxyFor('http://api.example.com:8080', env), 'http://plain.corp:8080');
  t.is(proxyFor('http://api.example.com:8080', { ...env, REQUEST_METHOD: 'GET' }), undefined, 'a CGI environment’s HTTP_PROXY is not trusted');
  t.is(proxyFor('https://api.example.com:6443', { https_proxy: 'proxy.corp:3128' }), 'http://proxy.corp:3128', 'lower case, and no scheme means http');
  t.is(proxyFor('https://api.example.com:6443', {}), undefined);
  const no = (NO_PROXY: string, server = 'https://api.example.com:6443') => proxyFor(server, { ...env, NO_PROXY }) === undefined;
  t.true(no('*'));
  t.true(no('example.com'), 'a domain and its subdomains');
  t.true(no('api.example.com'));
  t.false(no('.api.example.com'), 'a leading dot: subdomains only');
  t.true(no('.example.com'));
  t.true(no('*.example.com'));
  t.false(no('xample.com'));
  t.true(no('api.example.com:6443'));
  t.false(no('api.example.com:443'), 'another port');
  t.true(no('10.0.0.0/8', 'https://10.1.2.3:6443'), 'a CIDR');
  t.false(no('10.0.0.0/8', 'https://192.168.1.1:6443'));
  t.true(no('192.168.1.1', 'https://192.168.1.1:6443'));
  t.true(no('other.org, EXAMPLE.com'), 'a list, case-insensitive');
  t.true(no('', 'https://127.0.0.1:6443'), 'loopback is never proxied');
  t.true(no('', 'https://localhost:6443'));
  t.true(no('', 'https://[::1]:6443'));
});

for (const [kind, start] of [['CONNECT', startConnectProxy], ['SOCKS5', startSocksProxy]] as const) test(`a kubeconfig’s proxy-url takes the daemon’s requests, the watch included, through a ${kind} proxy`, async (t) => {
  const api = await startFakeApiServer({ tls: true });
  t.teardown(() => api.close());
  const proxy = await start();
  t.teardown(() => proxy.close());
  api.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1' }));
  const source = { kind: 'kubeconfig', path: api.writeKubeconfig('proxied', { cluster: { 'proxy-url': proxy.url } }) } as const;
  const kube = createKube({ client: openKube(source), source, nodeName: 'n1', logger: createLogger({ write: () => {} }) });
  t.teardown(() => kube.stop());
  kube.start();
  await until('synced and watching', () => kube.status().synced && api.openWatches() === 1);
  t.true(proxy.tunnels.length >= 1);
  t.true(proxy.tunnels.every((tn) => tn.target === `127.0.0.1:${api.port}`));
  t.true(proxy.open() >= 1, 'the watch is open through the tunnel');
});

/** `check --kubeconfig` as a person runs it from a workstation, with `env`. */
async function check(kubeletDir: string, kubeconfig: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'check', '--kubelet-dir', kubeletDir, '--kubeconfig', kubeconfig, '--node-name', 'n1', '--timeout', '2s'], {
    env: { ...process.env, JFS_PROBER_KUBE: 'auto', HTTPS_PROXY: '', https_proxy: '', NO_PROXY: '', no_proxy: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (r.stdout += d));
  child.stderr.on('data', (d: Buffer) => (r.stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, ...r };
}

test('check --kubeconfig from behind a proxy: HTTPS_PROXY is used for a server only the proxy can reach, NO_PROXY skips it', async (t) => {
  const api = await startFakeApiServer({ tls: true });
  t.teardown(() => api.close());
  const proxy = await startConnectProxy();
  t.teardown(() => proxy.close());
  const tree = createKubeletTree('kube-proxy');
  t.teardown(() => tree.remove());
  const uid = newPodUid();
  tree.publish(uid, 'pv-a');
  api.putPod(appPod({ uid, name: 'report-0', namespace: 'analytics', node: 'n1' }));
  // A name only the proxy resolves: reached at all, it was reached through the proxy.
  const kubeconfig = api.writeKubeconfig('workstation', { cluster: { server: `https://kube-api.test:${api.port}` } });

  const through = await check(tree.kubeletDir, kubeconfig, { HTTPS_PROXY: proxy.url });
  t.is(through.code, 0, through.stderr);
  t.regex(through.stdout, /\nanalytics\s+report-0\s+/, through.stdout);
  t.true(proxy.tunnels.length >= 1 && proxy.tunnels.every((tn) => tn.target === `kube-api.test:${api.port}`));

  const tunnels = proxy.tunnels.length;
  const direct = await check(tree.kubeletDir, kubeconfig, { HTTPS_PROXY: proxy.url, NO_PROXY: '.corp,kube-api.test' });
  t.is(proxy.tunnels.length, tunnels, 'no tunnel: NO_PROXY names the host');
  t.regex(direct.stderr, /the Kubernetes API gave no complete answer in time/);
  t.regex(direct.stderr, /kube-api\.test/, 'it tried the host directly');
  t.notRegex(direct.stdout, /report-0/);
  t.deepEqual(api.problems(), []);
});

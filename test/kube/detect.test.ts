import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../src/errors.js';
import { detectKubeSource, SERVICE_ACCOUNT_TOKEN } from '../../src/kube/detect.js';
import { CLI } from '../fixtures/daemon.js';

const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
const tokenThere = (p: string) => p === SERVICE_ACCOUNT_TOKEN;
const nothing = () => false;

test('auto is on in a cluster (service host and token), off otherwise', (t) => {
  t.deepEqual(detectKubeSource({ mode: 'auto', kubeconfig: undefined, env: inCluster, exists: tokenThere }), { kind: 'in-cluster' });
  t.is(detectKubeSource({ mode: 'auto', kubeconfig: undefined, env: inCluster, exists: nothing }).kind, 'off');
  t.is(detectKubeSource({ mode: 'auto', kubeconfig: undefined, env: {}, exists: tokenThere }).kind, 'off');
});

test('--kubeconfig wins over the in-cluster config, and off wins over both', (t) => {
  const exists = () => true;
  t.deepEqual(detectKubeSource({ mode: 'auto', kubeconfig: '/k', env: inCluster, exists }), { kind: 'kubeconfig', path: '/k' });
  t.is(detectKubeSource({ mode: 'off', kubeconfig: '/k', env: inCluster, exists }).kind, 'off');
});

test('on without any configuration, or a missing kubeconfig, is a usage error naming the flag', (t) => {
  const on = t.throws(() => detectKubeSource({ mode: 'on', kubeconfig: undefined, env: {}, exists: nothing }), { instanceOf: UsageError });
  t.is((on as UsageError).flag, 'kube');
  const missing = t.throws(() => detectKubeSource({ mode: 'auto', kubeconfig: '/nope', env: {}, exists: nothing }), { instanceOf: UsageError });
  t.is((missing as UsageError).flag, 'kubeconfig');
});

test('the daemon exits 2 naming the flag for a bad --kube, --kube=on without a cluster, and an unusable kubeconfig', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-kubecfg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bad = path.join(dir, 'kubeconfig');
  fs.writeFileSync(bad, 'clusters: [\n');
  const env = { ...process.env, KUBERNETES_SERVICE_HOST: '', JFS_PROBER_KUBE: '' };
  for (const [args, flag] of [
    [['--kube', 'maybe'], '--kube'],
    [['--kube', 'on'], '--kube'],
    [['--kubeconfig', path.join(dir, 'none')], '--kubeconfig'],
    [['--kubeconfig', bad], '--kubeconfig'],
  ] as const) {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', '--kubelet-dir', dir, ...args], { encoding: 'utf8', env, timeout: 20_000 });
    t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    t.true(r.stderr.includes(flag), `${args.join(' ')}: ${r.stderr}`);
  }
});

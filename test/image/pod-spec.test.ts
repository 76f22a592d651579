// The DaemonSet → `podman run` translation the image check runs the image with
// (the run itself is `npm run image:check`, after the suite).

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { objectOf } from '../deploy/repo.js';
import { PodSpecError, podRun, quantity, type PodRunOptions } from './pod-spec.js';

const standIn = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-pod-spec-'));
test.after.always(() => fs.rmSync(standIn, { recursive: true, force: true }));
const opts: PodRunOptions = { nodeName: 'node-a', hostPaths: (host) => (host === '/var/lib/kubelet' ? standIn : undefined) };

function daemonSet(edit: (ds: IDaemonSet) => void = () => {}): IDaemonSet {
  const ds = structuredClone(objectOf('DaemonSet')) as unknown as IDaemonSet;
  edit(ds);
  return ds;
}

const container = (ds: IDaemonSet) => ds.spec!.template.spec!.containers[0]!;

test('the shipped DaemonSet runs as kubelet would run it: its args, env, user, no capability, no privilege gain, read-only root, limits, rslave kubelet dir, port, grace', (t) => {
  const ds = daemonSet();
  const run = podRun(ds, opts);
  t.deepEqual(run.args, container(ds).args);
  const f = run.flags;
  t.true(f.includes('NODE_NAME=node-a'), 'the downward API’s node name');
  t.true(f.includes('--user=0:0'));
  t.true(f.includes('--cap-drop=all'));
  t.false(f.some((x) => x.startsWith('--cap-add')), 'drop ALL leaves nothing to add');
  t.deepEqual(run.capabilities, []);
  t.true(f.includes('--security-opt=no-new-privileges'));
  t.false(f.some((x) => x.includes('seccomp=')), 'RuntimeDefault is podman’s default profile');
  t.true(f.includes('--read-only') && f.includes('--read-only-tmpfs=false'), 'no tmpfs on /tmp or /run, as in Kubernetes');
  t.true(f.includes('--memory=536870912b') && f.includes('--memory-swap=536870912b'));
  t.true(f.includes('--cpus=0.5'));
  t.true(f.includes('--cpu-shares=10'));
  t.true(f.includes(`${standIn}:/var/lib/kubelet:ro,rslave`));
  t.true(f.includes('--publish=127.0.0.1::9567'));
  t.true(f.includes('--stop-timeout=10'));
  t.deepEqual(run.liveness, { path: '/healthz', port: 9567, budgetMs: 65_000 });
  t.deepEqual(run.readiness, { path: '/readyz', port: 9567, budgetMs: 30_000 });
  t.is(run.memoryRequestBytes, 96 * 2 ** 20);
});

test('a changed DaemonSet changes the run', (t) => {
  const flags = (edit: (ds: IDaemonSet) => void) => podRun(daemonSet(edit), opts).flags;
  t.false(flags((ds) => (container(ds).securityContext!.readOnlyRootFilesystem = false)).includes('--read-only'));
  t.false(flags((ds) => (container(ds).securityContext!.allowPrivilegeEscalation = true)).includes('--security-opt=no-new-privileges'));
  t.true(flags((ds) => delete container(ds).volumeMounts![0]!.mountPropagation).includes(`${standIn}:/var/lib/kubelet:ro,rprivate`));
  t.true(flags((ds) => (container(ds).securityContext!.capabilities = { drop: ['ALL'], add: ['DAC_READ_SEARCH'] })).includes('--cap-add=DAC_READ_SEARCH'));
  const defaults = flags((ds) => delete container(ds).securityContext!.capabilities);
  t.true(defaults.includes('--cap-add=NET_RAW') && defaults.includes('--cap-add=MKNOD'), 'containerd’s default set, not podman’s');
  t.true(flags((ds) => delete ds.spec!.template.spec!.securityContext!.seccompProfile).includes('--security-opt=seccomp=unconfined'));
  t.deepEqual(podRun(daemonSet((ds) => (container(ds).args = ['serve', '--interval=1s'])), opts).args, ['serve', '--interval=1s']);
  t.true(flags((ds) => (ds.spec!.template.spec!.terminationGracePeriodSeconds = 3)).includes('--stop-timeout=3'));
});

test('what podman would not reproduce is an error naming the field, not a silent difference', (t) => {
  const fails = (edit: (ds: IDaemonSet) => void, match: RegExp, o: PodRunOptions = opts) => {
    const err = t.throws(() => podRun(daemonSet(edit), o), { instanceOf: PodSpecError });
    t.regex(err?.message ?? '', match);
  };
  fails((ds) => (ds.spec!.template.spec!.hostNetwork = true), /spec\.hostNetwork is set/);
  fails((ds) => (container(ds).securityContext!.procMount = 'Unmasked'), /securityContext\.procMount is set/);
  fails((ds) => container(ds).env!.push({ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }), /env TOKEN comes from/);
  fails((ds) => ds.spec!.template.spec!.volumes!.push({ name: 'scratch', emptyDir: {} }), /volume scratch is declared and not mounted/);
  fails((ds) => (ds.spec!.template.spec!.securityContext!.seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' }), /seccompProfile Localhost/);
  fails((ds) => (ds.spec!.template.spec!.securityContext!.runAsNonRoot = true), /runAsNonRoot with runAsUser 0/);
  fails(() => {}, /no stand-in directory for hostPath \/var\/lib\/kubelet/, { ...opts, hostPaths: () => undefined });
  fails(() => {}, /is of type Directory/, { ...opts, hostPaths: () => path.join(standIn, 'missing') });
});

test('resource quantities read as Kubernetes writes them', (t) => {
  t.is(quantity('512Mi', 'x'), 512 * 2 ** 20);
  t.is(quantity('1.5Gi', 'x'), 1.5 * 2 ** 30);
  t.is(quantity('500m', 'x'), 0.5);
  t.is(quantity('2', 'x'), 2);
  t.is(quantity('128M', 'x'), 128e6);
  t.throws(() => quantity('lots', 'limits.memory'), { instanceOf: PodSpecError, message: /limits\.memory/ });
});

// The built image, run by podman with the DaemonSet's own settings (read from
// `kubectl kustomize manifests/`, see pod-spec.ts), against a kubelet directory
// holding real fuse.juicefs mounts made by the test FUSE server. Each check is
// one named PASS or FAIL line; figures follow; the exit code is 1 when any
// check failed. Run by scripts/image/check.sh (`npm run image:check`), after
// the suite: it needs root, /dev/fuse, podman with runc, and a built image.
//
// usage: node dist/test/image/check.js --image REF [--base REF] [--manifests DIR]
//          [--node-name NAME] [--kubelet-host-side shared|private]
// --kubelet-host-side private runs the main container with the host side of
// the kubelet hostPath private, as on a host whose / is not a shared mount: the
// propagation check must then fail.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { systemClock } from '../../src/shared/clock.js';
import { createKubeletTree, newPodUid, type KubeletTree, type PublishedVolume } from '../fixtures/kubelet-tree.js';
import { pathStatesOf, parseMetrics, type Sample } from '../fixtures/metrics-text.js';
import { bindMount, cleanupAll, mountPrivileges, reexecInPrivateMountNamespace, startFuse, type FuseHandle } from '../fixtures/mounts.js';
import { inspect, podman, podmanOk, run } from './podman.js';
import { podRun, renderDaemonSet, type PodRun } from './pod-spec.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = fileURLToPath(import.meta.url);
const clock = systemClock;
const LABEL = 'juicefs-path-prober.image-check=1';
const CYCLES = 'juicefs_path_prober_cycle_duration_seconds_count';

// ---------------------------------------------------------------- report

interface Line {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

const lines: Line[] = [];
const figures: [string, string][] = [];
/** Set once a signal stops the run: what the checks then see is the teardown, not the image. */
let stopping = false;

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Runs one named check: PASS with what it returns, FAIL with what it throws. */
async function check(name: string, fn: () => Promise<string> | string): Promise<boolean> {
  let line: Line;
  try {
    line = { name, ok: true, detail: await fn() };
  } catch (err) {
    line = { name, ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
  if (stopping) return false;
  lines.push(line);
  say(`${line.ok ? 'PASS' : 'FAIL'}  ${name}: ${line.detail}`);
  return line.ok;
}

function figure(name: string, value: string): void {
  figures.push([name, value]);
}

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

// ---------------------------------------------------------------- waiting

/** Thrown by what a wait looks at when waiting longer cannot help (the container exited). */
class GaveUp extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GaveUp';
  }
}

/** `fn`'s first value other than undefined, looked for until the deadline; the deadline only stops a hang. */
async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = clock.monotonic() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof GaveUp) throw err;
      last = err;
    }
    if (clock.monotonic() >= end) break;
    await clock.sleep(250);
  }
  throw new Error(`no ${what} within ${secs(timeoutMs)}${last instanceof Error ? ` (last: ${last.message})` : ''}`);
}

// ---------------------------------------------------------------- the node

/** A kubelet directory standing in for the hostPath, whose host side is a shared or private mount point. */
interface Node {
  readonly tree: KubeletTree;
  readonly hostSide: 'shared' | 'private';
  readonly vols: Map<string, PublishedVolume>;
  readonly fuse: Map<string, FuseHandle>;
}

const trees: KubeletTree[] = [];

async function makeNode(name: string, hostSide: 'shared' | 'private'): Promise<Node> {
  const tree = createKubeletTree(name);
  trees.push(tree);
  fs.chmodSync(tree.root, 0o755);
  // On a node / is shared (systemd makes it so), and the kubelet directory with it: HostToContainer needs that.
  bindMount(tree.kubeletDir, tree.kubeletDir);
  const made = await run('mount', [hostSide === 'shared' ? '--make-shared' : '--make-private', tree.kubeletDir]);
  assert(made.code === 0, `mount --make-${hostSide} ${tree.kubeletDir}: ${made.stderr}`);
  return { tree, hostSide, vols: new Map(), fuse: new Map() };
}

/** A JuiceFS volume's FUSE client (outside the kubelet dir, as a mount pod's is) and its published path. */
async function publish(node: Node, pv: string, opts: { mountNow: boolean }): Promise<PublishedVolume> {
  const fuse = await startFuse(path.join(node.tree.root, 'jfs', pv));
  const vol = node.tree.publish(newPodUid(), pv, opts.mountNow ? { mountFrom: fuse.mnt } : {});
  node.fuse.set(pv, fuse);
  node.vols.set(pv, vol);
  return vol;
}

/** Where the container sees a host path under the kubelet directory. */
function inContainer(plan: PodRun, hostPath: string): string {
  const v = plan.volumes.find((x) => hostPath === x.source || hostPath.startsWith(`${x.source}/`));
  assert(v, `${hostPath} is under no volume of the container`);
  return v.mountPath + hostPath.slice(v.source.length);
}

// ---------------------------------------------------------------- the container

interface Container {
  readonly name: string;
  readonly pid: number;
  /** Host address of a container port. */
  url(port: number, p?: string): string;
  metrics(): Promise<Sample[]>;
  running(): Promise<boolean>;
  logs(): Promise<string>;
}

const containers = new Set<string>();

/** The kubelet directory the daemon reads, from its args (as `serve` parses them) or its default. */
function containerKubeletDir(ds: IDaemonSet): string {
  const args = ds.spec?.template.spec?.containers[0]?.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--kubelet-dir=')) return a.slice('--kubelet-dir='.length);
    if (a === '--kubelet-dir' && args[i + 1]) return args[i + 1]!;
  }
  return ds.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'JFS_PROBER_KUBELET_DIR')?.value ?? '/var/lib/kubelet';
}

function planFor(ds: IDaemonSet, node: Node, nodeName: string): PodRun {
  const kubeletDir = containerKubeletDir(ds);
  return podRun(ds, { nodeName, hostPaths: (_host, mountPath) => (mountPath === kubeletDir ? node.tree.kubeletDir : undefined) });
}

async function start(name: string, plan: PodRun, image: string): Promise<Container> {
  await podman(['rm', '--force', '--ignore', name]);
  containers.add(name);
  // The pod's own network namespace (not the host's), its ports published on the loopback.
  await podmanOk(['run', '--detach', '--name', name, '--label', LABEL, '--pull=never', '--network=slirp4netns', ...plan.flags, image, ...plan.args]);
  const pid = await inspect<number>('container', name, '.State.Pid');
  const hostPorts = new Map<number, number>();
  for (const port of plan.ports.values()) {
    const out = (await podmanOk(['port', name, `${port}/tcp`])).trim();
    hostPorts.set(port, Number(out.slice(out.lastIndexOf(':') + 1)));
  }
  const url = (port: number, p = '/') => {
    const host = hostPorts.get(port);
    assert(host, `container port ${port} is not published`);
    return `http://127.0.0.1:${host}${p}`;
  };
  const metricsPort = plan.ports.get('metrics') ?? [...plan.ports.values()][0];
  return {
    name,
    pid,
    url,
    async metrics() {
      assert(metricsPort, 'the container has no port');
      const res = await fetch(url(metricsPort, '/metrics'), { signal: AbortSignal.timeout(10_000) });
      assert(res.status === 200, `/metrics answered ${res.status}`);
      return parseMetrics(await res.text());
    },
    async running() {
      return (await inspect<boolean>('container', name, '.State.Running')) === true;
    },
    async logs() {
      const r = await podman(['logs', '--tail', '20', name]);
      return `${r.stdout}${r.stderr}`.trim().replace(/^/gm, '      | ');
    },
  };
}

async function removeAll(): Promise<void> {
  for (const name of containers) await podman(['rm', '--force', '--time', '0', '--ignore', name]);
  containers.clear();
}

/** Containers first (nothing may stat a mount whose client is gone), then FUSE servers and mounts, then the trees. */
async function teardown(): Promise<void> {
  await removeAll();
  cleanupAll();
  for (const t of trees.splice(0)) t.remove();
}

/** Waits for an HTTP 200 within kubelet's budget for the probe, failing at once if the container exits. */
async function probe200(c: Container, probe: { path: string; port: number; budgetMs: number }): Promise<string> {
  const t0 = clock.monotonic();
  let last = '';
  const body = await waitFor(`200 from ${probe.path}`, probe.budgetMs, async () => {
    if (!(await c.running())) {
      throw new GaveUp(`the container exited (${await inspect<number>('container', c.name, '.State.ExitCode')}) before ${probe.path} answered 200; its log:\n${await c.logs()}`);
    }
    const res = await fetch(c.url(probe.port, probe.path), { signal: AbortSignal.timeout(5_000) }).catch((e: Error) => e);
    if (res instanceof Error) {
      last = res.message;
      return undefined;
    }
    const text = await res.text();
    last = `${res.status} ${text.trim()}`;
    return res.status === 200 ? text.trim() : undefined;
  }).catch((err: Error) => {
    throw err instanceof GaveUp ? err : new Error(`${err.message}; last answer: ${last || 'none'}`);
  });
  return `200 "${body}" after ${secs(clock.monotonic() - t0)} (kubelet allows ${secs(probe.budgetMs)})`;
}

async function cycles(c: Container): Promise<number> {
  return (await c.metrics()).find((s) => s.name === CYCLES)?.value ?? 0;
}

/** The container's own mount table, as its first process sees it. */
function containerMounts(c: Container): string[] {
  return fs.readFileSync(`/proc/${c.pid}/mountinfo`, 'utf8').split('\n').filter(Boolean);
}

/**
 * Mounts `pv`'s FUSE client at its published path now, with the container running, and waits
 * until the daemon calls it healthy or has completed two more cycles (one whole cycle then
 * started after the mount). Says what the container saw.
 */
async function mountLate(c: Container, plan: PodRun, node: Node, pv: string): Promise<{ healthyAfterMs?: number; inTable: string | undefined; getattr: number; state: string }> {
  const vol = node.vols.get(pv)!;
  const fuse = node.fuse.get(pv)!;
  const target = inContainer(plan, vol.mountPath);
  const before = (await fuse.stats()).getattr;
  const startCycles = await cycles(c);
  const t0 = clock.monotonic();
  bindMount(fuse.mnt, vol.mountPath);
  let healthyAfterMs: number | undefined;
  await waitFor('two probe cycles after the mount', 120_000, async () => {
    const all = await c.metrics();
    if (pathStatesOf(all).get(target) === 'healthy') {
      healthyAfterMs = clock.monotonic() - t0;
      return true;
    }
    return (all.find((s) => s.name === CYCLES)?.value ?? 0) >= startCycles + 2 ? true : undefined;
  });
  const state = pathStatesOf(await c.metrics()).get(target) ?? 'absent';
  const inTable = containerMounts(c).find((l) => l.split(' ')[4] === target);
  return { ...(healthyAfterMs !== undefined ? { healthyAfterMs } : {}), inTable, getattr: (await fuse.stats()).getattr - before, state };
}

/** Runs node's -e script inside the container, as the container's user with its privileges. */
async function nodeEval(c: Container, script: string): Promise<string> {
  const r = await podman(['exec', c.name, 'node', '-e', script]);
  assert(r.code === 0, `podman exec node -e exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

// ---------------------------------------------------------------- memory

function cgroupMemory(pid: number): { anon?: number; procs: number[] } {
  const line = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /^\d+:(.*,)?memory(,.*)?:/.test(l)) ??
    fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
  assert(line, `no memory cgroup for pid ${pid}`);
  const rel = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
  const v1 = path.join('/sys/fs/cgroup/memory', rel);
  const dir = fs.existsSync(v1) ? v1 : path.join('/sys/fs/cgroup', rel);
  const stat = fs.readFileSync(path.join(dir, 'memory.stat'), 'utf8');
  const anon = /^(?:total_rss|anon) (\d+)$/m.exec(stat)?.[1];
  const procs = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  return { ...(anon !== undefined ? { anon: Number(anon) } : {}), procs };
}

function smaps(pid: number): { pss: number; anon: number } {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { pss: kb('Pss'), anon: kb('Anonymous') };
}

// ---------------------------------------------------------------- the checks

interface Options {
  readonly image: string;
  readonly base?: string;
  readonly manifests: string;
  readonly nodeName: string;
  readonly kubeletHostSide: 'shared' | 'private';
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      image: { type: 'string' },
      base: { type: 'string' },
      manifests: { type: 'string', default: path.join(ROOT, 'manifests') },
      'node-name': { type: 'string', default: 'image-check-node' },
      'kubelet-host-side': { type: 'string', default: 'shared' },
    },
  });
  if (!values.image) throw new Error('--image: the image to check is required');
  const side = values['kubelet-host-side'];
  if (side !== 'shared' && side !== 'private') throw new Error(`--kubelet-host-side: "${side}" is neither shared nor private`);
  return { image: values.image, ...(values.base ? { base: values.base } : {}), manifests: values.manifests!, nodeName: values['node-name']!, kubeletHostSide: side };
}

async function checkImage(o: Options): Promise<void> {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

  await check('Dockerfile has no syntax directive', () => {
    const first = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').split('\n').find((l) => /^#\s*syntax\s*=/i.test(l));
    assert(first === undefined, `"${first}" makes BuildKit pull a frontend image from a registry`);
    return 'BuildKit needs no frontend image from a registry';
  });

  await check('image labels', async () => {
    const labels = await inspect<Record<string, string>>('image', o.image, '.Labels');
    const size = await inspect<number>('image', o.image, '.Size');
    figure('image size', `${(size / 1e6).toFixed(0)} MB (${o.image})`);
    assert(labels['org.opencontainers.image.title'] === 'juicefs-path-prober', `title is "${labels['org.opencontainers.image.title']}"`);
    assert(labels['org.opencontainers.image.version'] === pkg.version, `version is "${labels['org.opencontainers.image.version']}", package.json says ${pkg.version}`);
    const base = labels['org.opencontainers.image.base.name'];
    assert(base, 'org.opencontainers.image.base.name is empty');
    if (o.base) assert(base === o.base, `base.name is "${base}", the build's NODE_IMAGE was ${o.base}`);
    return `version ${pkg.version}, base.name ${base}`;
  });

  const ds = renderDaemonSet(o.manifests);
  const node = await makeNode('image', o.kubeletHostSide);
  let plan: PodRun | undefined;
  await check('run with the DaemonSet settings', () => {
    plan = planFor(ds, node, o.nodeName);
    return `podman run ${plan.flags.join(' ')} IMAGE ${plan.args.join(' ')}`;
  });
  if (!plan) return;

  // The fixture: a healthy volume and one whose client died, mounted before the container
  // starts; a third published (vol_data.json, mount dir) but mounted only once it runs.
  const ready = await publish(node, 'pv-ready', { mountNow: true });
  const dead = await publish(node, 'pv-dead', { mountNow: true });
  await node.fuse.get('pv-dead')!.kill();
  await publish(node, 'pv-late', { mountNow: false });

  const c = await start('jfs-prober-image-check', plan, o.image);
  const { liveness, readiness } = plan;
  const live = await check(`liveness ${liveness?.path ?? '(none)'}`, () => {
    assert(liveness, 'the DaemonSet has no livenessProbe');
    return probe200(c, liveness);
  });
  const readyOk = await check(`readiness ${readiness?.path ?? '(none)'}`, () => {
    assert(readiness, 'the DaemonSet has no readinessProbe');
    return probe200(c, readiness);
  });
  if (!live || !readyOk) return;

  const seenAt = (v: PublishedVolume) => inContainer(plan!, v.mountPath);
  await check('/metrics health series for the fixture paths', async () => {
    const all = await c.metrics();
    const health = (v: PublishedVolume) => all.find((s) => s.name === 'juicefs_volume_path_health' && s.labels.volume_path === seenAt(v));
    const r = health(ready);
    const d = health(dead);
    assert(r?.value === 1, `pv-ready health is ${r?.value ?? 'absent'}, expected 1 (states: ${JSON.stringify([...pathStatesOf(all)])})`);
    assert(d?.value === 0, `pv-dead health is ${d?.value ?? 'absent'}, expected 0`);
    assert(pathStatesOf(all).get(seenAt(dead)) === 'disconnected', `pv-dead state is ${pathStatesOf(all).get(seenAt(dead))}, expected disconnected`);
    assert(r.labels.node_name === o.nodeName, `node_name is "${r.labels.node_name}", the downward API gave ${o.nodeName}`);
    return `pv-ready 1, pv-dead 0 (disconnected), node_name="${o.nodeName}" from the downward API, ${all.length} samples`;
  });

  await check(`propagation: a mount made on the host after start is probed inside (host side ${node.hostSide})`, async () => {
    const seen = await mountLate(c, plan!, node, 'pv-late');
    figure(`propagation, host side ${node.hostSide}`, describeSeen(seen));
    assert(seen.inTable, `not in the container's mount table; state ${seen.state}`);
    assert(seen.state === 'healthy', `in the mount table but state ${seen.state}`);
    assert(seen.getattr > 0, 'the FUSE server answered no getattr');
    return describeSeen(seen);
  });

  await check('read-only root: writes from inside fail', async () => {
    const targets = ['/probe-write', '/tmp/probe-write', '/app/probe-write', '/var/tmp/probe-write', `${plan!.volumes[0]?.mountPath ?? '/'}/probe-write`];
    const out = await nodeEval(
      c,
      `const fs=require('fs');const r={};for(const p of ${JSON.stringify(targets)}){try{fs.writeFileSync(p,'x');r[p]='written'}catch(e){r[p]=e.code}}process.stdout.write(JSON.stringify(r))`,
    );
    const results = JSON.parse(out) as Record<string, string>;
    const bad = Object.entries(results).filter(([, code]) => code !== 'EROFS');
    assert(bad.length === 0, `not refused as a read-only file system: ${bad.map(([p, code]) => `${p} ${code}`).join(', ')}`);
    return `${targets.length} paths refused with EROFS`;
  });

  await check('privileges in /proc/1/status', async () => {
    const status = await nodeEval(c, `process.stdout.write(require('fs').readFileSync('/proc/1/status','utf8'))`);
    const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
    const wrong: string[] = [];
    for (const k of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) if (!/^0+$/.test(field(k) ?? '')) wrong.push(`${k} ${field(k)}`);
    if (field('NoNewPrivs') !== '1') wrong.push(`NoNewPrivs ${field('NoNewPrivs')}`);
    if (field('Seccomp') !== '2') wrong.push(`Seccomp ${field('Seccomp')} (2 is a filter)`);
    if (field('Name') !== 'node') wrong.push(`pid 1 is ${field('Name')}, not node`);
    const uid = field('Uid')?.split(/\s+/)[0];
    const gid = field('Gid')?.split(/\s+/)[0];
    if (plan!.user.uid !== undefined && uid !== String(plan!.user.uid)) wrong.push(`uid ${uid}, runAsUser ${plan!.user.uid}`);
    if (plan!.user.gid !== undefined && gid !== String(plan!.user.gid)) wrong.push(`gid ${gid}, runAsGroup ${plan!.user.gid}`);
    assert(wrong.length === 0, wrong.join('; '));
    return `pid 1 node, uid ${uid} gid ${gid}, every capability set 0, NoNewPrivs 1, Seccomp 2`;
  });

  await check('juicefs-path-prober check through podman exec', async () => {
    const r = await podman(['exec', c.name, 'juicefs-path-prober', 'check']);
    for (const l of r.stdout.trimEnd().split('\n')) say(`      ${l}`);
    const row = (pv: string, state: string) => new RegExp(`\\s${pv}\\s+\\S+\\s+${state}\\s`).test(r.stdout);
    assert(/^POD\s+PV\s+PATH\s+STATE/m.test(r.stdout), `no table: ${r.stdout}${r.stderr}`);
    assert(row('pv-ready', 'healthy') && row('pv-dead', 'disconnected'), 'pv-ready healthy and pv-dead disconnected are not both in the table');
    assert(r.code === 1, `exit ${r.code}, expected 1 (pv-dead is not healthy)`);
    return 'the table lists the fixture paths; exit 1 for the dead one';
  });

  await check('memory within the DaemonSet request', async () => {
    const stats = (await podmanOk(['stats', '--no-stream', '--format', '{{.MemUsage}}', c.name])).trim();
    const bytes = (await podmanOk(['stats', '--no-stream', '--format', '{{.MemUsageBytes}}', c.name]).catch(() => '')).trim();
    const cg = cgroupMemory(c.pid);
    const proc = cg.procs.map((p) => {
      try {
        return smaps(p);
      } catch {
        return { pss: 0, anon: 0 };
      }
    });
    const pss = proc.reduce((a, b) => a + b.pss, 0);
    const anon = proc.reduce((a, b) => a + b.anon, 0);
    figure('container memory', `podman stats ${stats}${bytes ? ` (${bytes})` : ''}; cgroup anonymous ${cg.anon !== undefined ? MiB(cg.anon) : '?'}; ${cg.procs.length} processes, PSS ${MiB(pss)}, anonymous ${MiB(anon)}`);
    const usage = parseSize(stats.split('/')[0]!.trim());
    const request = plan!.memoryRequestBytes;
    assert(request !== undefined, 'the DaemonSet requests no memory');
    assert(usage <= request, `podman stats says ${stats}, over the request ${MiB(request)}`);
    return `${MiB(usage)} of ${MiB(request)} requested (PSS ${MiB(pss)}, anonymous ${MiB(anon)})`;
  });

  await check(`podman stop within terminationGracePeriodSeconds (${plan.graceSeconds} s)`, async () => {
    const t0 = clock.monotonic();
    const r = await podman(['stop', '--time', String(plan!.graceSeconds), c.name], (plan!.graceSeconds + 30) * 1000);
    const took = clock.monotonic() - t0;
    figure('podman stop', `${secs(took)} of ${plan!.graceSeconds} s`);
    assert(r.code === 0, `podman stop exited ${r.code}: ${r.stderr.trim()}`);
    const exit = await inspect<number>('container', c.name, '.State.ExitCode');
    assert(exit === 0, `the daemon exited ${exit}${exit === 137 ? ' (killed after the grace period)' : ''}; its log:\n${await c.logs()}`);
    assert(took < plan!.graceSeconds * 1000, `took ${secs(took)}`);
    return `exit 0 after ${secs(took)}`;
  });

  await check('nothing written to the root file system (podman diff)', async () => {
    // podman makes the mount points it binds (the volumes, /etc/hosts and friends) and their parents.
    const mounts = (await inspect<{ Destination: string }[]>('container', c.name, '.Mounts')).map((m) => m.Destination);
    const own = new Set<string>();
    for (const m of [...mounts, '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/run/.containerenv']) {
      for (let p = m; p !== '/'; p = path.dirname(p)) own.add(p);
    }
    const changes = (await podmanOk(['diff', c.name])).split('\n').filter(Boolean);
    const others = changes.filter((l) => !own.has(l.slice(2)));
    assert(others.length === 0, `changed: ${others.join(', ')}`);
    return `${changes.length} entries, all mount points podman made (${changes.join(', ')})`;
  });

  await removeAll();

  // The control: the same run with the host side of the kubelet directory private. A check
  // that passed here would pass whatever the propagation.
  const privateNode = await makeNode('image-private', 'private');
  const privatePlan = planFor(ds, privateNode, o.nodeName);
  await publish(privateNode, 'pv-late', { mountNow: false });
  const pc = await start('jfs-prober-image-check-private', privatePlan, o.image);
  await check('propagation control: the same mount under a private host side is not seen', async () => {
    assert(privatePlan.readiness, 'the DaemonSet has no readinessProbe');
    await probe200(pc, privatePlan.readiness);
    const seen = await mountLate(pc, privatePlan, privateNode, 'pv-late');
    figure('propagation, host side private (control)', describeSeen(seen));
    assert(!seen.inTable && seen.state !== 'healthy' && seen.getattr === 0, `seen: ${describeSeen(seen)}`);
    return describeSeen(seen);
  });
  await removeAll();
}

function describeSeen(s: { healthyAfterMs?: number; inTable: string | undefined; getattr: number; state: string }): string {
  const where = s.inTable ? `in the container's mount table (${s.inTable.split(' - ')[1]?.split(' ')[0]}, ${s.inTable.split(' ').slice(6, s.inTable.split(' ').indexOf('-')).join(' ') || 'no optional fields'})` : "not in the container's mount table";
  return `${where}; state ${s.state}${s.healthyAfterMs !== undefined ? ` ${secs(s.healthyAfterMs)} after the mount` : ' after two probe cycles'}; ${s.getattr} getattr answered by the FUSE server`;
}

/** "14.47MB" as podman prints it (decimal units), in bytes. */
function parseSize(s: string): number {
  const m = /^([0-9.]+)\s*([kKMGT]?i?B)$/.exec(s);
  assert(m, `cannot read the size "${s}"`);
  const unit: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 };
  return Number(m[1]) * (unit[m[2]!] ?? NaN);
}

async function main(): Promise<void> {
  reexecInPrivateMountNamespace(SCRIPT, process.argv.slice(2));
  const privileges = mountPrivileges();
  if (!privileges.ok) {
    say(`image: cannot run the checks: ${privileges.reason}`);
    process.exit(2);
  }
  const o = options();
  // The clock's timers do not hold the process open; this does while the checks run.
  const keepAlive = setInterval(() => {}, 60_000);
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    say(`image: stopped by ${signal}; removing the containers and mounts`);
    void teardown().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  say(`image check on ${os.hostname()}: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, kernel ${os.release()}; manifests ${path.relative(ROOT, o.manifests) || o.manifests}`);
  try {
    await checkImage(o);
  } catch (err) {
    await check('image check ran to the end', () => {
      throw err;
    });
  } finally {
    await teardown();
    clearInterval(keepAlive);
  }
  if (figures.length > 0) {
    say('figures:');
    for (const [k, v] of figures) say(`  ${k}: ${v}`);
  }
  const failed = lines.filter((l) => !l.ok).length;
  say(`image: ${lines.length - failed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();

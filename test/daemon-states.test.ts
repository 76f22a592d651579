import path from 'node:path';
import { byPath, FAST_FLAGS } from './fixtures/daemon.js';
import { counterAtLeast, mountTest, pathStates, samples, sampleValue, sandbox } from './fixtures/harness.js';
import { publishFuse } from './fixtures/fuse-volumes.js';
import { newPodUid } from './fixtures/kubelet-tree.js';
import { bindMount, startFuse, tmpfsMount } from './fixtures/mounts.js';

const box = sandbox();

mountTest('every state is reached and reported with its labels through the real HTTP endpoint', async (t) => {
  const tree = box.tree('states');
  const uid = newPodUid();
  const healthy = await publishFuse(tree, uid, 'pv-healthy', 'healthy');
  const hung = await publishFuse(tree, uid, 'pv-hung', 'hung');
  const hungread = await publishFuse(tree, uid, 'pv-hungread', 'hungread');
  const dead = await publishFuse(tree, uid, 'pv-dead', 'healthy');
  await dead.fuse.kill();
  const eio = await publishFuse(tree, uid, 'pv-eio', 'eio');
  const estale = await publishFuse(tree, uid, 'pv-estale', 'estale');
  const eacces = await publishFuse(tree, uid, 'pv-eacces', 'eacces');
  // A client mounted straight at the target: root mount, inode 1 checked.
  const direct = tree.publish(uid, 'pv-direct');
  await startFuse(direct.mountPath);
  const unmounted = tree.publish(uid, 'pv-unmounted');
  const missing = tree.publish(uid, 'pv-missing', { mountDir: false });
  const wrongType = tree.publish(uid, 'pv-tmpfs');
  tmpfsMount(wrongType.mountPath);
  const other = tree.publish(uid, 'pv-other-driver', { driver: 'nfs.csi.k8s.io' });
  tmpfsMount(other.mountPath);
  // subPath of the healthy volume, as kubelet binds it for a container.
  const sub = tree.subpathDir(uid, 'data', 'app', 0);
  bindMount(path.join(healthy.mountPath), sub);

  const daemon = await box.daemon(['--kubelet-dir', tree.kubeletDir, ...FAST_FLAGS]);
  const want: Record<string, string> = {
    [healthy.mountPath]: 'healthy',
    [direct.mountPath]: 'healthy',
    [sub]: 'healthy',
    [hung.mountPath]: 'timeout',
    [hungread.mountPath]: 'timeout',
    [dead.mountPath]: 'disconnected',
    [eio.mountPath]: 'io_error',
    [estale.mountPath]: 'stale',
    [eacces.mountPath]: 'permission_denied',
    [unmounted.mountPath]: 'not_mounted',
    [missing.mountPath]: 'not_found',
    [wrongType.mountPath]: 'wrong_fstype',
  };
  const s = await daemon.waitFor(
    (s) => Object.entries(want).every(([p, state]) => byPath(s, p)?.state === state),
    15_000,
    'every state',
  );
  t.is(byPath(s, other.mountPath), undefined, 'another driver’s volume is not probed');
  t.regex(byPath(s, dead.mountPath)!.detail, /ENOTCONN/);
  t.regex(byPath(s, wrongType.mountPath)!.detail, /tmpfs/);
  t.is(byPath(s, sub)!.kind, 'subpath');
  t.is(byPath(s, sub)!.volume_id, 'pv-healthy');

  const text = await daemon.metrics();
  for (const [p, state] of Object.entries(want)) {
    const pv = p === sub ? 'pv-healthy' : path.basename(path.dirname(p));
    const labels = { volume_id: pv, volume_path: p, pod_uid: uid, node_name: 'test-node' };
    t.is(sampleValue(text, 'juicefs_volume_path_health', labels), state === 'healthy' ? 1 : 0, `${p} health`);
    // A healthy path's health of 1 is its state: it has no state series.
    t.deepEqual(samples(text, 'juicefs_volume_path_state', labels).map((x) => `${x.labels.state} ${x.value}`), state === 'healthy' ? [] : [`${state} 1`], `${p} state series`);
    t.is(pathStates(text).get(p), state, `${p} state`);
  }
  t.is(sampleValue(text, 'juicefs_volume_path_health', { volume_path: other.mountPath }), undefined);
});

mountTest('the daemon’s own metrics are exported beside the path series, with the loop named in HELP', async (t) => {
  const k = box.tree('selfmetrics');
  const bad = k.publish(newPodUid(), 'pv-bad', { volData: '{"driverName":' });
  const d = await box.daemon(['--kubelet-dir', k.kubeletDir, ...FAST_FLAGS]);
  await d.waitFor((s) => s.ready, 5000, 'ready');
  // Counted on every scan: a second count is a resync that saw the bad file again.
  await counterAtLeast(d, 'juicefs_path_prober_discovery_errors_total', { kind: 'vol_data' }, 2);
  const text = await d.metrics();
  for (const name of [
    'juicefs_path_prober_paths',
    'juicefs_path_prober_probe_duration_seconds',
    'juicefs_path_prober_probes_in_flight',
    'juicefs_path_prober_stuck_probes',
    'juicefs_path_prober_cycle_duration_seconds',
    'juicefs_path_prober_discovery_errors_total',
    'juicefs_path_prober_build_info',
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_seconds',
  ]) {
    t.regex(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
  t.regex(text, /^# HELP juicefs_volume_path_health .*background probe loop/m);
  t.true(sampleValue(text, 'juicefs_path_prober_discovery_errors_total', { kind: 'vol_data' })! >= 2);
  const warned = d.logs.filter((l) => l.msg === 'skipping unreadable or malformed entry' && l.file === `${bad.pvDir}/vol_data.json`);
  t.is(warned.length, 1, 'a malformed file is logged once');
  t.is((await d.get('/healthz')).status, 200, 'and the daemon carries on');
});

mountTest('an unreadable mount table keeps the daemon up, unready, counted and logged once', async (t) => {
  const k = box.tree('nomountinfo');
  k.publish(newPodUid(), 'pv-x');
  const d = await box.daemon(['--kubelet-dir', k.kubeletDir, '--mountinfo', '/nonexistent/mountinfo', ...FAST_FLAGS]);
  // Three cycles that could not read the table.
  await counterAtLeast(d, 'juicefs_path_prober_discovery_errors_total', { kind: 'mountinfo' }, 3);
  t.is((await d.get('/healthz')).status, 200);
  const readyz = await d.get('/readyz');
  t.is(readyz.status, 503);
  // One readiness rule: /readyz, /status and the status page say the same.
  t.is(await readyz.text(), 'waiting for the first probe cycle\n');
  t.like(await d.status(), { ready: false, not_ready: 'waiting for the first probe cycle' });
  t.regex(await (await d.get('/')).text(), /Not ready: waiting for the first probe cycle\./);
  const text = await d.metrics();
  t.true(sampleValue(text, 'juicefs_path_prober_discovery_errors_total', { kind: 'mountinfo' })! >= 3);
  t.is(d.logs.filter((l) => l.msg === 'cannot read the mount table; keeping the last states until it can be read').length, 1);
  t.false(text.includes('juicefs_volume_path_health{'), 'no verdicts without a mount table');
});

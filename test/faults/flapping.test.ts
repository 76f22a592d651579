import path from 'node:path';
import { byPath } from '../fixtures/daemon.js';
import { mountTest, poll, sampleValue, sandbox } from '../fixtures/harness.js';
import { newPodUid } from '../fixtures/kubelet-tree.js';
import { bindMount, forceUnmount, startFuse, type FuseHandle } from '../fixtures/mounts.js';

const box = sandbox();

mountTest('a mount flapping healthy → hung → dead → remounted, again and again, is reported in step and leaves nothing stuck', async (t) => {
  const k = box.tree('flap');
  const v = k.publish(newPodUid(), 'pv-flap');
  const other = k.publish(newPodUid(), 'pv-steady');
  const steady = await startFuse(path.join(k.root, 'jfs-steady'));
  bindMount(path.join(steady.mnt, 'pv-steady'), other.mountPath);
  const mountClient = async (): Promise<FuseHandle> => {
    forceUnmount(v.mountPath);
    const fuse = await startFuse(path.join(k.root, 'jfs-flap'));
    bindMount(path.join(fuse.mnt, 'pv-flap'), v.mountPath);
    return fuse;
  };
  let fuse = await mountClient();
  const d = await box.daemon(['--kubelet-dir', k.kubeletDir, '--interval', '200ms', '--timeout', '500ms', '--resync', '5s', '--publish-grace', '0s']);
  const state = (want: string, what: string) => d.waitFor((s) => byPath(s, v.mountPath)?.state === want, 20_000, what);
  await state('healthy', 'healthy');
  // The neighbour's own first verdict may come a cycle later: it is watched from there on.
  await d.waitFor((s) => byPath(s, other.mountPath)?.state === 'healthy', 20_000, 'the steady neighbour healthy');

  const neighbour = poll(async () => sampleValue(await d.metrics(), 'juicefs_volume_path_health', { volume_path: other.mountPath }), 50);

  const ROUNDS = 3;
  for (let round = 1; round <= ROUNDS; round++) {
    await fuse.setMode(round % 2 ? 'hung' : 'hungread');
    await state('timeout', `timeout in round ${round}`);
    await fuse.kill(); // the client dies: the blocked call returns ENOTCONN
    await state('disconnected', `disconnected in round ${round}`);
    fuse = await mountClient();
    await state('healthy', `healthy again in round ${round}`);
  }
  const steadyValues = new Set(await neighbour.stop());

  const changes = d.logs.filter((l) => l.msg === 'volume path state' && l.path === v.mountPath).map((l) => l.state);
  t.deepEqual(changes, ['healthy', ...Array.from({ length: ROUNDS }, () => ['timeout', 'disconnected', 'healthy']).flat()], 'each step once, nothing in between');
  t.deepEqual([...steadyValues], [1], 'the steady neighbour never wavers');
  const s = await d.status();
  t.is(s.probe.stuck.length, 0, 'no probe left stuck');
  t.is(s.probe.in_flight, 0);
  t.is(s.probe.helpers.retired, 0);
});

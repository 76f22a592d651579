import test from 'ava';
import { ALL_STATES, healthValue, type VolumePath } from '../../src/types.js';
import { pathStates, samples } from '../fixtures/harness.js';
import { scrapeText, testMetrics, testTracking } from '../fixtures/metrics.js';

const volume = (path: string, pv = 'pv'): VolumePath => ({ path, kind: 'volume', podUid: 'uid-1', pv, volumeId: pv, driver: 'csi.juicefs.com' });

function setup(pathTiming = true) {
  const tracking = testTracking();
  const metrics = testMetrics({ tracker: tracking.tracker, nodeName: 'node-"a"', pathTiming });
  const render = (format: 'prometheus' | 'openmetrics' = 'prometheus') => scrapeText(metrics, format);
  return { paths: tracking, render };
}

test('per-path series carry the path labels escaped, the state, and node_name', async (t) => {
  const { paths, render } = setup();
  const odd = volume('/k/pods/uid-1/volumes/kubernetes.io~csi/pv/a "b"\\c\nd/mount');
  paths.observe(odd, { state: 'disconnected', detail: 'ENOTCONN' }, { at: 4_500, ms: 2, source: '0:50 /' });
  const text = await render();
  const labels = 'volume_id="pv",volume_path="/k/pods/uid-1/volumes/kubernetes.io~csi/pv/a \\"b\\"\\\\c\\nd/mount",pod_uid="uid-1"';
  const node = 'node_name="node-\\"a\\""';
  t.true(text.includes(`juicefs_volume_path_health{${labels},${node}} 0\n`), text);
  t.true(text.includes(`juicefs_volume_path_state{${labels},state="disconnected",${node}} 1\n`));
  t.true(text.includes(`juicefs_volume_path_last_probe_duration_seconds{${labels},${node}} 0.002\n`));
  t.true(text.includes(`juicefs_volume_path_last_probe_timestamp_seconds{${labels},${node}} 4.5\n`));
  t.true(text.includes(`juicefs_volume_path_state_since_timestamp_seconds{${labels},${node}} 5\n`));
  t.true(text.includes('# TYPE juicefs_volume_path_health gauge\n'));
});

test('without --path-timing a path has only its health and state series', async (t) => {
  const { paths, render } = setup(false);
  paths.observe(volume('/k/pods/uid-1/volumes/kubernetes.io~csi/pv/mount'), { state: 'io_error', detail: 'EIO' }, { at: 4_500, ms: 2, source: '0:50 /' });
  const families = [...(await render()).matchAll(/^juicefs_volume_path_(\w+)\{/gm)].map((m) => m[1]);
  t.deepEqual(families, ['health', 'state']);
});

test('a healthy path has a health series of 1 and no state series; a path in any other state has its state series', async (t) => {
  const { paths, render } = setup(false);
  const states = ALL_STATES.map((state, i) => ({ state, v: volume(`/k/pods/uid-1/volumes/kubernetes.io~csi/pv-${i}/mount`, `pv-${i}`) }));
  for (const { state, v } of states) paths.observe(v, { state, detail: '' });
  const text = await render();
  for (const { state, v } of states) {
    const seriesOf = (name: string) => samples(text, name, { volume_path: v.path }).map((s) => (s.labels.state === undefined ? `${s.value}` : `${s.labels.state} ${s.value}`));
    t.deepEqual(seriesOf('juicefs_volume_path_state'), state === 'healthy' ? [] : [`${state} 1`], `${state}: state series`);
    const health = healthValue(state);
    t.deepEqual(seriesOf('juicefs_volume_path_health'), health === undefined ? [] : [`${health}`], `${state}: health series`);
    t.is(pathStates(text).get(v.path), state, `${state}: read back`);
  }
  // Its HELP lists the states it can carry, and healthy is not one of them.
  const help = /^# HELP juicefs_volume_path_state (.*)$/m.exec(text)![1]!;
  for (const state of ALL_STATES) t.is(new RegExp(`\\b${state}\\b`).test(help.split(': ').at(-1)!), state !== 'healthy', `${state} in HELP`);
});

test('a pending path has a state but no health series; a removed path has no series at all', async (t) => {
  const { paths, render } = setup();
  const a = volume('/k/a/mount', 'pv-a');
  const b = volume('/k/b/mount', 'pv-b');
  paths.observe(a, { state: 'pending', detail: 'published 1s ago' });
  paths.observe(b, { state: 'healthy', detail: '' });
  let text = await render();
  t.false(text.includes('juicefs_volume_path_health{volume_id="pv-a"'));
  t.true(text.includes('juicefs_volume_path_state{volume_id="pv-a",volume_path="/k/a/mount",pod_uid="uid-1",state="pending"'));
  t.true(text.includes('juicefs_volume_path_health{volume_id="pv-b"'));
  paths.remove(b);
  text = await render();
  t.false(text.includes('pv-b'));
});

test('a path re-published with another volume id is exported with the new one', async (t) => {
  const { paths, render } = setup();
  paths.observe(volume('/k/a/mount', 'pv-old'), { state: 'healthy', detail: '' });
  t.true((await render()).includes('volume_id="pv-old"'));
  paths.remove(volume('/k/a/mount', 'pv-old'));
  paths.observe(volume('/k/a/mount', 'pv-new'), { state: 'healthy', detail: '' });
  const text = await render();
  t.false(text.includes('pv-old'));
  t.true(text.includes('juicefs_volume_path_health{volume_id="pv-new",volume_path="/k/a/mount"'));
});

test('OpenMetrics output ends with EOF after the path families', async (t) => {
  const { paths, render } = setup();
  paths.observe(volume('/k/a/mount'), { state: 'healthy', detail: '' });
  const om = await render('openmetrics');
  t.true(om.endsWith('# EOF\n'));
  t.true(om.indexOf('juicefs_volume_path_health{') < om.indexOf('# EOF'));
});

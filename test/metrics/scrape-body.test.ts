// The scrape body keeps the per-path text between scrapes, and never past a change.

import test from 'ava';
import zlib from 'node:zlib';
import { renderRegistry, type Format } from '../../src/metrics/exposition.js';
import { createScrapeBody } from '../../src/metrics/scrape-body.js';
import type { PathState, VolumePath } from '../../src/types.js';
import { pathStates, samples } from '../fixtures/harness.js';
import { numberedVolume as volume, testMetrics, testTracking } from '../fixtures/metrics.js';

const FORMATS: readonly Format[] = ['prometheus', 'openmetrics'];

function setup(pathTiming = false) {
  const paths = testTracking();
  const { tracker } = paths;
  const metrics = testMetrics({ tracker, pathTiming });
  const observe = (v: VolumePath, state: PathState, probeAt?: number) =>
    paths.observe(v, { state, detail: '' }, probeAt === undefined ? undefined : { at: probeAt, ms: 3, source: '0:50 /' });
  /** Every way the body is served, as text: both formats, plain and gunzipped. */
  const scrapes = async () => {
    const out: { what: string; text: string }[] = [];
    for (const format of FORMATS) {
      out.push({ what: `${format}, plain`, text: (await metrics.body.render(format, false)).toString() });
      out.push({ what: `${format}, gzip`, text: zlib.gunzipSync(await metrics.body.render(format, true)).toString() });
    }
    return out;
  };
  return { tracker, remove: paths.remove, metrics, observe, scrapes };
}

const stateOf = (text: string, v: VolumePath) => pathStates(text).get(v.path);

test('a scrape right after a state change shows the new state, in every format and encoding', async (t) => {
  const { observe, scrapes } = setup();
  const a = volume(1);
  observe(a, 'healthy');
  for (const s of await scrapes()) t.is(stateOf(s.text, a), 'healthy', s.what);
  observe(a, 'io_error');
  for (const s of await scrapes()) {
    t.is(stateOf(s.text, a), 'io_error', s.what);
    t.deepEqual(samples(s.text, 'juicefs_volume_path_health', { volume_path: a.path }).map((x) => x.value), [0], s.what);
  }
});

test('a path added between two scrapes is in the next one, and a path removed is gone from it', async (t) => {
  const { remove, observe, scrapes } = setup();
  const [a, b] = [volume(1), volume(2)];
  observe(a, 'healthy');
  for (const s of await scrapes()) t.is(stateOf(s.text, b), undefined, s.what);
  observe(b, 'healthy');
  for (const s of await scrapes()) t.is(stateOf(s.text, b), 'healthy', s.what);
  remove(a);
  for (const s of await scrapes()) {
    t.false(s.text.includes('uid-1'), s.what);
    t.is(stateOf(s.text, b), 'healthy', s.what);
  }
});

test('with path timing, a scrape shows the last probe time even when the state holds', async (t) => {
  const { tracker, observe, scrapes } = setup(true);
  const a = volume(1);
  const probedAt = (text: string) => samples(text, 'juicefs_volume_path_last_probe_timestamp_seconds', { volume_path: a.path })[0]?.value;
  observe(a, 'healthy', 10_000);
  for (const s of await scrapes()) t.is(probedAt(s.text), 10, s.what);
  observe(a, 'healthy', 12_000);
  for (const s of await scrapes()) t.is(probedAt(s.text), 12, s.what);
  // A probe that gave no verdict still moves the time.
  tracker.probed(a.path, { at: 14_000, ms: 5000, source: '0:50 /' });
  for (const s of await scrapes()) t.is(probedAt(s.text), 14, s.what);
});

test('OpenMetrics still ends with one # EOF, after the per-path families; the text format has none', async (t) => {
  const { observe, metrics } = setup();
  observe(volume(1), 'healthy');
  const om = (await metrics.body.render('openmetrics', false)).toString();
  t.true(om.endsWith('\n# EOF\n'));
  t.is(om.indexOf('# EOF'), om.length - '# EOF\n'.length, 'one EOF, at the end');
  t.true(om.indexOf('juicefs_volume_path_health{') < om.indexOf('# EOF'));
  t.false((await metrics.body.render('prometheus', false)).toString().includes('# EOF'));
});

test('the gzip body is one gzip member holding the plain body', async (t) => {
  const { observe, metrics } = setup();
  for (let i = 0; i < 300; i++) observe(volume(i), i % 7 === 0 ? 'disconnected' : 'healthy');
  for (const format of FORMATS) {
    const plain = await metrics.body.render(format, false);
    const gz = await metrics.body.render(format, true);
    t.true(gz.length < plain.length / 4, `${format}: ${gz.length} of ${plain.length} bytes`);
    // One member: its deflate data alone inflates to the whole body, which its trailer describes.
    // (Readers such as curl stop after a first member.)
    t.deepEqual([...gz.subarray(0, 3)], [0x1f, 0x8b, 8]);
    t.true(zlib.inflateRawSync(gz.subarray(10, -8)).equals(plain), format);
    t.is(gz.readUInt32LE(gz.length - 8), zlib.crc32(plain), format);
    t.is(gz.readUInt32LE(gz.length - 4), plain.length, format);
    t.true(zlib.gunzipSync(gz).equals(plain), format);
    const states = [...pathStates(plain.toString()).values()];
    t.is(states.length, 300, format);
    t.is(states.filter((s) => s === 'disconnected').length, 43, format);
  }
});

test('the per-path text is rendered once per change, and only in the formats asked for', async (t) => {
  const { remove, observe, metrics } = setup();
  const rendered: Format[] = [];
  const body = createScrapeBody({
    kept: {
      revision: metrics.pathSeries.revision,
      render(format) {
        rendered.push(format);
        return metrics.pathSeries.render(format);
      },
    },
    fresh: (format) => renderRegistry(metrics.registry, format),
  });
  const a = volume(1);
  observe(a, 'healthy');
  for (let i = 0; i < 3; i++) {
    await body.render('prometheus', false);
    await body.render('prometheus', true);
  }
  t.deepEqual(rendered, ['prometheus']);
  observe(a, 'healthy');
  await body.render('prometheus', true);
  t.deepEqual(rendered, ['prometheus'], 'a verdict that repeats changes nothing');
  observe(a, 'stale');
  await body.render('prometheus', true);
  await body.render('openmetrics', false);
  await body.render('openmetrics', true);
  t.deepEqual(rendered, ['prometheus', 'prometheus', 'openmetrics']);
  remove(a);
  await body.render('openmetrics', true);
  t.deepEqual(rendered, ['prometheus', 'prometheus', 'openmetrics', 'openmetrics']);
});

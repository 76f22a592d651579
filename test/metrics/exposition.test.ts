import test from 'ava';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { renderRegistry, trailer, type Format } from '../../src/metrics/exposition.js';

function registry() {
  const r = new Registry();
  r.setDefaultLabels({ node_name: 'n' });
  new Gauge({ name: 'g', help: 'a "quoted" \\ help\nline', labelNames: ['p'], registers: [r] }).set({ p: 'a "b"\\c\nd' }, 1);
  new Counter({ name: 'c_total', help: 'c', registers: [r] }).inc(2);
  new Histogram({ name: 'h_seconds', help: 'h', buckets: [0.1], registers: [r] }).observe(0.05);
  return r;
}

/** A whole exposition of one Registry, as the scrape body ends it. */
const renderMetrics = async (r: Registry, format: Format) => (await renderRegistry(r, format)) + trailer(format);

test('text format escapes label values and help, and keeps counter names', async (t) => {
  const text = await renderMetrics(registry(), 'prometheus');
  t.true(text.includes('# HELP g a "quoted" \\\\ help\\nline\n'));
  t.true(text.includes('g{p="a \\"b\\"\\\\c\\nd",node_name="n"} 1\n'));
  t.true(text.includes('# TYPE c_total counter\nc_total{node_name="n"} 2\n'));
  t.true(text.includes('h_seconds_bucket{le="+Inf",node_name="n"} 1\n'));
  t.false(text.includes('# EOF'));
});

test('OpenMetrics names counter families without _total, samples with it, and ends with EOF', async (t) => {
  const r = registry();
  const om = await renderMetrics(r, 'openmetrics');
  t.true(om.includes('# TYPE c counter\nc_total{node_name="n"} 2\n'));
  t.true(om.endsWith('# EOF\n'));
  // The registry itself is not altered: text still renders counters as before.
  t.true((await renderMetrics(r, 'prometheus')).includes('# TYPE c_total counter'));
});

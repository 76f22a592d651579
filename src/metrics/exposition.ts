// Renders a Registry in the Prometheus text format or in OpenMetrics, chosen
// per scrape. prom-client ties the format to the Registry and renames counters
// in place when asked for OpenMetrics, so one registry cannot serve both; this
// formats its JSON snapshot instead.

import type { Registry } from 'prom-client';

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type Format = 'prometheus' | 'openmetrics';

export function escapeLabel(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

export function escapeHelp(v: string, format: Format): string {
  const re = format === 'openmetrics' ? /[\\"\n]/g : /[\\\n]/g;
  return v.replace(re, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface JsonMetric {
  name: string;
  help: string;
  type: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

/** The Registry's families, without the OpenMetrics trailer: an exposition may have others (see scrape-body.ts). */
export async function renderRegistry(registry: Registry, format: Format): Promise<string> {
  const metrics = (await registry.getMetricsAsJSON()) as unknown as JsonMetric[];
  const out: string[] = [];
  for (const m of metrics) {
    const isCounter = m.type === 'counter';
    const family = format === 'openmetrics' && isCounter ? m.name.replace(/_total$/, '') : m.name;
    out.push(`# HELP ${family} ${escapeHelp(m.help, format)}\n# TYPE ${family} ${m.type}\n`);
    for (const v of m.values) {
      let name = v.metricName ?? m.name;
      if (format === 'openmetrics' && isCounter && !name.endsWith('_total')) name += '_total';
      let labels = '';
      for (const k in v.labels) {
        const val = v.labels[k];
        if (val === undefined) continue;
        labels += `${labels ? ',' : ''}${k}="${escapeLabel(String(val))}"`;
      }
      out.push(labels ? `${name}{${labels}} ${formatValue(v.value)}\n` : `${name} ${formatValue(v.value)}\n`);
    }
  }
  return out.join('');
}

/** What ends an exposition: OpenMetrics requires `# EOF`, the text format has nothing. */
export function trailer(format: Format): string {
  return format === 'openmetrics' ? '# EOF\n' : '';
}

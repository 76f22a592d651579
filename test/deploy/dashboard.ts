// The Grafana dashboard and the PromQL in it.

import fs from 'node:fs';
import path from 'node:path';
import { MANIFESTS } from './repo.js';

export const DASHBOARD = path.join(MANIFESTS, 'grafana', 'juicefs-path-prober.json');

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { refId: string; expr: string }[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; definition?: string }[] };
}

export function readDashboard(): Dashboard {
  return JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as Dashboard;
}

/** Every query in the dashboard: panel targets and template variable definitions. */
export function dashboardExprs(d: Dashboard = readDashboard()): { where: string; expr: string }[] {
  const targets = d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${p.title}/${t.refId}`, expr: t.expr })));
  const vars = d.templating.list.filter((v) => v.definition).map((v) => ({ where: `$${v.name}`, expr: v.definition! }));
  return [...targets, ...vars];
}

/** The metric names an expression selects: identifiers right before a `{` selector, or in label_values(). */
export function metricNames(expr: string): string[] {
  const selected = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1]!);
  const labelValues = [...expr.matchAll(/label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)/g)].map((m) => m[1]!);
  return [...new Set([...selected, ...labelValues])];
}

/** The dashboard's variables replaced as Grafana would with "All" selected. */
export function asQuery(expr: string): string {
  return expr.replaceAll('$node', '.*');
}

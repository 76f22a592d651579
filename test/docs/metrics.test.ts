// The metrics the docs name are the ones the daemon exports, and every one it exports is
// documented somewhere in the README or docs/*.md.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { docs, pieces, ROOT, where, type Doc } from './markdown.js';
import type { Problem } from './names.js';

/** Metric names registered in src/ (every `juicefs_…` string literal there is one). */
function exported(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) for (const m of fs.readFileSync(p, 'utf8').matchAll(/['"`](juicefs_[a-z0-9_]+)['"`]/g)) names.add(m[1]!);
    }
  };
  walk(path.join(ROOT, 'src'));
  return names;
}

function named(pages: readonly Doc[]): { name: string; where: string }[] {
  const out: { name: string; where: string }[] = [];
  for (const doc of pages) {
    for (const p of pieces(doc)) {
      // A trailing underscore or star is a prefix (`juicefs_path_prober_kube_*`), not a name.
      for (const m of p.text.matchAll(/\b(juicefs_[a-z0-9_]*[a-z0-9])(?![a-z0-9_*])/g)) out.push({ name: m[1]!, where: where(p) });
    }
  }
  return out;
}

function unknownNames(pages: readonly Doc[], metrics: ReadonlySet<string>): Problem[] {
  const base = (n: string) => n.replace(/_(bucket|sum|count)$/, '');
  return named(pages)
    .filter(({ name }) => !metrics.has(name) && !metrics.has(base(name)))
    .map(({ name, where }) => ({ where, what: `${name} is not a metric the daemon exports` }));
}

const metrics = exported();

test('the daemon exports the metrics this test reads from src/', (t) => {
  t.true(metrics.has('juicefs_volume_path_health'));
  t.true(metrics.has('juicefs_path_prober_build_info'));
});

test('every juicefs_* metric the README and docs name is one the daemon exports', (t) => {
  t.deepEqual(unknownNames(docs(), metrics).map((p) => `${p.where}: ${p.what}`), []);
});

test('every metric the daemon exports is documented in the README or docs/', (t) => {
  const documented = new Set(named(docs()).map((n) => n.name));
  t.deepEqual([...metrics].filter((m) => !documented.has(m)).sort(), []);
});

test('the metric check finds a renamed metric and accepts histogram series', (t) => {
  const page = {
    file: 'docs/bogus.md',
    text: 'Alert on `juicefs_volume_path_healthy == 0`; `juicefs_path_prober_probe_duration_seconds_bucket` is a histogram; `juicefs_path_prober_kube_*` are prefixes.\n',
  };
  t.deepEqual(unknownNames([page], metrics).map((p) => `${p.where}: ${p.what}`), ['docs/bogus.md:1: juicefs_volume_path_healthy is not a metric the daemon exports']);
});

// Writes the PrometheusRule's groups as a plain Prometheus rule file, optionally
// changed by `edit` (the e2e test shortens a `for:`; the promtool test breaks a rule).

import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { ruleGroups } from './repo.js';

export type Rule = Record<string, unknown> & { alert?: string; expr: string; for?: string };

export function writeRuleFile(dir: string, edit: (rule: Rule) => Rule = (r) => r): string {
  const groups = ruleGroups().map((g) => ({ ...g, rules: g.rules.map((r) => edit(structuredClone(r) as Rule)) }));
  const file = path.join(dir, 'rules.yaml');
  fs.writeFileSync(file, stringify({ groups }));
  return file;
}

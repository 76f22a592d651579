// The README shows the alert that pages exactly as manifests/prometheusrule.yaml ships it:
// an operator who copies it gets the shipped rule, and a change to one without the other
// fails here. The shipped rule's behaviour is proven by promtool in test/deploy/.
// Any other copy of a shipped alert in the docs is held to the same rule.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ruleGroups } from './deploy/repo.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Rule = Record<string, unknown> & { alert?: string };

/** The README's marked block: the one rule an operator is shown. */
function readmeAlertBlock(readme: string): string | undefined {
  return /<!-- alert-rule[^>]*-->\s*```yaml\n([\s\S]*?)```\s*<!-- \/alert-rule -->/.exec(readme)?.[1];
}

/** Every YAML code block of a Markdown text that defines alerting rules, as rules. */
function alertRulesIn(markdown: string): Rule[] {
  const rules: Rule[] = [];
  for (const m of markdown.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
    if (!/^\s*-?\s*alert:/m.test(m[1]!)) continue;
    const doc = parse(m[1]!) as unknown;
    const found = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(found);
      else if (v && typeof v === 'object') {
        if ('alert' in v) rules.push(v as Rule);
        else Object.values(v).forEach(found);
      }
    };
    found(doc);
  }
  return rules;
}

/** The fields an operator relies on, in a comparable form. */
function essence(r: Rule): object {
  return {
    alert: r.alert,
    expr: String(r.expr).trim(),
    for: r.for,
    labels: r.labels ?? {},
    annotations: r.annotations ?? {},
  };
}

const shipped = new Map(ruleGroups().flatMap((g) => g.rules as Rule[]).filter((r) => r.alert).map((r) => [String(r.alert), r]));

function docsFiles(): string[] {
  const dir = path.join(ROOT, 'docs');
  return ['README.md', ...fs.readdirSync(dir).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

test("the README's alert is the shipped JuiceFSVolumePathUnhealthy: expr, for, labels and annotations", (t) => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = readmeAlertBlock(readme);
  t.truthy(block, 'the README has the marked alert-rule block');
  const rules = alertRulesIn('```yaml\n' + block + '```');
  t.is(rules.length, 1, 'one rule in the block');
  const rule = rules[0]!;
  t.is(rule.alert, 'JuiceFSVolumePathUnhealthy');
  t.deepEqual(essence(rule), essence(shipped.get('JuiceFSVolumePathUnhealthy')!));
});

test('the README shows an alert rule once: no second copy to drift', (t) => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  t.is(alertRulesIn(readme).length, 1);
});

test('every alert rule written out in the README or docs/ is the shipped rule of that name', (t) => {
  let seen = 0;
  for (const file of docsFiles()) {
    for (const rule of alertRulesIn(fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
      seen++;
      const name = String(rule.alert);
      t.true(shipped.has(name), `${file}: ${name} is not an alert manifests/prometheusrule.yaml ships`);
      if (shipped.has(name)) t.deepEqual(essence(rule), essence(shipped.get(name)!), `${file}: ${name} differs from the shipped rule`);
    }
  }
  t.true(seen >= 1);
});

test('the comparison sees a drift in each field an operator relies on', (t) => {
  const rule = shipped.get('JuiceFSVolumePathUnhealthy')!;
  const drifted: Rule[] = [
    { ...rule, for: '1m' },
    { ...rule, expr: 'juicefs_volume_path_health == 0' },
    { ...rule, labels: { severity: 'warning' } },
    { ...rule, annotations: { ...(rule.annotations as object), summary: 'JuiceFS volume is unhealthy' } },
    { ...rule, annotations: { ...(rule.annotations as object), runbook_url: undefined } },
  ];
  for (const d of drifted) t.notDeepEqual(essence(JSON.parse(JSON.stringify(d)) as Rule), essence(rule));
});

import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './repo.js';
import { writeRuleFile } from './rules-file.js';
import { matrix } from './scrape-matrix.js';
import { toolTest } from './tools.js';

const UNIT_TESTS = path.join(ROOT, 'test', 'deploy', 'alerts.promtool.yaml');

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-rules-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function promtool(args: string[], cwd: string): { code: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function unitTest(dir: string): { code: number | null; out: string } {
  fs.copyFileSync(UNIT_TESTS, path.join(dir, 'alerts.promtool.yaml'));
  return promtool(['test', 'rules', 'alerts.promtool.yaml'], dir);
}

toolTest('promtool check rules accepts the PrometheusRule’s groups', ['promtool'], (t) => {
  const dir = tempDir(t);
  writeRuleFile(dir);
  const r = promtool(['check', 'rules', 'rules.yaml'], dir);
  t.log(r.out.trim());
  t.is(r.code, 0, r.out);
  t.regex(r.out, /SUCCESS: \d+ rules found/);
});

toolTest('promtool unit tests: every alert fires when it should and stays silent when it should not', ['promtool'], (t) => {
  const dir = tempDir(t);
  writeRuleFile(dir);
  const r = unitTest(dir);
  t.log(r.out.trim());
  t.is(r.code, 0, r.out);
  // Each alert of the rule file is exercised by the unit tests, firing and silent.
  const tests = fs.readFileSync(UNIT_TESTS, 'utf8');
  const alerts = [...fs.readFileSync(path.join(dir, 'rules.yaml'), 'utf8').matchAll(/alert: (\w+)/g)].map((m) => m[1]!);
  for (const a of alerts) {
    const blocks = tests.split(/alertname: /).slice(1).filter((b) => b.startsWith(`${a}\n`));
    t.true(blocks.some((b) => /exp_alerts: \[\]/.test(b.split('\n').slice(0, 2).join('\n'))), `${a}: a silent case`);
    t.true(blocks.some((b) => /exp_alerts:\n\s+- exp_labels/.test(b)), `${a}: a firing case`);
  }
});

toolTest('the unit tests catch a broken rule: without the `or` fallback no alert fires for a pod the prober cannot name', ['promtool'], (t) => {
  const dir = tempDir(t);
  writeRuleFile(dir, (r) => (r.alert === 'JuiceFSVolumePathUnhealthy' ? { ...r, expr: r.expr.replace(/\)\s*or on[\s\S]*$/, ')') } : r));
  t.notRegex(fs.readFileSync(path.join(dir, 'rules.yaml'), 'utf8'), /or on/);
  const r = unitTest(dir);
  t.not(r.code, 0);
  t.regex(r.out, /alertname: JuiceFSVolumePathUnhealthy[\s\S]*vol-c/);
});

/** Writes the scrape matrix's unit test files beside rules.yaml and runs them all. */
function runMatrix(dir: string): { code: number | null; out: string; files: string[] } {
  const cases = matrix();
  for (const c of cases) fs.writeFileSync(path.join(dir, c.file), c.yaml);
  return { ...promtool(['test', 'rules', ...cases.map((c) => c.file)], dir), files: cases.map((c) => c.file) };
}

toolTest('the unhealthy alert fires once per broken path, naming its pod, however the prober is scraped and whatever the CSI plugin says', ['promtool'], (t) => {
  const dir = tempDir(t);
  writeRuleFile(dir);
  const r = runMatrix(dir);
  t.log(r.out.trim());
  t.is(r.code, 0, r.out);
  t.is(r.files.length, 6, 'own, the driver’s, both; with and without the plugin');
  for (const f of r.files) t.regex(r.out, new RegExp(`Unit Testing:\\s+${f.replaceAll('.', '\\.')}\\s+SUCCESS`), f);
});

toolTest('the scrape matrix catches a rule that reads the CSI plugin’s series: its stale 1 hides the broken path', ['promtool'], (t) => {
  const dir = tempDir(t);
  const filter = /\s*and on \(instance\) juicefs_path_prober_build_info/g;
  writeRuleFile(dir, (r) => (r.alert === 'JuiceFSVolumePathUnhealthy' ? { ...r, expr: r.expr.replace(filter, '') } : r));
  t.notRegex(fs.readFileSync(path.join(dir, 'rules.yaml'), 'utf8'), /and on \(instance\)/);
  const r = runMatrix(dir);
  t.not(r.code, 0);
  // Without the plugin's series the rule is still right; with them, the broken path goes silent.
  t.regex(r.out, /csi-plugin-absent\.promtool\.yaml\s+SUCCESS/);
  t.regex(r.out, /csi-plugin-present\.promtool\.yaml\s+FAILED[\s\S]*pv-broken/);
});

toolTest('the scrape matrix catches a join that is not one-to-one: two monitors give every path two info series', ['promtool'], (t) => {
  const dir = tempDir(t);
  writeRuleFile(dir, (r) =>
    r.alert === 'JuiceFSVolumePathUnhealthy' ? { ...r, expr: r.expr.replace(/topk by \(volume_id, volume_path, pod_uid\) \(1,([^)]*)\)/, '($1)') } : r,
  );
  t.notRegex(fs.readFileSync(path.join(dir, 'rules.yaml'), 'utf8'), /topk/);
  const r = runMatrix(dir);
  t.not(r.code, 0);
  t.regex(r.out, /unhealthy\.doc-monitors\.csi-plugin-present\.promtool\.yaml\s+SUCCESS/, 'one monitor: one info series per path');
  t.regex(r.out, /unhealthy\.both-monitors\.[\s\S]*(many-to-many|duplicate series)/);
});

test('the unit test file names the rule file the test writes', (t) => {
  t.regex(fs.readFileSync(UNIT_TESTS, 'utf8'), /^rule_files:\n\s+- rules\.yaml$/m);
});

// Tests that need an outside program (promtool, prometheus): they skip with the
// reason when it is missing, and fail under CI=true, where .ci/run installs it.

import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { privileges } from '../fixtures/guard.js';

export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function missing(tools: readonly string[], needMounts: boolean): string | undefined {
  const absent = tools.filter((t) => !hasTool(t));
  if (absent.length > 0) return `needs ${absent.join(', ')} (Debian package prometheus)`;
  if (needMounts && !privileges.ok) return privileges.reason;
  return undefined;
}

export function toolTest(
  title: string,
  tools: readonly string[],
  fn: (t: ExecutionContext) => Promise<void> | void,
  opts: { mounts?: boolean; serial?: boolean } = {},
): void {
  const reason = missing(tools, opts.mounts ?? false);
  if (reason === undefined) {
    (opts.serial || opts.mounts ? test.serial : test)(title, fn);
  } else if (process.env.CI === 'true') {
    test(title, (t) => t.fail(`cannot run under CI: ${reason}`));
  } else {
    test.skip(`${title} [skipped: ${reason}]`, fn);
  }
}

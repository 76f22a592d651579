// Tests that need an outside program (promtool, prometheus, kubectl): they skip
// with the reason when it is missing, and fail under CI=true, where .ci/run installs it.

import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { privileges } from '../fixtures/guard.js';

export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

// The Debian package .ci/run installs for each program.
const PACKAGE: Record<string, string> = { promtool: 'prometheus', prometheus: 'prometheus', kubectl: 'kubernetes-client' };

function missing(tools: readonly string[], needMounts: boolean): string | undefined {
  const absent = tools.filter((t) => !hasTool(t));
  if (absent.length > 0) {
    const pkgs = [...new Set(absent.map((t) => PACKAGE[t] ?? t))];
    return `needs ${absent.join(', ')} (Debian package${pkgs.length > 1 ? 's' : ''} ${pkgs.join(', ')})`;
  }
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

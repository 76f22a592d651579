// Tests that need an outside program (promtool, prometheus): see `requires` in
// fixtures/harness.ts; .ci/run installs them, so under CI=true they must run.

import type { ExecutionContext } from 'ava';
import { requires, type Need } from '../fixtures/harness.js';

export { hasTool } from '../fixtures/harness.js';

export function toolTest(
  title: string,
  tools: readonly string[],
  fn: (t: ExecutionContext) => Promise<void> | void,
  opts: { mounts?: boolean; serial?: boolean } = {},
): void {
  const needs: Need[] = [...tools.map((tool) => ({ tool, why: 'Debian package prometheus' })), ...(opts.mounts ? (['mounts'] as const) : [])];
  const guarded = requires(...needs);
  (opts.serial ? guarded.serial : guarded)(title, fn);
}

// Tests that need an outside program (promtool, prometheus, kubectl): see
// `requires` in fixtures/harness.ts; they skip with the reason when it is
// missing, and fail under CI=true, where .ci/run installs it.

import type { ExecutionContext } from 'ava';
import { requires, type Need } from '../fixtures/harness.js';

export { hasTool } from '../fixtures/harness.js';

// The Debian package .ci/run installs for each program.
const PACKAGE: Record<string, string> = { promtool: 'prometheus', prometheus: 'prometheus', kubectl: 'kubernetes-client' };

export function toolTest(
  title: string,
  tools: readonly string[],
  fn: (t: ExecutionContext) => Promise<void> | void,
  opts: { mounts?: boolean; serial?: boolean } = {},
): void {
  const needs: Need[] = [...tools.map((tool) => ({ tool, why: `Debian package ${PACKAGE[tool] ?? tool}` })), ...(opts.mounts ? (['mounts'] as const) : [])];
  const guarded = requires(...needs);
  (opts.serial ? guarded.serial : guarded)(title, fn);
}

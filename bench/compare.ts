// `npm run bench:compare -- --before=<checkout>`: this build against another one on
// the realistic node (110 pods × 3 volumes, Kubernetes mode on), each started as its
// own image starts it (its Dockerfile's ENV and ENTRYPOINT node flags). The runs are
// interleaved, the order rotated each round, so a busy minute on a shared machine
// weighs on every build alike; medians per build, ranges beside them.
// Root and /dev/fuse; runs itself in a private mount namespace.
//
//   node dist/bench/compare.js --before=<dir> [--rounds=3] [--warmup-s=30] [--window-s=120]
//                              [--variant='<name>:<--node-flag|ENV=value> …'] …
//
// <dir> is another checkout, built (`npm ci && npm run build` there). A variant is this
// build with more node flags or environment, to weigh a runtime setting before the image
// takes it: --variant='arena2:MALLOC_ARENA_MAX=2' --variant='pool2:--v8-pool-size=2'.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLI } from '../test/fixtures/daemon.js';
import { cleanupAll, mountPrivileges, reexecInPrivateMountNamespace } from '../test/fixtures/mounts.js';
import { imageRuntime, type ImageRuntime } from './lib/image-runtime.js';
import { describeMachine } from './lib/machine.js';
import { IMAGE, startProber, type Build } from './lib/prober.js';
import { median, round } from './lib/stats.js';
import { assertAllHealthy, buildRealisticNode, measure, NODE } from './scenarios/realistic.js';

reexecInPrivateMountNamespace(fileURLToPath(import.meta.url), process.argv.slice(2));

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    'warmup-s': { type: 'string', default: '30' },
    'window-s': { type: 'string', default: '120' },
    variant: { type: 'string', multiple: true, default: [] },
  },
});

function fail(msg: string): never {
  process.stderr.write(`bench:compare: ${msg}\n`);
  process.exit(2);
}

function positive(name: string): number {
  const n = Number(values[name as 'rounds']);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a whole number of at least 1, got ${JSON.stringify(values[name as 'rounds'])}`);
  return n;
}

/** Another checkout's CLI and the way its image starts it. */
function checkout(dir: string): Build {
  const cli = path.join(dir, 'dist/src/cli/index.js');
  if (!fs.existsSync(cli)) fail(`--before: ${cli} does not exist (build that checkout first: npm ci && npm run build)`);
  const dockerfile = path.join(dir, 'Dockerfile');
  if (!fs.existsSync(dockerfile)) fail(`--before: ${dockerfile} does not exist`);
  return { cli, image: imageRuntime(fs.readFileSync(dockerfile, 'utf8')) };
}

/** `name:--flag ENV=value …`: this build, its image's settings plus these. */
function variant(spec: string): [string, Build] {
  const [name, rest = ''] = spec.split(/:(.*)/s) as [string, string?];
  if (!name || !rest.trim()) fail(`--variant: expected '<name>:<--node-flag|ENV=value> …', got ${JSON.stringify(spec)}`);
  const env: Record<string, string> = { ...IMAGE.env };
  const nodeArgs = [...IMAGE.nodeArgs];
  for (const token of rest.trim().split(/\s+/)) {
    if (token.startsWith('--')) nodeArgs.push(token);
    else if (/^[A-Za-z_]\w*=/.test(token)) env[token.slice(0, token.indexOf('='))] = token.slice(token.indexOf('=') + 1);
    else fail(`--variant ${name}: ${JSON.stringify(token)} is neither a node flag (--…) nor ENV=value`);
  }
  const image: ImageRuntime = { env, nodeArgs };
  return [name, { cli: CLI, image }];
}

interface Run {
  readonly round: number;
  readonly build: string;
  readonly anonMiB: number;
  readonly anonMaxMiB: number;
  readonly pssMiB: number;
  readonly cpuMsPerMinute: number;
  readonly scrapeP50Ms: number;
  readonly firstCycleS: number;
  readonly load1m: number;
}

async function main(): Promise<void> {
  if (!values.before) fail('--before=<checkout> is required');
  if (!mountPrivileges().ok) fail(`needs ${mountPrivileges().reason}`);
  const rounds = positive('rounds');
  const window = { warmupMs: positive('warmup-s') * 1000, windowMs: positive('window-s') * 1000, scrapeEveryMs: 15_000 };
  const builds: [string, Build | undefined][] = [['before', checkout(path.resolve(values.before))], ['after', undefined], ...values.variant.map(variant)];

  const machine = describeMachine();
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, load ${machine.loadavg1m}`);
  const perRun = window.warmupMs + window.windowMs + 15_000;
  const node = await buildRealisticNode({ pods: 110, volumesPerPod: 3, podsPerPv: 2 }, rounds * builds.length * perRun + 15 * 60_000);
  const runs: Run[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < builds.length; i++) {
        const [name, build] = builds[(i + r) % builds.length]!;
        const prober = await startProber(node.kubeletDir, ['--node-name', NODE, '--kubeconfig', node.kubeconfig], 120_000, { JFS_PROBER_KUBE: 'auto' }, build);
        try {
          const url = `${prober.daemon.url}/metrics`;
          const m = await measure(prober.pid, url, window, false);
          await assertAllHealthy(url, node.published);
          const run: Run = { round: r + 1, build: name, anonMiB: m.anonMiB, anonMaxMiB: m.anonMaxMiB, pssMiB: m.pssMiB, cpuMsPerMinute: m.cpuMsPerMinute, scrapeP50Ms: m.scrapeP50Ms, firstCycleS: prober.readyMs / 1000, load1m: describeMachine().loadavg1m };
          runs.push(run);
          process.stderr.write(`${JSON.stringify(Object.fromEntries(Object.entries(run).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])))}\n`);
        } finally {
          await prober.stop();
        }
      }
    }
  } finally {
    await node.close();
  }

  const cols = ['anonMiB', 'anonMaxMiB', 'pssMiB', 'cpuMsPerMinute', 'scrapeP50Ms', 'firstCycleS'] as const;
  console.log(`\n${rounds} rounds, warm-up ${window.warmupMs / 1000} s, window ${window.windowMs / 1000} s, a scrape every 15 s: median (min–max)\n`);
  console.log(`| build | ${cols.join(' | ')} |`);
  console.log(`|---|${cols.map(() => '---').join('|')}|`);
  for (const [name] of builds) {
    const mine = runs.filter((x) => x.build === name);
    const cell = (c: (typeof cols)[number]) => {
      const xs = mine.map((x) => x[c]);
      return `${round(median(xs), 1)} (${round(Math.min(...xs), 1)}–${round(Math.max(...xs), 1)})`;
    };
    console.log(`| ${name} | ${cols.map(cell).join(' | ')} |`);
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench:compare failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());

// The image cannot be built here (no container engine), so its final stage is
// rebuilt in a clean temp dir the way the Dockerfile builds it: package files,
// `npm ci --omit=dev`, the built dist/src; then the CLI runs from there.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mountTest } from '../fixtures/harness.js';
import { createKubeletTree, newPodUid } from '../fixtures/kubelet-tree.js';
import { cleanupAll, startFuse } from '../fixtures/mounts.js';
import { ROOT } from './repo.js';

const DOCKERFILE = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Every package the lock file installs without dev dependencies: a dev tool may also be a runtime one's dependency. */
function prodTree(app: string): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && !v.dev)
    .map(([k]) => k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length));
}

let layer: Promise<string> | undefined;
/** /app of the final stage, in a temp dir; built once for the file. */
function runtimeLayer(): Promise<string> {
  layer ??= (async () => {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-image-'));
    process.on('exit', () => fs.rmSync(app, { recursive: true, force: true }));
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, f), path.join(app, f));
    const npm = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, encoding: 'utf8', timeout: 300_000 });
    if (npm.status !== 0) throw new Error(`npm ci --omit=dev failed: ${npm.stdout}${npm.stderr}`);
    fs.cpSync(path.join(ROOT, 'dist', 'src'), path.join(app, 'dist', 'src'), { recursive: true });
    fs.chmodSync(path.join(app, 'dist', 'src', 'cli', 'index.js'), 0o755);
    return app;
  })();
  return layer;
}

/** The final stage's ENTRYPOINT script, as a path under /app. */
function entrypointScript(): string {
  const final = DOCKERFILE.split(/^FROM /m).at(-1)!;
  const m = /^ENTRYPOINT \["node", (?:"--[^"]+", )*"\/app\/([^"]+)"\]$/m.exec(final);
  if (!m) throw new Error('no exec-form ENTRYPOINT running node on a script under /app');
  return m[1]!;
}

test('the Dockerfile is multi-stage, ships dist/src and production dependencies only, on Node 24, with OCI labels', (t) => {
  t.true(DOCKERFILE.split(/^FROM /m).length - 1 >= 2, 'multi-stage');
  t.regex(DOCKERFILE, /^ARG NODE_IMAGE=node:24[-.\w]*slim$/m);
  const final = DOCKERFILE.split(/^FROM /m).at(-1)!;
  const copies = [...final.matchAll(/^COPY (.+)$/gm)].map((m) => m[1]);
  t.deepEqual(copies, ['--from=deps /app/node_modules ./node_modules', '--from=build /src/dist/src ./dist/src', 'package.json ./']);
  t.regex(DOCKERFILE, /npm ci --omit=dev/);
  for (const l of ['title', 'description', 'version', 'licenses']) t.regex(final, new RegExp(`org\\.opencontainers\\.image\\.${l}=`));
  t.is(entrypointScript(), 'dist/src/cli/index.js');
  t.true(fs.existsSync(path.join(ROOT, entrypointScript())), 'the entrypoint is what `npm run build` produces');
  const ignore = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8');
  t.regex(ignore, /^\*$/m, '.dockerignore starts from nothing');
});

test('the runtime layer holds production dependencies only, and the CLI runs from it: --help, --version', async (t) => {
  t.timeout(360_000);
  const app = await runtimeLayer();
  const installed = (name: string) => fs.existsSync(path.join(app, 'node_modules', name, 'package.json'));
  for (const dep of Object.keys(pkg.dependencies)) t.true(installed(dep), `${dep} installed`);
  const needed = new Set(prodTree(app));
  for (const dev of Object.keys(pkg.devDependencies)) if (!needed.has(dev)) t.false(installed(dev), `${dev} not installed`);
  // Nothing above the temp dir can lend it modules.
  for (let d = path.dirname(app); d !== '/'; d = path.dirname(d)) t.false(fs.existsSync(path.join(d, 'node_modules')), `${d}/node_modules`);

  const cli = path.join(app, entrypointScript());
  const help = spawnSync(cli, ['--help'], { encoding: 'utf8', timeout: 60_000 });
  t.is(help.status, 0, help.stderr);
  t.regex(help.stdout, /^Usage: juicefs-path-prober/);
  const version = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8', timeout: 60_000 });
  t.is(version.stdout.trim(), pkg.version, 'reads the package.json beside dist/');
});

mountTest('the CLI from the runtime layer checks a real healthy FUSE mount, and reports a dead one', async (t) => {
  t.timeout(360_000);
  const app = await runtimeLayer();
  const tree = createKubeletTree('image');
  t.teardown(() => {
    cleanupAll();
    tree.remove();
  });
  const uid = newPodUid();
  const fuse = await startFuse(path.join(tree.root, 'jfs', 'pv-a'));
  const vol = tree.publish(uid, 'pv-a', { mountFrom: fuse.mnt });
  const cli = path.join(app, entrypointScript());
  const ok = spawnSync(cli, ['check', '--kubelet-dir', tree.kubeletDir], { encoding: 'utf8', timeout: 60_000 });
  t.log(ok.stdout.trim());
  t.is(ok.status, 0, ok.stdout + ok.stderr);
  t.regex(ok.stdout, /pv-a\s+\S+\s+healthy/);
  await fuse.kill();
  const bad = spawnSync(cli, ['check', '--kubelet-dir', tree.kubeletDir], { encoding: 'utf8', timeout: 60_000 });
  t.is(bad.status, 1, bad.stdout + bad.stderr);
  t.regex(bad.stdout, /pv-a\s+\S+\s+disconnected/);
});

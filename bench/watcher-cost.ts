// `npm run bench:watcher`: what the pods watcher costs on a realistic node's
// tree (110 pods × 3 CSI volumes by default), alone in a process of its own:
// anonymous memory and live heap once its module is loaded and once it is
// ready, and what it keeps, from two heap snapshots compared by constructor.
// No root needed: the watcher never looks at a mount point, so none is made.
//
//   node dist/bench/watcher-cost.js [--pods=110] [--volumes=3] [--top=12] [--no-snapshot]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { createKubeletTree, newPodUid } from '../test/fixtures/kubelet-tree.js';
import { IMAGE } from './lib/prober.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const MiB = 2 ** 20;
const SETTLE_MS = 10_000;

interface Figures {
  readonly anonMiB: number;
  readonly heapMiB: number;
}

/** Anonymous resident memory and live heap, after a full collection. */
function figures(): Figures {
  (globalThis as { gc?: () => void }).gc?.();
  const anonKiB = Number(/^RssAnon:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  return { anonMiB: anonKiB / 1024, heapMiB: process.memoryUsage().heapUsed / MiB };
}

/** Object count and self size per kind (constructor name for objects and closures) in a heap snapshot. */
function heapKinds(): Map<string, { count: number; bytes: number }> {
  const file = path.join(os.tmpdir(), `watcher-cost-${process.pid}-${Date.now()}.heapsnapshot`);
  v8.writeHeapSnapshot(file);
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  fs.rmSync(file);
  const fields = snap.snapshot.meta.node_fields;
  const [typeNames] = snap.snapshot.meta.node_types;
  const at = (f: string) => fields.indexOf(f);
  const [TYPE, NAME, SIZE] = [at('type'), at('name'), at('self_size')];
  const kinds = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = typeNames[snap.nodes[i + TYPE]!]!;
    const key = type === 'object' || type === 'closure' ? `${snap.strings[snap.nodes[i + NAME]!]}${type === 'closure' ? '()' : ''}` : `(${type})`;
    const k = kinds.get(key) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += snap.nodes[i + SIZE]!;
    kinds.set(key, k);
  }
  return kinds;
}

/** The watcher on `kubeletDir`, ready; closed again by the returned function. */
async function startWatcher(kubeletDir: string): Promise<() => Promise<void>> {
  const { watchPods } = await import('../src/discovery/watcher.js');
  const { createKubeletLayout } = await import('../src/discovery/kubelet-layout.js');
  const { createLogger } = await import('../src/log/logger.js');
  const w = watchPods({ layout: createKubeletLayout(kubeletDir), logger: createLogger({ write: () => {} }), onPodChange: () => {} });
  await w.ready;
  return () => w.close();
}

const r = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Memory: module loaded, then watcher ready (no snapshot taken: writing one grows the process). */
async function memoryChild(kubeletDir: string, dirs: number) {
  const start = figures();
  await import('../src/discovery/watcher.js');
  const loaded = figures();
  const close = await startWatcher(kubeletDir);
  const ready = figures();
  // The first scan's garbage is given back to the system over the next seconds.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const settled = figures();
  console.log(`watched directories: ${dirs} (pods/ and 3 per pod); NODE_OPTIONS as in the image`);
  console.log(`module load: anon +${r(loaded.anonMiB - start.anonMiB)} MiB, heap +${r(loaded.heapMiB - start.heapMiB)} MiB`);
  console.log(`watcher ready: anon +${r(ready.anonMiB - loaded.anonMiB)} MiB, heap +${r(ready.heapMiB - loaded.heapMiB)} MiB (${r(((ready.heapMiB - loaded.heapMiB) * 1024) / dirs)} KiB per directory)`);
  console.log(`${SETTLE_MS / 1000} s later: anon +${r(settled.anonMiB - loaded.anonMiB)} MiB, heap +${r(settled.heapMiB - loaded.heapMiB)} MiB`);
  await close();
}

/** What the ready watcher keeps: a heap snapshot before and after, by kind. */
async function heapChild(kubeletDir: string, dirs: number, top: number) {
  await import('../src/discovery/watcher.js');
  figures();
  const before = heapKinds();
  const close = await startWatcher(kubeletDir);
  figures();
  const after = heapKinds();
  const kept = [...after]
    .map(([kind, a]) => {
      const b = before.get(kind) ?? { count: 0, bytes: 0 };
      return { kind, count: a.count - b.count, bytes: a.bytes - b.bytes };
    })
    .filter((k) => k.bytes > 0)
    .sort((x, y) => y.bytes - x.bytes);
  const keptBytes = kept.reduce((s, k) => s + k.bytes, 0);
  console.log(`kept between the snapshots: ${r(keptBytes / MiB)} MiB, ${r(keptBytes / 1024 / dirs)} KiB per directory; by kind:`);
  console.log('| kind | objects | per directory | KiB |');
  console.log('|---|---|---|---|');
  for (const k of kept.slice(0, top)) console.log(`| ${k.kind} | ${k.count} | ${r(k.count / dirs, 1)} | ${r(k.bytes / 1024, 1)} |`);
  await close();
}

if (argv[0] === '--child') {
  const [, mode, kubeletDir, dirs, top] = argv;
  if (mode === 'memory') await memoryChild(kubeletDir!, Number(dirs));
  else await heapChild(kubeletDir!, Number(dirs), Number(top));
} else {
  const pods = flag('pods', 110);
  const volumes = flag('volumes', 3);
  const tree = createKubeletTree('bench-watcher');
  try {
    for (let p = 0; p < pods; p++) {
      const uid = newPodUid();
      for (let v = 0; v < volumes; v++) tree.publish(uid, `pvc-${p}-${v}`);
    }
    const self = fileURLToPath(import.meta.url);
    const args = [tree.kubeletDir, String(1 + 3 * pods), String(flag('top', 12))];
    const { NODE_OPTIONS: imageOptionsText = '', ...imageEnv } = IMAGE.env;
    const imageOptions = [...imageOptionsText.split(' ').filter(Boolean), ...IMAGE.nodeArgs];
    const modes = [['memory', imageOptions], ['heap', []]] as const;
    // A snapshot of a large heap is larger than this process may parse.
    for (const [mode, nodeArgs] of argv.includes('--no-snapshot') ? modes.slice(0, 1) : modes) {
      const c = spawnSync(process.execPath, ['--expose-gc', ...nodeArgs, self, '--child', mode, ...args], { stdio: 'inherit', env: { ...process.env, ...(mode === 'memory' ? imageEnv : {}) } });
      if (c.status !== 0) process.exitCode = c.status ?? 1;
    }
  } finally {
    tree.remove();
  }
}

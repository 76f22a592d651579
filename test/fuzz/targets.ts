// Property-based fuzz targets for everything that reads outside input: the
// mount table, vol_data.json, kubelet path names, the helper's line protocol,
// durations and flags. Shared by the test suite (a smoke run, seed.ts) and
// `npm run fuzz` (as many runs as asked).

import fc from 'fast-check';
import path from 'node:path';
import { parseCommandLine, parseListen } from '../../src/cli/args.js';
import { formatDuration, parseDuration } from '../../src/cli/duration.js';
import type { DiscoveryFs } from '../../src/discovery/discovery-fs.js';
import { createKubeletLayout, isPlainName } from '../../src/discovery/kubelet-layout.js';
import { scanAll } from '../../src/discovery/scan.js';
import { parseVolData, VOL_DATA_MAX_BYTES } from '../../src/discovery/vol-data.js';
import { MalformedFileError, UsageError } from '../../src/errors.js';
import { decodeRequest, decodeResponse, encodeErr, encodeOk, encodeRequest } from '../../src/probe/helper-protocol.js';
import { MOUNTINFO_PROPERTIES } from '../fixtures/mountinfo-grammar.js';

export interface Target {
  readonly name: string;
  /** Relative cost: the script gives cheap targets more runs for the same time. */
  readonly property: () => fc.IAsyncPropertyWithHooks<unknown> | fc.IPropertyWithHooks<unknown>;
}

/** One character of a hostile name: the kernel's escaped ones, separators, dots, and any Unicode. */
const hostileChar = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(' ', '\t', '\n', '\r', '\\', '\\040', '\\0', '-', '/', '.', '..', ':', '#', '~', '\u00e9', '\u{1F600}', '\u200b', '\ufeff') },
);
const hostileString = (minLength = 0, maxLength = 24) => fc.string({ unit: hostileChar, minLength, maxLength });
// A tiny in-memory kubelet tree, so scans can be fuzzed at thousands of cases a second.
type VolDataCase = { kind: 'ours' | 'other-driver'; handle: string } | { kind: 'junk'; text: string } | { kind: 'missing' } | { kind: 'eacces' } | { kind: 'huge' };
const volDataCase: fc.Arbitrary<VolDataCase> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('ours' as const), handle: hostileString(1, 20) }) },
  fc.record({ kind: fc.constant('other-driver' as const), handle: hostileString(1, 20) }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('junk' as const), text: fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v) ?? '')) }) },
  fc.record({ kind: fc.constant('missing' as const) }),
  fc.record({ kind: fc.constant('eacces' as const) }),
  fc.record({ kind: fc.constant('huge' as const) }),
);
const podModel = fc.uniqueArray(
  fc.record({ uid: hostileString(1, 12), pvs: fc.uniqueArray(fc.record({ pv: hostileString(1, 12), data: volDataCase }), { maxLength: 4, selector: (p) => p.pv }) }),
  { maxLength: 4, selector: (p) => p.uid },
);

function memoryFs(files: Map<string, string | NodeJS.ErrnoException>, dirs: Map<string, string[]>): DiscoveryFs {
  const enoent = (p: string) => Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  return {
    async list(dir) {
      const names = dirs.get(dir);
      if (!names) throw enoent(dir);
      return [...names];
    },
    async listEntries(dir) {
      return (await this.list(dir)).map((name) => ({ name, symlink: false }));
    },
    realpath: async (p) => p,
    async readSmallFile(file, max) {
      const f = files.get(file);
      if (f === undefined) throw enoent(file);
      if (typeof f !== 'string') throw f;
      return f.slice(0, max + 1);
    },
  };
}

export const TARGETS: readonly Target[] = [
  ...MOUNTINFO_PROPERTIES,
  {
    name: 'vol_data.json: any text parses to two non-empty strings or is a MalformedFileError, and good files round-trip',
    property: () =>
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.record({ driverName: fc.oneof(fc.string(), fc.jsonValue()), volumeHandle: fc.oneof(fc.string(), fc.jsonValue()), extra: fc.jsonValue() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
        ),
        (text) => {
          try {
            const d = parseVolData('/f', text);
            if (typeof d.driverName !== 'string' || !d.driverName || typeof d.volumeHandle !== 'string' || !d.volumeHandle) throw new Error('bad result');
            const o = JSON.parse(text) as Record<string, unknown>;
            if (o.driverName !== d.driverName || o.volumeHandle !== d.volumeHandle) throw new Error('did not round-trip');
          } catch (err) {
            if (!(err instanceof MalformedFileError)) throw err;
          }
        },
      ),
  },
  {
    name: 'kubelet tree scan: hostile names never escape the pods directory, and a bad vol_data.json never hides a good one',
    property: () =>
      fc.asyncProperty(podModel, async (pods) => {
        const layout = createKubeletLayout('/var/lib/kubelet');
        const files = new Map<string, string | NodeJS.ErrnoException>();
        const dirs = new Map<string, string[]>([[layout.podsDir, pods.map((p) => p.uid)]]);
        const want = new Set<string>();
        const bad = new Set<string>();
        for (const pod of pods) {
          if (!isPlainName(pod.uid)) continue;
          dirs.set(layout.csiDir(pod.uid), pod.pvs.map((p) => p.pv));
          for (const { pv, data } of pod.pvs) {
            if (!isPlainName(pv)) continue;
            const file = layout.volDataPath(pod.uid, pv);
            if (data.kind === 'ours' || data.kind === 'other-driver') {
              files.set(file, JSON.stringify({ driverName: data.kind === 'ours' ? 'csi.juicefs.com' : 'nfs.csi.k8s.io', volumeHandle: data.handle }));
              if (data.kind === 'ours') want.add(`${layout.mountPath(pod.uid, pv)}\0${data.handle}`);
            } else if (data.kind === 'junk') {
              files.set(file, data.text);
            } else if (data.kind === 'huge') {
              files.set(file, JSON.stringify({ driverName: 'csi.juicefs.com', volumeHandle: 'x'.repeat(VOL_DATA_MAX_BYTES) }));
              bad.add(file);
            } else if (data.kind === 'eacces') {
              files.set(file, Object.assign(new Error('EACCES'), { code: 'EACCES' }));
              bad.add(file);
            }
          }
        }
        const scan = await scanAll({ layout, drivers: new Set(['csi.juicefs.com']), fs: memoryFs(files, dirs) });
        const got = new Set<string>();
        for (const pod of scan.pods) {
          for (const v of pod.volumes) {
            if (!v.path.startsWith(layout.podsDir + '/') || path.normalize(v.path) !== v.path || layout.classify(path.dirname(v.path))?.kind !== 'pv-dir') {
              throw new Error(`path outside the layout: ${JSON.stringify(v.path)}`);
            }
            got.add(`${v.path}\0${v.volumeId}`);
          }
        }
        for (const w of want) if (!got.has(w)) throw new Error(`lost ${JSON.stringify(w)}`);
        if (got.size !== want.size) throw new Error('found a volume that is not there');
        const problems = new Set(scan.pods.flatMap((p) => p.problems.map((x) => x.file)));
        for (const b of bad) if (!problems.has(b)) throw new Error(`unreported ${b}`);
      }),
  },
  {
    name: 'kubelet layout: a path classifies back to the names it was built from, and nothing with a separator or dot-dot classifies',
    property: () =>
      fc.property(hostileString(1, 16), hostileString(1, 16), (uid, pv) => {
        const layout = createKubeletLayout('/var/lib/kubelet');
        const plain = isPlainName(uid) && isPlainName(pv);
        const pos = layout.classify(`${layout.podsDir}/${uid}/volumes/kubernetes.io~csi/${pv}`);
        if (plain) {
          if (pos?.kind !== 'pv-dir' || pos.podUid !== uid || pos.pv !== pv) throw new Error('did not round-trip');
          if (!layout.mountPath(uid, pv).startsWith(layout.podsDir + '/')) throw new Error('escaped');
        } else if (pos && (pos.podUid === uid || (pos.kind === 'pv-dir' && pos.pv === pv))) {
          throw new Error(`classified a hostile name: ${JSON.stringify(pos)}`);
        }
      }),
  },
  {
    name: 'helper protocol: any path and any answer round-trip through one line',
    property: () =>
      fc.property(fc.nat(), fc.oneof(hostileString(0, 40), fc.string({ unit: 'binary' })), hostileString(0, 40), (id, p, msg) => {
        const req = encodeRequest(id, p);
        if (req.indexOf('\n') !== req.length - 1) throw new Error('request spans lines');
        const back = decodeRequest(req.slice(0, -1));
        if (back?.id !== id || back.path !== p) throw new Error('request did not round-trip');
        const err = decodeResponse(encodeErr(id, 'EIO', msg).slice(0, -1));
        if (err?.ok !== false || err.message !== msg) throw new Error('error did not round-trip');
        const ok = decodeResponse(encodeOk(id, '0:52', '1').slice(0, -1));
        if (ok?.ok !== true || ok.dev !== '0:52') throw new Error('ok did not round-trip');
        decodeResponse(p);
        decodeRequest(p);
      }),
  },
  {
    name: 'durations: any text is a whole number of ms or undefined, and formatted durations parse back',
    property: () =>
      fc.property(
        fc.oneof(fc.string(), fc.stringMatching(/^(\d{1,25}(\.\d{1,5})?(ms|s|m|h)){1,4}$/)),
        fc.nat({ max: 2 ** 31 - 1 }),
        (text, ms) => {
          const d = parseDuration(text);
          if (d !== undefined && !(Number.isSafeInteger(d) && d >= 0)) throw new Error(`bad duration ${d} for ${JSON.stringify(text)}`);
          if (parseDuration(formatDuration(ms)) !== ms) throw new Error(`${ms} did not round-trip`);
        },
      ),
  },
  {
    name: 'flags: any command line and environment give a usable config or a UsageError naming the problem',
    property: () => {
      const flagNames = ['--kubelet-dir', '--mountinfo', '--driver', '--fs-type', '--interval', '--timeout', '--resync', '--publish-grace', '--listen', '--node-name', '--log-level', '--helper-threads'];
      const value = fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^\d{1,12}(ms|s|m|h)$/), fc.constantFrom('', ' ', '0', '-1', ':0', '[::1]:9', '1e3', '10s', 'info', 'x,y', ','));
      const arg = fc.oneof(
        fc.tuple(fc.constantFrom(...flagNames), value).map(([f, v]) => [f, v]),
        fc.tuple(fc.constantFrom(...flagNames), value).map(([f, v]) => [`${f}=${v}`]),
        fc.constantFrom(['serve'], ['check'], ['--'], ['-x'], ['--nope']),
        fc.string({ maxLength: 8 }).map((s) => [s]),
      );
      const envVars = ['JFS_PROBER_INTERVAL', 'JFS_PROBER_TIMEOUT', 'JFS_PROBER_RESYNC', 'JFS_PROBER_LISTEN', 'JFS_PROBER_HELPER_THREADS', 'JFS_PROBER_DRIVER', 'NODE_NAME'];
      return fc.property(fc.array(arg, { maxLength: 6 }), fc.dictionary(fc.constantFrom(...envVars), value, { maxKeys: 3 }), (args, env) => {
        let r;
        try {
          r = parseCommandLine(args.flat(), env);
        } catch (err) {
          if (!(err instanceof UsageError)) throw err;
          if (err.message.includes('\n    at ')) throw new Error('stack in message');
          return;
        }
        if (r.kind !== 'run') return;
        const c = r.config;
        // Node's timers fire at once for delays past 2^31-1 ms: such a value must never get through.
        for (const ms of [c.intervalMs, c.timeoutMs, c.resyncMs]) if (!(Number.isSafeInteger(ms) && ms > 0 && ms <= 2 ** 31 - 1)) throw new Error(`unusable duration ${ms}`);
        if (!(c.listen.port >= 0 && c.listen.port <= 65535)) throw new Error('bad port');
        if (c.drivers.length === 0 || c.fsTypes.length === 0) throw new Error('empty list');
      });
    },
  },
  {
    name: 'listen addresses: anything is [host]:port with a valid port or a UsageError',
    property: () =>
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^(\[[0-9a-f:]{0,12}\]|[a-z0-9.]{0,12})?:\d{1,6}$/)), (s) => {
        try {
          const l = parseListen(s);
          if (!(Number.isInteger(l.port) && l.port >= 0 && l.port <= 65535)) throw new Error(`bad port ${l.port}`);
        } catch (err) {
          if (!(err instanceof UsageError)) throw err;
        }
      }),
  },
];

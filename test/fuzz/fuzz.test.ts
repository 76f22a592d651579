import test from 'ava';
import fc from 'fast-check';
import { parseVolData, VOL_DATA_MAX_BYTES } from '../../src/discovery/vol-data.js';
import { MalformedFileError } from '../../src/errors.js';
import { parseMountInfo } from '../../src/mounts/mountinfo.js';
import { fuzzRuns, fuzzSeed } from './seed.js';
import { TARGETS } from './targets.js';

// A smoke run of every target, a few hundred cases each: the long search is `npm run fuzz`.
// The seed is in every title; FUZZ_SEED=<seed> replays a run, FUZZ_RUNS=<n> runs more.
const SEED = fuzzSeed();
const RUNS = fuzzRuns();

for (const target of TARGETS) {
  test(`fuzz (seed ${SEED}): ${target.name}`, async (t) => {
    const t0 = performance.now();
    await fc.assert(target.property(), { seed: SEED, numRuns: RUNS });
    t.log(`${RUNS} cases in ${Math.round(performance.now() - t0)} ms`);
    t.pass();
  });
}

test('huge inputs: a megabyte-long mount table line and a vol_data.json far over its limit are refused without harm', (t) => {
  const good = '36 35 0:52 / /var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/pv/mount rw - fuse.juicefs JuiceFS:vol rw';
  const huge = `1 2 0:1 /${'\\040x'.repeat(200_000)} /m rw - ext4 /dev/x rw`;
  const parsed = parseMountInfo([huge, 'x'.repeat(1_000_000), good].join('\n'));
  t.is(parsed.entries.length, 2);
  t.is(parsed.entries[1]!.mountPoint, '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/pv/mount');
  t.is(parsed.malformed, 1);
  const big = JSON.stringify({ driverName: 'csi.juicefs.com', volumeHandle: 'v', pad: 'x'.repeat(10 * VOL_DATA_MAX_BYTES) });
  t.throws(() => parseVolData('/f', big), { instanceOf: MalformedFileError, message: /larger than/ });
});

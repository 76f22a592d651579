// The fuzz targets of the test suite (which runs each a few hundred times), run
// at full length, with a fresh seed:
//   npm run fuzz                 # 200,000 cases per target
//   npm run fuzz -- 1000000      # as many as asked
//   npm run fuzz -- 50000 1234   # a given seed, to replay a failure (or FUZZ_SEED=1234)
// Prints each target's cases, time and seed; exits 1 if any target fails.

import fc from 'fast-check';
import { fuzzSeed } from '../test/fuzz/seed.js';
import { TARGETS } from '../test/fuzz/targets.js';

const runs = Number(process.argv[2] ?? 200_000);
const seed = process.argv[3] === undefined ? fuzzSeed() : Number(process.argv[3]);
if (!Number.isSafeInteger(runs) || runs <= 0 || !Number.isSafeInteger(seed)) {
  process.stderr.write('usage: fuzz [runs] [seed]\n');
  process.exit(2);
}
process.stdout.write(`seed ${seed}, ${runs} cases per target\n`);
let failed = false;
for (const target of TARGETS) {
  const t0 = performance.now();
  try {
    await fc.assert(target.property(), { seed, numRuns: runs });
    process.stdout.write(`ok    ${target.name}: ${runs} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    failed = true;
    process.stdout.write(`FAIL  ${target.name}\n${err instanceof Error ? err.message : String(err)}\n`);
  }
}
process.exit(failed ? 1 : 0);

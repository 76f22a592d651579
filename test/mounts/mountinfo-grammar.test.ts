// The parser against proc(5)'s grammar: generated lines, rendered as the kernel
// renders them, parse to exactly their fields; cut, unseparated or non-numeric
// ones are malformed. Fixed seed, so a failure replays; `npm run fuzz` explores.

import test from 'ava';
import fc from 'fast-check';
import { MOUNTINFO_PROPERTIES } from '../fixtures/mountinfo-grammar.js';

const SEED = 16;
const RUNS = 2_000;

for (const p of MOUNTINFO_PROPERTIES) {
  test(p.name.replace(/^mountinfo: /, ''), (t) => {
    fc.assert(p.property(), { seed: SEED, numRuns: RUNS });
    t.pass();
  });
}

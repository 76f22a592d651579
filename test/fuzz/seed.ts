// Which seed and how many cases a fuzz run uses, shared by the suite's smoke run
// and `npm run fuzz`: FUZZ_SEED replays a run (every run prints its seed),
// FUZZ_RUNS asks for more cases; without them, a fresh seed.

/** The suite's count per target: enough to catch a regression in a second, not a search. */
export const SMOKE_RUNS = 200;

function whole(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name}: "${text}" is not a whole number of at least ${min}`);
  return n;
}

export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.FUZZ_SEED?.trim();
  return given ? whole('FUZZ_SEED', given, 0) : Math.floor(Math.random() * 2 ** 31);
}

export function fuzzRuns(env: NodeJS.ProcessEnv = process.env, runs = SMOKE_RUNS): number {
  const given = env.FUZZ_RUNS?.trim();
  return given ? whole('FUZZ_RUNS', given, 1) : runs;
}

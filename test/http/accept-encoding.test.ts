import test from 'ava';
import fc from 'fast-check';
import { prefersGzip } from '../../src/http/accept-encoding.js';

test('what Prometheus and curl --compressed send gets gzip; no header or identity alone does not', (t) => {
  t.true(prefersGzip('gzip'));
  t.true(prefersGzip('deflate, gzip'));
  t.true(prefersGzip('deflate, gzip, br, zstd'));
  t.true(prefersGzip('GZIP'));
  t.false(prefersGzip(undefined));
  t.false(prefersGzip(''));
  t.false(prefersGzip('identity'));
  t.false(prefersGzip('deflate, br'));
});

test('a weight of 0 refuses gzip, named or through *', (t) => {
  t.false(prefersGzip('gzip;q=0'));
  t.false(prefersGzip('gzip; q=0, deflate'));
  t.false(prefersGzip('*;q=0'));
  t.false(prefersGzip('gzip;q=0, *'));
  t.false(prefersGzip('*, gzip;q=0'));
  t.false(prefersGzip('gzip;q=not-a-number'));
});

test('* stands for gzip and identity alike, and the tie goes to gzip', (t) => {
  t.true(prefersGzip('*'));
  t.true(prefersGzip('br, *;q=0.1'));
  t.true(prefersGzip('gzip, *;q=0'), 'identity refused through *');
  t.true(prefersGzip('gzip, identity;q=0'), 'identity refused by name');
});

test('weights decide between gzip and identity; equal weights go to the one listed first', (t) => {
  t.false(prefersGzip('gzip;q=0.5, identity'));
  t.true(prefersGzip('gzip, identity;q=0.5'));
  t.false(prefersGzip('identity, gzip'));
  t.true(prefersGzip('gzip, identity'));
  t.false(prefersGzip('*;q=0.5, identity'));
  t.true(prefersGzip('*;q=0.1, gzip;q=0.9'), 'gzip named outright keeps its own weight, not that of *');
  t.false(prefersGzip('gzip;q=0.8, *;q=0.9'), 'identity through * outweighs gzip');
  t.true(prefersGzip('gzip;q=0.8, *;q=0.9, identity;q=0.7'));
});

test('identity not listed counts at the lowest positive weight listed, after every listed coding, so a listed gzip wins', (t) => {
  t.true(prefersGzip('gzip;q=0.001'));
  t.true(prefersGzip('br;q=0.1, gzip;q=0.2'));
  t.true(prefersGzip('br;q=0, gzip;q=0.2'));
});

test('malformed entries are skipped, the rest still count', (t) => {
  t.true(prefersGzip(',, gzip ,'));
  t.true(prefersGzip('x y, gzip'));
  t.true(prefersGzip('gzip;level=1'));
  t.false(prefersGzip('gzip deflate'));
});

test('gzip is never chosen unless listed by name or through * with a positive weight', (t) => {
  const coding = fc.constantFrom('identity', 'deflate', 'br', 'zstd', 'x-gzip', 'gzipx', 'gzip', '*');
  const weight = fc.constantFrom('', ';q=0', ';q=0.5', ';q=1', ';q=junk');
  fc.assert(
    fc.property(fc.array(fc.tuple(coding, weight), { maxLength: 6 }), (entries) => {
      const header = entries.map(([c, w]) => c + w).join(', ');
      const listed = entries.some(([c, w]) => (c === 'gzip' || c === '*') && (w === '' || w === ';q=0.5' || w === ';q=1'));
      return listed || !prefersGzip(header);
    }),
    { seed: 20_261_127 },
  );
  t.pass();
});

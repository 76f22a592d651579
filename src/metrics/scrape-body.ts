// A scrape's body: the per-path families, ~4 MB at 10,000 paths, which change
// only when a path's state does, then the Registry's, a few KiB that change from
// scrape to scrape. The per-path part is kept encoded, per format, until its
// revision moves, and compressed at most once. A gzip body is one gzip member:
// the kept part's deflate data (ended by a sync flush, so more may follow), the
// fresh part's, and a CRC continued from the kept part's. Not one member per
// part: curl stops after the first.

import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { trailer, type Format } from './exposition.js';

export interface ScrapeBodySources {
  /** The families kept between scrapes: rendered again only once `revision` has moved. */
  readonly kept: { revision(): number; render(format: Format): string };
  /** The families rendered at every scrape, after the kept ones. */
  readonly fresh: (format: Format) => Promise<string>;
}

export interface ScrapeBody {
  /** The whole exposition in `format`, gzip-compressed when `gzip`. */
  render(format: Format, gzip: boolean): Promise<Buffer>;
}

interface Deflated {
  /** Raw deflate data that ends in a sync flush, not a final block. */
  readonly data: Buffer;
  readonly crc: number;
}

interface Kept {
  readonly revision: number;
  readonly text: Buffer;
  deflated?: Promise<Deflated>;
}

// On libuv's thread pool, off the event loop: the kept part is ~15 ms of CPU at 10,000 paths.
const deflateRaw = promisify(zlib.deflateRaw) as (data: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>;

/** Deflate, no name, no time, Unix. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

function gzipTrailer(crc: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(crc >>> 0, 0);
  b.writeUInt32LE(length >>> 0, 4);
  return b;
}

export function createScrapeBody(src: ScrapeBodySources): ScrapeBody {
  const kept = new Map<Format, Kept>();

  const keptOf = (format: Format): Kept => {
    const revision = src.kept.revision();
    let k = kept.get(format);
    if (k?.revision !== revision) {
      k = { revision, text: Buffer.from(src.kept.render(format)) };
      kept.set(format, k);
    }
    return k;
  };

  const deflatedOf = (k: Kept): Promise<Deflated> =>
    (k.deflated ??= deflateRaw(k.text, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).then(
      (data) => ({ data, crc: zlib.crc32(k.text) }),
      (err: unknown) => {
        // Not kept: the next scrape tries again.
        k.deflated = undefined;
        throw err;
      },
    ));

  return {
    async render(format, gzip) {
      const fresh = Buffer.from((await src.fresh(format)) + trailer(format));
      // Taken right after the fresh part, in the same turn of the event loop: both describe one moment.
      const k = keptOf(format);
      if (!gzip) return Buffer.concat([k.text, fresh]);
      const [head, tail] = await Promise.all([deflatedOf(k), deflateRaw(fresh, {})]);
      return Buffer.concat([GZIP_HEADER, head.data, tail, gzipTrailer(zlib.crc32(fresh, head.crc), k.text.length + fresh.length)]);
    },
  };
}

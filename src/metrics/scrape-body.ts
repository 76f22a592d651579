// A scrape's body: the per-path families, ~4 MB at 10,000 paths, which change
// only when a path's state does, then the Registry's, a few KiB that change from
// scrape to scrape. The per-path part is kept encoded, per format, until its
// revision moves.

import { trailer, type Format } from './exposition.js';

export interface ScrapeBodySources {
  /** The families kept between scrapes: rendered again only once `revision` has moved. */
  readonly kept: { revision(): number; render(format: Format): string };
  /** The families rendered at every scrape, after the kept ones. */
  readonly fresh: (format: Format) => Promise<string>;
}

export interface ScrapeBody {
  /** The whole exposition in `format`. */
  render(format: Format): Promise<Buffer>;
}

interface Kept {
  readonly revision: number;
  readonly text: Buffer;
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

  return {
    async render(format) {
      const fresh = Buffer.from((await src.fresh(format)) + trailer(format));
      // Taken right after the fresh part, in the same turn of the event loop: both describe one moment.
      const k = keptOf(format);
      return Buffer.concat([k.text, fresh]);
    },
  };
}

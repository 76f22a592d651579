// Per-path families, rendered straight from the tracker. Going through
// prom-client gauges meant re-setting and re-hashing every label set on every
// scrape: about 0.5 s at 10,000 paths. Here each path's escaped label string is
// built once and reused while the path lives, and `revision` tells a reader
// when the text would differ, so it is rendered again only then (scrape-body.ts).

import type { PathTracker } from '../track/tracker.js';
import type { PathStatus, VolumePath } from '../types.js';
import { escapeHelp, escapeLabel, formatValue, type Format } from './exposition.js';

export interface PathFamily {
  readonly name: string;
  readonly help: string;
  /** Emits this path's samples; `labels` are extra `,name="escaped"` pairs after the path's own. */
  samples(s: PathStatus, emit: (labels: string, value: number) => void): void;
  /**
   * A counter that only grows, and grows whenever something `samples` reads changes,
   * other than the path's volume and state (the tracker's revision covers those).
   */
  readonly revision?: () => number;
}

export interface PathSeries {
  add(family: PathFamily): void;
  /** Grows whenever `render` would give another text: a family added, a path or a family's input changed. */
  revision(): number;
  render(format: Format): string;
}

export function labelPair(name: string, value: string): string {
  return `,${name}="${escapeLabel(value)}"`;
}

export function createPathSeries(opts: { tracker: PathTracker; nodeName: string }): PathSeries {
  const families: PathFamily[] = [];
  const labelsOf = new WeakMap<VolumePath, string>();
  const nodeLabel = labelPair('node_name', opts.nodeName);
  const base = (v: VolumePath) => {
    let l = labelsOf.get(v);
    if (l === undefined) {
      l = `volume_id="${escapeLabel(v.volumeId)}"${labelPair('volume_path', v.path)}${labelPair('pod_uid', v.podUid)}`;
      labelsOf.set(v, l);
    }
    return l;
  };
  return {
    add: (f) => void families.push(f),
    revision() {
      // A sum of counters that only grow (families are only added) moves whenever any one of them does.
      let r = families.length + opts.tracker.revision();
      for (const f of families) if (f.revision) r += f.revision();
      return r;
    },
    render(format) {
      const statuses = opts.tracker.list();
      let out = '';
      for (const f of families) {
        out += `# HELP ${f.name} ${escapeHelp(f.help, format)}\n# TYPE ${f.name} gauge\n`;
        for (const s of statuses) {
          const own = base(s.volume);
          f.samples(s, (labels, value) => {
            out += `${f.name}{${own}${labels}${nodeLabel}} ${formatValue(value)}\n`;
          });
        }
      }
      return out;
    },
  };
}

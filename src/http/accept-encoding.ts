// Whether a request's Accept-Encoding prefers gzip to identity, the only two
// encodings /metrics sends. Each listed coding has a weight (q, 1 when absent,
// 0 refusing it); a coding named outright outranks `*`. Identity stays
// acceptable unless refused: when neither it nor `*` is listed it counts at
// the lowest positive weight listed, after every listed coding. Between equal weights
// the coding listed first wins, and a coding both match through `*` goes to gzip.

interface Coding {
  /** As listed: compared case-insensitively, except `*`. */
  readonly name: string;
  readonly q: number;
  /** Position in the header. */
  readonly at: number;
}

interface Match {
  readonly q: number;
  /** 1 when named outright, 0 through `*`. */
  readonly exact: number;
  readonly at: number;
}

const NONE: Match = { q: 0, exact: 0, at: -1 };

export function prefersGzip(header: string | undefined): boolean {
  const codings = parse(header ?? '');
  const gzip = match('gzip', codings);
  if (!(gzip.q > 0)) return false;
  const identity = codings.some((c) => c.name === '*' || c.name.toLowerCase() === 'identity')
    ? match('identity', codings)
    : { q: codings.reduce((min, c) => Math.min(min, c.q || 1), 1), exact: 1, at: Infinity };
  if (!(identity.q > 0)) return true;
  return (gzip.q - identity.q || gzip.exact - identity.exact || identity.at - gzip.at || 1) > 0;
}

function parse(header: string): Coding[] {
  const codings: Coding[] = [];
  header.split(',').forEach((part, at) => {
    const [first = '', ...params] = part.split(';');
    const name = first.trim();
    if (name === '' || /\s/.test(name)) return;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.trim().split('=');
      if (key === 'q') {
        q = Number.parseFloat(value ?? '');
        break;
      }
    }
    codings.push({ name, q, at });
  });
  return codings;
}

/** The listing that decides for `encoding`: named outright over `*`, then the higher weight, then the later one. */
function match(encoding: string, codings: readonly Coding[]): Match {
  let best = NONE;
  for (const c of codings) {
    const exact = c.name.toLowerCase() === encoding ? 1 : c.name === '*' ? 0 : -1;
    if (exact < 0) continue;
    const m = { q: c.q, exact, at: c.at };
    if ((m.exact - best.exact || m.q - best.q || m.at - best.at) > 0) best = m;
  }
  return best;
}

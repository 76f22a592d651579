// Timed scrapes over real HTTP, and just enough of the text format to read them.

import http from 'node:http';

export interface Scrape {
  readonly ms: number;
  readonly bytes: number;
  readonly status: number;
  readonly text: string;
}

/**
 * Like Prometheus, gives up after `timeoutMs` (its default scrape_timeout is 10 s): status 0, no text.
 * Uncompressed unless `headers` ask otherwise (fetch would ask for gzip): times and sizes are of the text.
 */
export async function scrape(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<Scrape> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { headers: { 'accept-encoding': 'identity', ...headers }, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { ms: performance.now() - t0, bytes: Buffer.byteLength(text), status: res.status, text };
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError') return { ms: performance.now() - t0, bytes: 0, status: 0, text: '' };
    throw err;
  }
}

/** A timed scrape asking for gzip, as Prometheus does; `bytes` as sent, not decompressed. */
export function scrapeGzip(url: string): Promise<{ ms: number; bytes: number; status: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ ms: performance.now() - t0, bytes, status: res.statusCode ?? 0 }));
      })
      .on('error', reject);
  });
}

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseSamples(text: string, prefix = ''): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line[0] === '#' || !line.startsWith(prefix)) continue;
    const brace = line.indexOf('{');
    const space = brace >= 0 ? line.indexOf(' ', line.lastIndexOf('}')) : line.indexOf(' ');
    const name = line.slice(0, brace >= 0 ? brace : space);
    const labels: Record<string, string> = {};
    if (brace >= 0) {
      for (const m of line.slice(brace, line.lastIndexOf('}') + 1).matchAll(LABEL)) {
        labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    out.push({ name, labels, value: Number(line.slice(space + 1).split(' ')[0]) });
  }
  return out;
}

export function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

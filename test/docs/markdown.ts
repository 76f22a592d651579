// Reads the README and every docs/*.md page into what the documentation tests check:
// code blocks, inline code, prose, links and headings, each with its file and line.
// Every page under docs/ is read, whoever wrote it, so no page can name what does not exist.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the compiled tests run from dist/test/docs). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Doc {
  /** Repository-relative path: README.md or docs/<page>.md. */
  readonly file: string;
  readonly text: string;
}

export function docs(root = ROOT): Doc[] {
  const pages = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort();
  return ['README.md', ...pages.map((f) => `docs/${f}`)].map((file) => ({ file, text: fs.readFileSync(path.join(root, file), 'utf8') }));
}

/** A piece of a page: a code block's line (continuations joined), an inline code span, or prose. */
export interface Piece {
  readonly kind: 'code' | 'inline' | 'prose';
  /** The code block's language, for code lines. */
  readonly lang?: string;
  readonly text: string;
  readonly file: string;
  readonly line: number;
}

const FENCE = /^ {0,3}(```+|~~~+)\s*([\w-]*)/;

/** Splits a page into code lines, inline code spans and the prose around them. */
export function pieces(doc: Doc): Piece[] {
  const out: Piece[] = [];
  const lines = doc.text.split('\n');
  let fence: { mark: string; lang: string } | undefined;
  let prose: { text: string; line: number } | undefined;
  const flushProse = () => {
    if (!prose) return;
    // Inline code may wrap lines within a paragraph.
    let rest = prose.text;
    for (const m of prose.text.matchAll(/(`+)([\s\S]*?[^`])\1(?!`)/g)) {
      const line = prose.line + prose.text.slice(0, m.index).split('\n').length - 1;
      out.push({ kind: 'inline', text: m[2]!.replace(/\s*\n\s*/g, ' ').trim(), file: doc.file, line });
      rest = rest.replace(m[0], ' ');
    }
    out.push({ kind: 'prose', text: rest, file: doc.file, line: prose.line });
    prose = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const f = FENCE.exec(l);
    if (fence) {
      if (f && f[1]!.startsWith(fence.mark) && l.trim() === f[1]) {
        fence = undefined;
        continue;
      }
      let text = l;
      const start = i;
      while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + ' ' + lines[++i]!.trim();
      out.push({ kind: 'code', lang: fence.lang, text, file: doc.file, line: start + 1 });
      continue;
    }
    if (f) {
      flushProse();
      fence = { mark: f[1]!, lang: f[2]!.toLowerCase() };
      continue;
    }
    if (l.trim() === '') {
      flushProse();
      continue;
    }
    if (prose) prose.text += '\n' + l;
    else prose = { text: l, line: i + 1 };
  }
  flushProse();
  return out;
}

/** The page without its code blocks (for headings and links), line numbers kept. */
export function withoutCode(text: string): string {
  let fence: string | undefined;
  return text
    .split('\n')
    .map((l) => {
      const f = FENCE.exec(l);
      if (fence) {
        if (f && f[1]!.startsWith(fence) && l.trim() === f[1]) fence = undefined;
        return '';
      }
      if (f) {
        fence = f[1]!;
        return '';
      }
      return l.replace(/(`+)[\s\S]*?\1/g, (m) => ' '.repeat(m.length));
    })
    .join('\n');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a page offers: its headings' slugs, repeats numbered as GitHub numbers them. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence: string | undefined;
  for (const l of text.split('\n')) {
    const f = FENCE.exec(l);
    if (fence) {
      if (f && f[1]!.startsWith(fence) && l.trim() === f[1]) fence = undefined;
      continue;
    }
    if (f) {
      fence = f[1]!;
      continue;
    }
    const h = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (!h) continue;
    const base = slug(h[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

export interface Link {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

/** Inline links and images, and reference definitions, outside code. */
export function links(doc: Doc): Link[] {
  const text = withoutCode(doc.text);
  const out: Link[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ file: doc.file, line: lineOf(m.index), target: m[1]! });
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) out.push({ file: doc.file, line: lineOf(m.index), target: m[1]! });
  return out;
}

export function where(p: { file: string; line: number }): string {
  return `${p.file}:${p.line}`;
}

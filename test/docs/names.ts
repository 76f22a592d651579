// What the documentation names, checked against what exists: every `--flag` against the
// program it is given to (the prober's --help, one of our scripts' sources, node's own
// options), every `npm run x` / `npm test` against package.json.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pieces, where, type Doc, type Piece } from './markdown.js';

/** Programs whose flags are theirs to define, not ours to check. */
const FOREIGN_COMMANDS = new Set([
  'apt', 'apt-get', 'awk', 'buildah', 'cat', 'cc', 'chroot', 'crun', 'curl', 'debootstrap', 'docker', 'echo',
  'env', 'find', 'gcc', 'git', 'grep', 'helm', 'ip', 'jq', 'journalctl', 'kill', 'kubectl', 'kustomize', 'ls',
  'modprobe', 'mount', 'mountpoint', 'nsenter', 'perf', 'podman', 'prometheus', 'prometheus-node-exporter',
  'promtool', 'ps', 'python3', 'runc', 'sed', 'setpriv', 'sh', 'ssh', 'stat', 'strace', 'sysctl', 'systemctl',
  'tar', 'tsc', 'ulimit', 'umount', 'unshare', 'watch', 'wget',
]);

/** Flags the docs name as another program's, not given on a command line of theirs. */
export const FOREIGN_FLAGS: Readonly<Record<string, string>> = {
  'by-process': "the JuiceFS CSI node plugin's argument (process mount mode)",
  'collector.filesystem.mount-timeout': "node_exporter's filesystem collector",
};

export interface Known {
  /** The prober's flags, from its --help. */
  readonly prober: ReadonlySet<string>;
  /** Node's and V8's options, from `node --help` and `node --v8-options`. */
  readonly node: ReadonlySet<string>;
  /** package.json scripts and the source files each one runs. */
  readonly scripts: ReadonlyMap<string, readonly string[]>;
  /** Reads a repository file (a script's source). */
  readonly read: (file: string) => string;
}

const FLAG_TOKEN = /^--([a-z][a-z0-9.-]*[a-z0-9])(?:=.*)?$/;
const FLAG_IN_TEXT = /(?<![\w-])--([a-z][a-z0-9.-]*[a-z0-9])/g;

export function flagsOfHelp(help: string): Set<string> {
  return new Set([...help.matchAll(/^\s+--([a-z][a-z0-9-]*)/gm)].map((m) => m[1]!));
}

export function nodeOptions(): Set<string> {
  const out = new Set<string>();
  for (const args of [['--help'], ['--v8-options']]) {
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    // V8's list starts with a synopsis of the syntax (`--flag=value`): only what follows "Options:".
    const list = args[0] === '--v8-options' ? r.stdout.slice(r.stdout.indexOf('\nOptions:')) : r.stdout;
    for (const m of list.matchAll(/^\s+--([a-z][a-z0-9-]*)/gm)) {
      out.add(m[1]!);
      // V8 takes both spellings.
      out.add(m[1]!.replace(/_/g, '-'));
    }
  }
  return out;
}

/** Each package.json script and the repository files it runs: dist/x.js → x.ts, bash x.sh, npm run y. */
export function scriptSources(pkg: { scripts: Record<string, string> }, exists: (file: string) => boolean, read: (file: string) => string): Map<string, string[]> {
  const of = (name: string, seen: Set<string>): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    const cmd = pkg.scripts[name] ?? '';
    const files: string[] = [];
    const fromText = (text: string) => {
      for (const m of text.matchAll(/\bdist\/([\w./-]+)\.js\b/g)) if (exists(`${m[1]}.ts`)) files.push(`${m[1]}.ts`);
    };
    fromText(cmd);
    for (const m of cmd.matchAll(/\bbash\s+([\w./-]+)/g)) {
      if (!exists(m[1]!)) continue;
      files.push(m[1]!);
      fromText(read(m[1]!));
    }
    for (const m of cmd.matchAll(/\bnpm run ([\w:.-]+)/g)) files.push(...of(m[1]!, seen));
    return [...new Set(files)];
  };
  return new Map(Object.keys(pkg.scripts).map((name) => [name, of(name, new Set())]));
}

/** Whether a script's sources take `--name`: as a literal, a quoted option name, or a parseArgs key. */
export function sourceTakes(text: string, name: string): boolean {
  const n = name.replace(/[.]/g, '\\.');
  return new RegExp(`--${n}(?![a-z0-9-])|['"\`]${n}['"\`]|(?:^|[\\s{,])${n}:\\s*\\{`, 'm').test(text);
}

export interface Problem {
  readonly where: string;
  readonly what: string;
}

type Owner = { kind: 'prober' } | { kind: 'node' } | { kind: 'script'; name: string; files: readonly string[] } | { kind: 'any' } | { kind: 'foreign' };

/** Splits one shell command line into simple commands and says whose each flag is. */
function owners(text: string, known: Known): { flag: string; owner: Owner }[] {
  const out: { flag: string; owner: Owner }[] = [];
  // A shell comment is prose.
  const hash = /(^|\s)#/.exec(text);
  const command = hash ? text.slice(0, hash.index) : text;
  if (hash) for (const m of text.slice(hash.index).matchAll(FLAG_IN_TEXT)) out.push({ flag: m[1]!, owner: { kind: 'any' } });
  for (const simple of command.split(/&&|\|\||[;|()`]|\$\(/)) {
    const tokens = simple.trim().split(/\s+/).filter(Boolean);
    while (tokens.length > 0 && (/^[A-Z_][A-Z0-9_]*=/.test(tokens[0]!) || ['sudo', 'exec', 'time', '$'].includes(tokens[0]!))) tokens.shift();
    if (tokens.length === 0) continue;
    const flags = (from: number, owner: Owner, stop = Infinity) => {
      for (let i = from; i < Math.min(tokens.length, stop); i++) {
        const m = FLAG_TOKEN.exec(tokens[i]!);
        if (m) out.push({ flag: m[1]!, owner });
      }
    };
    const [cmd, sub] = tokens;
    if (cmd!.startsWith('-')) flags(0, { kind: 'any' });
    else if (cmd === 'npm') {
      const run = sub === 'run' || sub === 'run-script' ? tokens[2] : sub === 'test' || sub === 't' ? 'test' : undefined;
      const dash = tokens.indexOf('--');
      // Flags before `--` are npm's own; after it, the script's.
      if (run !== undefined && dash >= 0) flags(dash + 1, { kind: 'script', name: run, files: known.scripts.get(run) ?? [] });
    } else if (cmd === 'npx') {
      if (sub === 'juicefs-path-prober') flags(2, { kind: 'prober' });
    } else if (cmd === 'juicefs-path-prober') flags(1, { kind: 'prober' });
    else if (cmd === 'node') {
      const file = tokens.findIndex((t, i) => i > 0 && /\.(js|ts|mjs)$/.test(t));
      flags(1, { kind: 'node' }, file < 0 ? Infinity : file);
      if (file >= 0) {
        const f = tokens[file]!;
        if (/(^|\/)dist\/src\/cli\/index\.js$/.test(f)) flags(file + 1, { kind: 'prober' });
        else {
          const src = /(?:^|\/)dist\/([\w./-]+)\.js$/.exec(f);
          flags(file + 1, { kind: 'script', name: f, files: src ? [`${src[1]}.ts`] : [] });
        }
      }
    } else if (cmd === 'bash' && sub !== undefined && !sub.startsWith('-')) flags(2, { kind: 'script', name: sub, files: [sub] });
    else if (FOREIGN_COMMANDS.has(cmd!) || cmd === 'bash') {
      // `kubectl exec … -- juicefs-path-prober check --timeout 1s`: what follows `--` is a command of its own.
      const dash = tokens.indexOf('--');
      if (dash > 0) out.push(...owners(tokens.slice(dash + 1).join(' '), known));
    }
    else for (const m of simple.matchAll(FLAG_IN_TEXT)) out.push({ flag: m[1]!, owner: { kind: 'any' } });
  }
  return out;
}

function flagUses(p: Piece, known: Known): { flag: string; owner: Owner }[] {
  if (p.kind === 'prose' || (p.kind === 'code' && !['', 'sh', 'bash', 'shell', 'console', 'text'].includes(p.lang ?? ''))) {
    return [...p.text.matchAll(FLAG_IN_TEXT)].map((m) => ({ flag: m[1]!, owner: { kind: 'any' } as Owner }));
  }
  return owners(p.text, known);
}

/** Every flag and npm script the pages name that does not exist. */
export function checkNames(pages: readonly Doc[], known: Known): Problem[] {
  const problems: Problem[] = [];
  const takes = (files: readonly string[], flag: string) => files.some((f) => sourceTakes(known.read(f), flag));
  const allScriptFiles = [...new Set([...known.scripts.values()].flat())];
  for (const doc of pages) {
    for (const p of pieces(doc)) {
      for (const m of p.text.matchAll(/\bnpm (?:run(?:-script)?\s+([\w:.-]+)|(test|start|stop|restart)\b)/g)) {
        const name = m[1] ?? m[2]!;
        if (!known.scripts.has(name)) problems.push({ where: where(p), what: `npm script "${name}" is not in package.json` });
      }
      for (const { flag, owner } of flagUses(p, known)) {
        switch (owner.kind) {
          case 'foreign':
            break;
          case 'prober':
            if (!known.prober.has(flag)) problems.push({ where: where(p), what: `--${flag} is not a juicefs-path-prober flag (see --help)` });
            break;
          case 'node':
            if (!known.node.has(flag)) problems.push({ where: where(p), what: `--${flag} is not a node option` });
            break;
          case 'script':
            if (owner.files.length === 0) problems.push({ where: where(p), what: `--${flag}: cannot find the source of ${owner.name}` });
            else if (!takes(owner.files, flag)) problems.push({ where: where(p), what: `--${flag} is not taken by ${owner.name} (${owner.files.join(', ')})` });
            break;
          case 'any':
            if (!(known.prober.has(flag) || known.node.has(flag) || flag in FOREIGN_FLAGS || takes(allScriptFiles, flag))) {
              problems.push({ where: where(p), what: `--${flag} is neither a juicefs-path-prober flag, nor taken by any npm script, nor a node option` });
            }
        }
      }
    }
  }
  return problems;
}

export function knownFromRepo(root: string, help: string): Known {
  const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');
  const exists = (f: string) => fs.existsSync(path.join(root, f));
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  return { prober: flagsOfHelp(help), node: nodeOptions(), scripts: scriptSources(pkg, exists, read), read };
}

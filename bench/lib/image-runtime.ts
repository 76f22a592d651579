// How the image starts the daemon, read from a Dockerfile: the final stage's ENV
// and the node flags of its exec-form ENTRYPOINT. The benches and the soak start
// the daemon the same way, so what they measure is what runs on a node; the
// comparison bench reads another checkout's Dockerfile to run its code as its
// image did.

export interface ImageRuntime {
  /** The final stage's ENV (NODE_OPTIONS among them). */
  readonly env: Readonly<Record<string, string>>;
  /** Node's own flags before the script in the ENTRYPOINT (those NODE_OPTIONS cannot carry, such as V8's). */
  readonly nodeArgs: readonly string[];
}

const unquote = (v: string) => (/^"(.*)"$/.test(v) ? v.slice(1, -1).replace(/\\"/g, '"') : v);

export function imageRuntime(dockerfile: string): ImageRuntime {
  const stage = dockerfile.split(/^FROM /m).at(-1) ?? '';
  const env: Record<string, string> = {};
  for (const [, rest] of stage.matchAll(/^ENV (.*)$/gm)) {
    // `ENV K=V K2="v 2"`; the legacy `ENV K V` form is not used here.
    for (const [, key, value] of rest!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) env[key!] = unquote(value!);
  }
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(stage)?.[1];
  const argv = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  const nodeArgs = argv[0] === 'node' ? argv.slice(1).filter((a) => a.startsWith('-')) : [];
  return { env, nodeArgs };
}

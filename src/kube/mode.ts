// Whether Kubernetes mode runs, and with what. The source comes from the flags
// and the environment at once; the client configuration loads in the
// background (kube/loader.ts), so probing never waits for it. Once it has
// loaded the mode is settled: on; or, for a configuration that can never work,
// fatal with --kube=on and one warning and off with auto.

import type { Logger } from '../log/logger.js';
import { detectKubeSource, type KubeMode, type KubeSource } from './detect.js';
import type { Kube, KubeOptions } from './kube.js';

export interface KubeModeChoice {
  readonly kube?: Kube;
  readonly source: KubeSource;
  /** Why the mode is off ('' when on). */
  readonly off: string;
}

export interface KubeModeStart extends KubeModeChoice {
  /**
   * The choice once the configuration has loaded: the same, or off with the adapter stopped
   * (auto, a configuration that can never work). Rejects when the configuration cannot be used
   * and the mode is required, or cannot be read at all.
   */
  readonly settled: Promise<KubeModeChoice>;
}

export interface KubeModeInput {
  readonly mode: KubeMode;
  readonly kubeconfig: string | undefined;
  readonly nodeName: string;
}

export async function openKubeMode(input: KubeModeInput, logger: Logger, opts: Pick<KubeOptions, 'orphanAfterMs'> = {}): Promise<KubeModeStart> {
  const source = detectKubeSource({ mode: input.mode, kubeconfig: input.kubeconfig });
  if (source.kind === 'off') {
    const off = { source, off: source.why };
    return { ...off, settled: Promise.resolve(off) };
  }
  // Loaded only when used: with the mode off, none of the adapter is.
  const [{ createKube }, { openKube }, { KubeConfigError }] = await Promise.all([import('./kube.js'), import('./open.js'), import('./config-check.js')]);
  const client = openKube(source);
  const kube = createKube({ client, source, nodeName: input.nodeName, logger, ...opts });
  const settled = client.loaded.then(
    (): KubeModeChoice => ({ kube, source, off: '' }),
    (err: unknown): KubeModeChoice => {
      kube.stop();
      if (!(err instanceof KubeConfigError) || input.mode === 'on') throw err;
      logger.warn('kubernetes mode off: the client configuration cannot work (--kube=on makes this fatal)', { error: err.message });
      return { source, off: err.message };
    },
  );
  settled.catch(() => {}); // the owner awaits it
  return { kube, source, off: '', settled };
}

// Whether Kubernetes mode runs, and with what: the source the configuration
// names, then a client that can work. A configuration that can never work is
// fatal with --kube=on; with auto it is one warning, and the mode is off.

import type { Logger } from '../log/logger.js';
import { detectKubeSource, type KubeMode, type KubeSource } from './detect.js';
import type { Kube, KubeOptions } from './kube.js';

export interface KubeModeChoice {
  readonly kube?: Kube;
  readonly source: KubeSource;
  /** Why the mode is off ('' when on). */
  readonly off: string;
}

export interface KubeModeInput {
  readonly mode: KubeMode;
  readonly kubeconfig: string | undefined;
  readonly nodeName: string;
}

export async function openKubeMode(input: KubeModeInput, logger: Logger, opts: Pick<KubeOptions, 'orphanAfterMs'> = {}): Promise<KubeModeChoice> {
  const source = detectKubeSource({ mode: input.mode, kubeconfig: input.kubeconfig });
  if (source.kind === 'off') return { source, off: source.why };
  // Loaded only when used: with the mode off, the client library costs neither memory nor start time.
  const [{ createKube }, { openKube }, { KubeConfigError }] = await Promise.all([import('./kube.js'), import('./open.js'), import('./config-check.js')]);
  try {
    const kube = createKube({ client: openKube(source), source, nodeName: input.nodeName, logger, ...opts });
    return { kube, source, off: '' };
  } catch (err) {
    if (!(err instanceof KubeConfigError) || input.mode === 'on') throw err;
    logger.warn('kubernetes mode off: the client configuration cannot work (--kube=on makes this fatal)', { error: err.message });
    return { source, off: err.message };
  }
}

// This node's pods as the list+watch loop takes them: listed in pages of 500
// and watched from a version, both through the field selector on the node's
// name, with bookmarks. A watch the server has not ended a minute after its
// timeoutSeconds went silent (a half-dead connection, a stalled proxy) and is
// given up on this side.

import type { V1Pod, V1PodList } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { KubeClient } from './client.js';
import type { ResourceWatchSource } from './resource-watch.js';

export function podSource(o: { client: KubeClient; nodeName: string; timeoutSeconds: number; clock: Clock }): ResourceWatchSource<V1Pod> {
  const { client, clock, timeoutSeconds } = o;
  const fieldSelector = `spec.nodeName=${o.nodeName}`;
  return {
    async list(continueToken) {
      const page: V1PodList = await client.core.listPodForAllNamespaces({ fieldSelector, limit: 500, ...(continueToken ? { _continue: continueToken } : {}) });
      return {
        items: page.items,
        resourceVersion: page.metadata?.resourceVersion ?? '',
        ...(page.metadata?._continue ? { continueToken: page.metadata._continue } : {}),
      };
    },
    async watch(resourceVersion, onLine, done) {
      let timer: TimerHandle | undefined;
      let ended = false;
      const controller = await client.watch.watch(
        '/api/v1/pods',
        { fieldSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        (type, object) => onLine(type, object),
        (err) => {
          ended = true;
          if (timer !== undefined) clock.clearTimeout(timer);
          done(err);
        },
      );
      if (!ended) timer = clock.setTimeout(() => controller.abort(), (timeoutSeconds + 60) * 1000);
      return { abort: () => controller.abort() };
    },
  };
}

// Events as the API takes them: one object per pod, path and reason, created
// with POST and updated (count, last time) with a JSON merge PATCH.

import type { CoreV1Event } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import type { EventSink, EventWrite } from './event-recorder.js';

export const COMPONENT = 'juicefs-path-prober';
export const REASON_UNHEALTHY = 'VolumePathUnhealthy';
export const REASON_RECOVERED = 'VolumePathRecovered';

/** Events as the API takes them: created with POST, updated with a JSON merge PATCH. */
export function podEventSink(client: KubeClient, nodeName: string): EventSink {
  const body = (e: EventWrite): CoreV1Event => ({
    metadata: { name: e.name, namespace: e.involved.namespace },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: e.involved.namespace, name: e.involved.name, uid: e.involved.uid },
    type: e.type,
    reason: e.reason,
    message: e.message,
    count: e.count,
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
    source: { component: COMPONENT, host: nodeName },
    reportingComponent: COMPONENT,
    reportingInstance: nodeName,
  });
  return {
    async create(e, signal) {
      await client.core.createNamespacedEvent({ namespace: e.involved.namespace, body: body(e) }, { signal });
    },
    async update(e, signal) {
      const patch = { message: e.message, count: e.count, lastTimestamp: e.lastTimestamp.toISOString(), type: e.type };
      await client.core.patchNamespacedEvent({ name: e.name, namespace: e.involved.namespace, body: patch }, { signal });
    },
  };
}

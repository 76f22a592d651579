import test from 'ava';
import { evictionVerdict, type EvictionCase } from '../../src/act/eviction-policy.js';
import type { PodFacts } from '../../src/types.js';

const pod = (o: Partial<PodFacts> = {}): PodFacts => ({ uid: 'u1', namespace: 'default', name: 'web-0', controllerKind: 'ReplicaSet', juicefsSystem: false, deleting: false, conditions: new Map(), ...o });
const rules = { afterMs: 60_000, jobs: false, kubeSystem: false };
const base: EvictionCase = { pod: pod(), state: 'disconnected', heldMs: 60_000, healthyMount: 'mount pod kube-system/juicefs-x is Running and Ready' };
const verdict = (c: Partial<EvictionCase>, r = rules) => evictionVerdict({ ...base, ...c }, r);

test('a ReplicaSet or StatefulSet pod on a dead mount past --evict-after, with its volume healthy again on the node, is evicted', (t) => {
  t.like(verdict({}), { evict: true });
  t.like(verdict({ pod: pod({ controllerKind: 'StatefulSet' }), state: 'not_mounted' }), { evict: true });
  t.like(verdict({ state: 'io_error' }), { evict: true });
});

test('a bare pod, a DaemonSet pod, a mount pod or CSI node pod, a pod being deleted are never evicted', (t) => {
  t.like(verdict({ pod: pod({ controllerKind: '' }) }), { evict: false, why: 'a bare pod: nothing would recreate it' });
  t.like(verdict({ pod: pod({ controllerKind: 'DaemonSet' }) }), { evict: false, why: 'a DaemonSet pod' });
  t.like(verdict({ pod: pod({ juicefsSystem: true }) }), { evict: false });
  t.like(verdict({ pod: pod({ deleting: true }) }), { evict: false });
  t.like(verdict({ pod: pod({ controllerKind: 'Rollout' }) }), { evict: false, why: 'owned by a Rollout, not known to recreate it' });
});

test('without a healthy mount of its volume on the node, a pod is not evicted: a new pod would not fare better', (t) => {
  t.like(verdict({ healthyMount: undefined }), { evict: false });
});

test('a slow client, a young spell and a state a new mount does not cure are not evicted', (t) => {
  t.like(verdict({ state: 'timeout' }), { evict: false });
  t.like(verdict({ state: 'mount_pod_not_running' }), { evict: false });
  t.like(verdict({ heldMs: 59_999 }), { evict: false });
});

test('Job and kube-system pods only when asked', (t) => {
  t.like(verdict({ pod: pod({ controllerKind: 'Job' }) }), { evict: false });
  t.like(verdict({ pod: pod({ controllerKind: 'Job' }) }, { ...rules, jobs: true }), { evict: true });
  t.like(verdict({ pod: pod({ namespace: 'kube-system' }) }), { evict: false });
  t.like(verdict({ pod: pod({ namespace: 'kube-system' }) }, { ...rules, kubeSystem: true }), { evict: true });
});

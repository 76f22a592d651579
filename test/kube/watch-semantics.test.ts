// The pod watch against the API stand-in's watch-cache semantics: an open
// watch told its version expired, a server restarted with a new history
// (newer versions, or older ones after a restore), bookmarks, and a watch
// that goes silent without closing. Each time the cache must end up current
// and miss nothing.

import test from 'ava';
import { createKube } from '../../src/kube/kube.js';
import { openKube } from '../../src/kube/open.js';
import { createLogger } from '../../src/log/logger.js';
import type { Clock } from '../../src/shared/clock.js';
import type { VolumePath } from '../../src/types.js';
import { eventually as until } from '../fixtures/harness.js';
import { appPod, startFakeApiServer } from '../fixtures/kube-api-server.js';
import { manualTime } from '../fixtures/manual-time.js';

const quiet = createLogger({ write: () => {} });
const volume = (podUid: string): VolumePath => ({ path: `/var/lib/kubelet/pods/${podUid}/volumes/kubernetes.io~csi/pv/mount`, kind: 'volume', podUid, pv: 'pv', volumeId: 'pv', driver: 'csi.juicefs.com' });

async function watching(t: { teardown(fn: () => unknown): void }, clock?: Clock) {
  const api = await startFakeApiServer(clock ? { clock } : {});
  t.teardown(() => api.close());
  api.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1' }));
  const source = { kind: 'kubeconfig', path: api.kubeconfig } as const;
  const kube = createKube({ client: openKube(source, clock ? { clock } : {}), source, nodeName: 'n1', logger: quiet, backoff: { initialMs: 50, maxMs: 200 }, ...(clock ? { clock } : {}) });
  t.teardown(() => kube.stop());
  kube.start();
  await until('synced and watching', () => kube.status().synced && !kube.isStale() && api.openWatches() === 1);
  return { api, kube, knows: (uid: string) => kube.owner(volume(uid))?.pod !== undefined };
}

test('an open watch ended with ERROR 410 Expired lists again, and what it missed is in the new list', async (t) => {
  const { api, kube, knows } = await watching(t);
  // Missed by the watch (stalled), then compacted away: only a new list has it.
  api.stallWatches();
  api.putPod(appPod({ uid: 'u2', name: 'web-1', node: 'n1' }));
  api.compact();
  api.expireWatches();
  await until('the missed pod', () => knows('u2'));
  t.is(kube.counters().lists, 2);
  await until('current again', () => !kube.isStale() && api.openWatches() === 1);
  t.deepEqual(api.problems(), []);
});

test('a server restarted with a new history, newer versions: every old version is refused (410) and the cache is listed again', async (t) => {
  const { api, kube, knows } = await watching(t);
  await api.restart();
  await until('listed again', () => kube.counters().lists === 2 && api.openWatches() === 1);
  api.putPod(appPod({ uid: 'u2', name: 'web-1', node: 'n1' }));
  await until('a change after the restart', () => knows('u2'));
  t.false(kube.isStale());
  t.true(Number(kube.status().resource_version) > 100_000);
});

test('a server restored with older versions: a version beyond its history (504 Too large) lists again', async (t) => {
  const { api, kube, knows } = await watching(t);
  for (let i = 2; i < 6; i++) api.putPod(appPod({ uid: `u${i}`, name: `web-${i}`, node: 'n1' }));
  await until('watched', () => knows('u5'));
  await api.restart({ olderVersions: true });
  await until('listed again', () => kube.counters().lists === 2 && api.openWatches() === 1);
  api.putPod(appPod({ uid: 'u9', name: 'web-9', node: 'n1' }));
  await until('a change after the restore', () => knows('u9'));
  t.true(Number(kube.status().resource_version) < 100, kube.status().resource_version);
});

test('bookmarks, asked for, move the version the watch resumes from', async (t) => {
  const { api, kube } = await watching(t);
  t.is(api.requests.find((r) => r.kind === 'watch')!.query.allowWatchBookmarks, 'true');
  const rv = api.bookmark();
  await until('the bookmark taken', () => kube.status().resource_version === rv);
  api.dropWatches();
  await until('resumed from the bookmark', () => api.requests.some((r) => r.kind === 'watch' && r.query.resourceVersion === rv));
});

test('a watch that goes silent without closing is given up a minute after its server timeout, and resumed where it was', async (t) => {
  const time = manualTime();
  const { api, kube, knows } = await watching(t, time.clock);
  api.stallWatches();
  api.putPod(appPod({ uid: 'u2', name: 'web-1', node: 'n1' }));
  // The watch asked for a 300 s server timeout; the client waits a minute more.
  await time.settle(359_000);
  t.false(knows('u2'));
  t.is(api.calls.filter((c) => c.verb === 'watch').length, 1);
  await time.settle(1000);
  await until('the missed change, from a resumed watch', () => knows('u2'));
  t.is(kube.counters().lists, 1, 'resumed, not listed again');
  t.is(api.requests.filter((r) => r.kind === 'watch').length, 2);
});

// Credentials kept current against the API stand-in, which refuses a token it
// no longer holds: a rotated token file is used from the next request, a 401
// loads credentials again without closing the live watch, and expiring exec
// credentials are loaded again before they expire.

import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { retireAgent } from '../../src/kube/agents.js';
import { createHttpClient } from '../../src/kube/http-client.js';
import { createKube } from '../../src/kube/kube.js';
import { openKube } from '../../src/kube/open.js';
import { createLogger } from '../../src/log/logger.js';
import { systemClock } from '../../src/shared/clock.js';
import type { VolumePath } from '../../src/types.js';
import { execPlugin, serviceAccountVolume } from '../fixtures/kube-api/credentials.js';
import { eventually as until } from '../fixtures/harness.js';
import { appPod, startFakeApiServer } from '../fixtures/kube-api-server.js';
import { manualTime } from '../fixtures/manual-time.js';

const quiet = createLogger({ write: () => {} });
const volume = (podUid: string, pv: string): VolumePath => ({ path: `/var/lib/kubelet/pods/${podUid}/volumes/kubernetes.io~csi/${pv}/mount`, kind: 'volume', podUid, pv, volumeId: pv, driver: 'csi.juicefs.com' });

test('a token file kubelet rotated (the ..data symlink swapped) is used from the next request, and after a 401 it is read again at once', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  const sa = serviceAccountVolume({ token: 'sa-token-1', ca: '', namespace: 'kube-system' });
  t.teardown(() => sa.remove());
  api.addToken('sa-token-1');
  const initial = { server: api.url, headers: {}, insecure: true, tokenFile: path.join(sa.dir, 'token') };
  const client = await createHttpClient({ initial, base: new URL(api.url), load: async () => initial, clock: systemClock });
  t.teardown(() => client.stop());
  const list = () => client.core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n1' });
  await list();

  sa.rotate('sa-token-2');
  api.addToken('sa-token-2');
  api.revokeToken('sa-token-1');
  // Its times pinned to a whole second, so that a rewrite in place below can leave nothing a stat sees.
  const file = fs.realpathSync(path.join(sa.dir, 'token'));
  fs.utimesSync(file, 1_700_000_000, 1_700_000_000);
  await list();
  t.deepEqual(api.calls.map((c) => [c.token, c.status]), [['sa-token-1', 200], ['sa-token-2', 200]], 'no request with the revoked token');

  // Rewritten in place with the same size and times: nothing a stat sees. The 401 makes it read again.
  fs.writeFileSync(file, 'sa-token-3');
  fs.utimesSync(file, 1_700_000_000, 1_700_000_000);
  api.addToken('sa-token-3');
  api.revokeToken('sa-token-2');
  await t.throwsAsync(list(), { message: /HTTP 401/ });
  await list();
  t.deepEqual(api.calls.slice(2).map((c) => [c.token, c.status]), [['sa-token-2', 401], ['sa-token-3', 200]]);
  t.is(api.takeProblems().length, 1);
});

test('a 401 on a claim read loads the credentials again without closing the live watch', async (t) => {
  const api = await startFakeApiServer();
  t.teardown(() => api.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jfs-prober-token-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, 'user-token-1');
  api.addToken('user-token-1');
  api.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1' }));
  const source = { kind: 'kubeconfig', path: api.writeKubeconfig('token-file', { user: { 'token-file': tokenFile } }) } as const;
  const kube = createKube({ client: openKube(source), source, nodeName: 'n1', logger: quiet });
  t.teardown(() => kube.stop());
  kube.start();
  await until('synced and watching', () => kube.status().synced && api.openWatches() === 1);
  let wentStale = false;
  const watchStale = setInterval(() => (wentStale ||= kube.isStale()), 5);
  t.teardown(() => clearInterval(watchStale));

  // The token is replaced and the old one revoked; the open watch, authenticated when it began, goes on.
  fs.writeFileSync(tokenFile, 'user-token-2');
  api.addToken('user-token-2');
  api.revokeToken('user-token-1');
  api.setClaim('default', 'data-web-1', 'pv-b');
  api.putPod(appPod({ uid: 'u2', name: 'web-1', node: 'n1', claims: { data: 'data-web-1' } }));
  await until('the claim read with the new token', () => kube.owner(volume('u2', 'pv-b'))?.pvc === 'data-web-1');

  t.is(api.calls.filter((c) => c.verb === 'watch').length, 1, 'the watch was never opened again');
  t.is(api.openWatches(), 1);
  t.false(wentStale, 'the cache never went stale');
  t.is(kube.counters().watchFailures, 0);
  t.deepEqual(api.calls.filter((c) => c.resource === 'persistentvolumeclaims').map((c) => [c.token, c.status]), [['user-token-1', 401], ['user-token-2', 200]]);
  t.is(api.takeProblems().length, 1);
});

test('exec plugin credentials are loaded again before they expire: no request is refused', async (t) => {
  const time = manualTime();
  const api = await startFakeApiServer({ clock: time.clock });
  t.teardown(() => api.close());
  const issued: string[] = [];
  const plugin = await execPlugin(() => {
    const c = api.issueToken(10 * 60_000);
    issued.push(c.token);
    return c;
  });
  t.teardown(() => plugin.close());
  api.putPod(appPod({ uid: 'u1', name: 'web-0', node: 'n1' }));
  const source = { kind: 'kubeconfig', path: api.writeKubeconfig('exec', { user: { exec: plugin.exec } }) } as const;
  const kube = createKube({ client: openKube(source, { clock: time.clock }), source, nodeName: 'n1', logger: quiet, clock: time.clock });
  t.teardown(() => kube.stop());
  kube.start();
  await until('synced and watching', () => kube.status().synced && api.openWatches() === 1);
  t.is(plugin.calls(), 1);

  // Ten minutes of life: loaded again at nine, a minute early.
  await time.settle(9 * 60_000 - 1000);
  t.is(plugin.calls(), 1, 'not yet');
  await time.settle(1000);
  await until('the plugin run again', () => plugin.calls() === 2);
  // Requests from now on carry the new token (each dropped watch comes back).
  await until('a watch with the new credential', async () => {
    if (api.calls.some((c) => c.verb === 'watch' && c.token === issued[1])) return true;
    api.dropWatches();
    await time.settle(1000);
    return false;
  });
  // The first credential expires; nothing goes with it any more.
  await time.settle(2 * 60_000);
  api.setClaim('default', 'data-web-1', 'pv-b');
  api.putPod(appPod({ uid: 'u2', name: 'web-1', node: 'n1', claims: { data: 'data-web-1' } }));
  await until('the claim read', () => kube.owner(volume('u2', 'pv-b'))?.pvc === 'data-web-1');
  t.deepEqual(api.problems(), [], 'no 401');
  t.is(api.calls.filter((c) => c.resource === 'persistentvolumeclaims').at(-1)!.token, issued.at(-1)!);
});

test('a retired agent lets its open request finish on its connection and closes idle ones', async (t) => {
  let release: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') release = () => res.end('slow');
    else res.end('quick');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new http.Agent({ keepAlive: true });
  const get = (p: string) =>
    new Promise<string>((resolve, reject) => {
      http.get(base + p, { agent }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
  await Promise.all([get('/quick'), get('/quick')]); // two keep-alive connections
  const slow = get('/slow'); // on one of them; the other stays idle
  await until('the slow request at the server', () => release !== undefined);
  t.is(Object.values(agent.sockets).flat().length, 1);
  t.is(Object.values(agent.freeSockets).flat().length, 1);
  retireAgent(agent);
  await until('the idle connection closed', () => Object.values(agent.freeSockets).flat().length === 0);
  t.is(Object.values(agent.sockets).flat().length, 1, 'the busy one open');
  release!();
  t.is(await slow, 'slow', 'the open request finished');
  await until('its connection closed once idle', () => Object.values(agent.sockets).flat().length === 0 && Object.values(agent.freeSockets).flat().length === 0);
});

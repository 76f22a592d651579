// The readiness rule: ready only when every condition holds, and the first
// unmet one says why.

import test from 'ava';
import { createReadiness, type ReadinessSources } from '../src/readiness.js';

function sources(over: Partial<Record<keyof ReadinessSources, unknown>> = {}): ReadinessSources {
  return {
    podsDirProblem: () => over.podsDirProblem as string | undefined,
    scanned: () => (over.scanned ?? true) as boolean,
    cycled: () => (over.cycled ?? true) as boolean,
    kubeSettled: () => (over.kubeSettled ?? true) as boolean,
    kubeAuthError: () => over.kubeAuthError as string | undefined,
  };
}

test('ready when every condition holds, with no reason', (t) => {
  const r = createReadiness(sources());
  t.true(r.ready());
  t.is(r.reason(), undefined);
  t.true(r.conditions().every((c) => c.met));
});

test('each condition alone keeps the daemon unready, with its own reason', (t) => {
  const cases: [Partial<Record<keyof ReadinessSources, unknown>>, string][] = [
    [{ podsDirProblem: 'the kubelet pods directory /k/pods does not exist' }, 'the kubelet pods directory /k/pods does not exist'],
    [{ scanned: false }, 'waiting for the first scan of the kubelet pods directory'],
    [{ cycled: false }, 'waiting for the first probe cycle'],
    [{ kubeSettled: false }, 'waiting for the Kubernetes client configuration to load'],
    [{ kubeAuthError: 'exec plugin exited 1' }, 'kubernetes credentials cannot be had: exec plugin exited 1'],
  ];
  for (const [over, reason] of cases) {
    const r = createReadiness(sources(over));
    t.false(r.ready(), reason);
    t.is(r.reason(), reason);
    t.is(r.conditions().filter((c) => !c.met).length, 1);
  }
});

test('the pods directory problem is named first, then the first scan, the first cycle, Kubernetes mode settling, and its credentials', (t) => {
  let problem: string | undefined = 'no pods directory';
  let scanned = false;
  let cycled = false;
  let settled = false;
  let auth: string | undefined = 'token expired';
  const r = createReadiness({ podsDirProblem: () => problem, scanned: () => scanned, cycled: () => cycled, kubeSettled: () => settled, kubeAuthError: () => auth });
  t.deepEqual(
    r.conditions().map((c) => c.name),
    ['pods_dir', 'first_scan', 'first_cycle', 'kube_settled', 'kube_credentials'],
  );
  t.is(r.reason(), 'no pods directory');
  problem = undefined;
  t.regex(r.reason()!, /first scan/);
  scanned = true;
  t.regex(r.reason()!, /first probe cycle/);
  cycled = true;
  t.regex(r.reason()!, /Kubernetes/);
  settled = true;
  t.regex(r.reason()!, /credentials cannot be had: token expired/);
  auth = undefined;
  t.true(r.ready());
});

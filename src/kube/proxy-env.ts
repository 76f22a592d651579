// Which proxy, if any, a request to the API server goes through. The
// kubeconfig's `proxy-url` decides first, as in @kubernetes/client-node (its
// createAgent) and client-go. @kubernetes/client-node 1.x reads no proxy
// variable from the environment; kubectl does, so a `check --kubeconfig` run
// from a workstation behind a proxy works as kubectl does there:
// HTTPS_PROXY (HTTP_PROXY for an http:// server) unless NO_PROXY names the
// host, with the rules of Go's golang.org/x/net/http/httpproxy (loopback and
// localhost never proxied; `*`; IPs and CIDRs; a domain matching itself and its
// subdomains, a leading `.` only subdomains; an optional :port).

import net from 'node:net';

const first = (env: NodeJS.ProcessEnv, ...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');

/** The proxy URL for requests to `server`, or undefined for a direct connection. */
export function proxyFor(server: string, env: NodeJS.ProcessEnv, proxyUrl?: string): string | undefined {
  if (proxyUrl) return proxyUrl;
  const u = new URL(server);
  const secure = u.protocol === 'https:';
  // A CGI environment's HTTP_PROXY comes from the request (httpoxy): ignored, as Go ignores it.
  const raw = secure ? first(env, 'HTTPS_PROXY', 'https_proxy') : env.REQUEST_METHOD ? undefined : first(env, 'HTTP_PROXY', 'http_proxy');
  if (!raw) return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = u.port || (secure ? '443' : '80');
  if (!useProxy(host, port, first(env, 'NO_PROXY', 'no_proxy') ?? '')) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
}

function inCidr(ip: string, cidr: string): boolean {
  const [range, bits] = cidr.split('/') as [string, string];
  const family = net.isIPv6(range) ? 'ipv6' : 'ipv4';
  if ((net.isIPv6(ip) ? 'ipv6' : 'ipv4') !== family) return false;
  const list = new net.BlockList();
  list.addSubnet(range, Number(bits), family);
  return list.check(ip, family);
}

function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const ip = net.isIP(host) !== 0;
  if (ip && (/^127\./.test(host) || host === '::1')) return false;
  for (const entry of noProxy.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean)) {
    if (entry === '*') return false;
    if (entry.includes('/') && net.isIP(entry.split('/')[0]!)) {
      if (ip && inCidr(host, entry)) return false;
      continue;
    }
    let [h, p] = [entry, ''];
    const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(entry);
    if (m && (net.isIP(m[1]!) || !entry.includes(':') || m[2] !== undefined)) [h, p] = [m[1]!, m[2] ?? ''];
    if (net.isIP(h)) {
      if (ip && h === host && (p === '' || p === port)) return false;
      continue;
    }
    if (h.startsWith('*.')) h = h.slice(1);
    const matchHost = !h.startsWith('.');
    const suffix = matchHost ? `.${h}` : h;
    if ((host.endsWith(suffix) || (matchHost && host === h)) && (p === '' || p === port)) return false;
  }
  return true;
}

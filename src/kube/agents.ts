// The connection pool requests to the API server go through, built from what
// the configuration loader decided: TLS material and the proxy. A proxy goes
// through the agents @kubernetes/client-node itself uses for it (hpagent's
// CONNECT tunnels, socks-proxy-agent), loaded only when one is configured.
//
// New credentials that change the TLS material or the proxy get a new agent;
// the old one is retired, not destroyed: a live watch keeps its connection
// until it ends by itself, and only idle connections are closed.

import http from 'node:http';
import https from 'node:https';
import type { LoadedKubeConfig } from './config-types.js';

/** What an agent is built from: equal keys, the same agent. */
export function agentKey(c: LoadedKubeConfig): string {
  return JSON.stringify([c.ca, c.cert, c.key, c.servername, c.insecure === true, c.proxy]);
}

export async function makeAgent(c: LoadedKubeConfig, secure: boolean): Promise<http.Agent> {
  const tls: https.AgentOptions = {
    keepAlive: true,
    ...(c.ca ? { ca: c.ca } : {}),
    ...(c.cert ? { cert: c.cert } : {}),
    ...(c.key ? { key: c.key } : {}),
    ...(c.servername ? { servername: c.servername } : {}),
    ...(c.insecure ? { rejectUnauthorized: false } : {}),
  };
  if (c.proxy?.startsWith('socks')) {
    const { SocksProxyAgent } = await import('socks-proxy-agent');
    return new SocksProxyAgent(c.proxy, tls);
  }
  if (c.proxy) {
    const { HttpProxyAgent, HttpsProxyAgent } = await import('hpagent');
    return secure ? new HttpsProxyAgent({ ...tls, proxy: c.proxy }) : new HttpProxyAgent({ keepAlive: true, proxy: c.proxy });
  }
  return secure ? new https.Agent(tls) : new http.Agent({ keepAlive: true });
}

/** Lets an agent's open requests finish on their connections, and closes each as soon as it is idle. */
export function retireAgent(agent: http.Agent): void {
  agent.keepSocketAlive = () => false;
  for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
}

// What the configuration loader (config-main.ts) hands the daemon.

export interface LoadedKubeConfig {
  readonly server: string;
  /** PEM. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
  /** The configuration says not to verify the server's certificate. */
  readonly insecure?: boolean;
  /** Authorization and impersonation headers, as the library computed them. */
  readonly headers: Record<string, string>;
  /** A bearer token file to read again whenever it changes (in-cluster: kubelet rotates it). */
  readonly tokenFile?: string;
  /** Credentials could not be had when loading (an exec plugin failed). */
  readonly authError?: string;
  /** When the credentials stop working (epoch ms): an exec plugin's expirationTimestamp, a JWT's exp. */
  readonly expiresAt?: number;
  /** The proxy to reach the server through (the kubeconfig's proxy-url, or the environment's): http(s):// or socks. */
  readonly proxy?: string;
}

/** The part of https.RequestOptions the library fills in. */
export interface https {
  headers?: Record<string, string | string[] | number | undefined>;
  ca?: unknown;
  cert?: unknown;
  key?: unknown;
  auth?: string;
  servername?: string;
  rejectUnauthorized?: boolean;
}

/**
 * The shapes health is built from: what a probe is pointed at, what it answers, and a monitor's
 * settings. The config owner maps `monitors.*` and `pools.*.origins[]` onto these; nothing here
 * reads the config file, so health can be driven by a test, a simulation or a Redis view alike.
 */

/** TLS to the origin, as origin.ts builds it for real traffic (files already read). */
export interface ProbeTls {
  rejectUnauthorized: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  /** SNI and the name the certificate is checked against; default: the address's hostname (none for an IP). */
  servername?: string;
}

/** What one probe is pointed at: one origin, as real traffic reaches it. */
export interface ProbeTarget {
  /** The origin's http(s) URL (scheme, host, port; no path). */
  address: URL;
  /** The origin's Host override (`origins[].host`); it wins over a monitor's Host header. */
  hostHeader?: string;
  tls?: ProbeTls;
}

/**
 * The answer of one probe. `reason` is short and stable, for logs, events and the dashboard:
 * `timeout`, `aborted`, `refused`, `reset`, `dns`, `unreachable`, `closed`, `tls: <code>`,
 * `status 503`, `body mismatch`, `too many redirects`, `bad redirect`, `bad handshake: …`,
 * `protocol error`.
 */
export interface ProbeResult {
  ok: boolean;
  /** Time from the start of the check to its verdict: connect (tcp), response headers (http), 101 (websocket). */
  rttMs: number;
  reason?: string;
}

/**
 * One monitor type. `check` always settles, at the latest soon after `signal` aborts, and
 * leaves no socket open whatever happened. It never throws: failures are results.
 */
export interface Probe {
  check(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult>;
}

export const MONITOR_TYPES = ['http', 'https', 'tcp', 'websocket'] as const;
export type MonitorType = (typeof MONITOR_TYPES)[number];

/** One monitor, units resolved (milliseconds). Mirrors `monitors.*` in the config schema. */
export interface MonitorSettings {
  /**
   * `http`: HTTP over the origin address's own scheme (so an https:// origin is checked over TLS);
   * `https`: always TLS; `tcp`: connect only; `websocket`: an Upgrade handshake (ws or wss by scheme).
   */
  type: MonitorType;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** `2xx`, `200`, `200,301`, `2xx,304`. http and https only; a websocket check wants 101. */
  expectedCodes: string;
  /** Substring the body must contain, case-insensitive (as Cloudflare's), in its first 64 KiB. */
  expectedBody?: string;
  /** Follow up to 5 redirects; otherwise a 3xx is judged against expectedCodes like any status. */
  followRedirects: boolean;
  interval: number;
  /** Per attempt: each of the `retries` re-tries gets a fresh timeout. */
  timeout: number;
  /** Immediate re-tries of a failed probe before it counts as one failure. */
  retries: number;
  /** Consecutive successes that make an unhealthy (or unknown) origin healthy. */
  consecutiveUp: number;
  /** Consecutive failures that make a healthy (or unknown) origin unhealthy. */
  consecutiveDown: number;
  /** Port to probe instead of the address's (Cloudflare's monitor `port`); optional extension. */
  port?: number;
}

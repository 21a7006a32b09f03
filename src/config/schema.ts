/**
 * The config file's schema: the one source of truth for key names, defaults and types.
 * Key names follow shared/DESIGN.md (they are the product's interface): add keys, rename none.
 * The same schema exports JSON Schema for editors (`outpost schema`, outpost.schema.json).
 *
 * Values arrive as the user writes them (durations as `10s`, sizes as `16KiB`) and leave as
 * numbers (milliseconds, bytes), so nothing past this file parses units again.
 */
import { z } from 'zod';
import { DEFAULT_ORIGIN_STEERING, ORIGIN_STEERING } from '../balancer/origin/index.js';
import { duration, size } from './units-schema.js';
import { cache, rule } from './cache-schema.js';
import { security } from './security-schema.js';

export { duration, size } from './units-schema.js';

/** `host:port`, `[v6]:port`, `:port` or a bare port → `{ host, port }`. */
export const listenAddress = z
  .union([z.string(), z.number().int()])
  .transform((value, ctx) => {
    const parsed = parseListen(String(value));
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: `expected host:port (e.g. 0.0.0.0:8080), got "${value}"` });
      return z.NEVER;
    }
    return parsed;
  });

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListen(text: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

const location = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});

const pop = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a short id of lowercase letters, digits and dashes (e.g. sin, fra-2)'),
  region: z.string().min(1).default('default'),
  location: location.optional(),
});

const listen = z
  .strictObject({
    http: listenAddress.optional(),
    https: listenAddress.optional(),
    admin: listenAddress.default({ host: '127.0.0.1', port: 9090 }),
  })
  .refine((l) => l.http || l.https, { message: 'expected at least one of listen.http or listen.https' });

const certificate = z.strictObject({
  /** PEM certificate chain file (path relative to the config file). */
  cert: z.string().min(1),
  /** PEM private key file. */
  key: z.string().min(1),
  /** Names this certificate serves (`example.com`, `*.example.com`); default: the certificate's own SANs. */
  names: z.array(z.string().min(1)).optional(),
});

const tls = z.strictObject({
  certificates: z.array(certificate).min(1),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  /** Offer HTTP/2 by ALPN on the TLS listener (h2 and http/1.1 on the same port). */
  http2: z.boolean().default(true),
});

const limits = z.strictObject({
  /** Open client connections per worker; past it new ones are refused. */
  maxConnections: z.number().int().positive().default(20_000),
  /** Request line + headers, in bytes; larger gets 431. */
  maxHeaderSize: size.prefault(16_384),
  /**
   * A request body, in bytes (0 = no limit). A larger Content-Length gets 413 before anything
   * reaches the origin; a body without one (chunked, HTTP/2) is cut when it grows past it.
   */
  maxBodySize: size.prefault('100MiB'),
  /** Time to receive the complete request headers (slowloris). */
  headersTimeout: duration.prefault('10s'),
  /** Time to receive the complete request, body included (slow POST). */
  requestTimeout: duration.prefault('60s'),
  /** Longest silence while a request body is being received (HTTP/1.1 and HTTP/2). */
  bodyIdleTimeout: duration
    .refine((ms) => ms > 0, 'must be longer than 0')
    .prefault('30s')
    .describe('Longest silence while a request body is being received (HTTP/1.1 and HTTP/2); past it the request gets 408'),
  /** Time for a client's TLS handshake on the https listener; fixed when the listener starts. */
  handshakeTimeout: duration
    .refine((ms) => ms > 0, 'must be longer than 0')
    .prefault('10s')
    .describe('Time a client has to complete its TLS handshake on the https listener; past it the connection is closed (fixed at start)'),
  /** Idle time a client keep-alive connection is kept between requests. */
  keepAliveTimeout: duration.prefault('30s'),
  /** Requests served on one keep-alive connection before it is closed (0 = no limit). */
  maxRequestsPerConnection: z.number().int().nonnegative().default(0),
  /** Open connections per client (an IPv4 address, an IPv6 /64) per worker; past it new ones are closed (0 = no limit). */
  clientConnections: z.number().int().nonnegative().default(256),
  /** New connections per second per client per worker, bursts of as many again; past it new ones are closed (0 = no limit). */
  clientConnectionRate: z.number().int().nonnegative().default(100),
  /** Concurrent HTTP/2 streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  http2MaxStreams: z.number().int().min(1).max(1000).default(128),
  /** Streams an HTTP/2 client may cancel (RST_STREAM) per second before its connection is closed (rapid reset). */
  http2MaxResetsPerSecond: z.number().int().positive().default(100),
});

const upstream = z.strictObject({
  connectTimeout: duration.prefault('5s'),
  /** Time to receive the origin's response headers; past it the client gets 504. */
  responseTimeout: duration.prefault('60s'),
  /** Longest silence between two body chunks from the origin; past it the response is cut. */
  bodyTimeout: duration.prefault('60s'),
  /** Idle keep-alive connections to an origin are closed after this long. */
  keepAliveTimeout: duration.prefault('30s'),
  /** Connections per origin per worker (0 = no limit). */
  maxConnectionsPerOrigin: z.number().int().nonnegative().default(0),
  /**
   * Extra attempts on another origin when the connection fails before any response byte
   * (refused, connect timeout, TLS, or a reset for idempotent requests); see upstream/retry.ts.
   */
  retries: z.number().int().min(0).max(10).default(2),
  /** Retries in flight stay under this share of requests in flight, per pool and worker… */
  retryBudget: z.number().min(0).max(1).default(0.2),
  /**
   * …but may always be this many: an origin that dies resets every request it had in flight at
   * once, and each of those idempotent requests deserves its retry (a burst, not a storm).
   */
  retryBudgetMinimum: z.number().int().min(0).default(10),
  /**
   * Bodies of idempotent requests (PUT, DELETE) up to this size are read whole before they are
   * sent, so a reset after sending can still be retried; larger ones stream and are not retried then.
   */
  retryBodyLimit: size.prefault('64KiB'),
  /** No retry starts later than this after the request arrived. */
  retryDeadline: duration.prefault('10s'),
});

const websocket = z.strictObject({
  /** A spliced WebSocket with no traffic either way for this long is closed. */
  idleTimeout: duration.prefault('10m'),
  /**
   * Connections kept open ahead, per origin and worker, for the next WebSocket upgrades (only to
   * origins that had one in the last 5 minutes): an upgrade then skips the TCP and TLS handshakes
   * with its origin, a round trip or two to a far one. 0 = connect on each upgrade.
   */
  preconnect: z.number().int().min(0).max(64).default(0),
});

const shutdown = z.strictObject({
  /** How long a graceful stop waits for in-flight requests before closing what remains. */
  drainTimeout: duration.prefault('30s'),
});

const log = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** One JSON line per request on stdout. */
  access: z.boolean().default(true),
});

const originTls = z.strictObject({
  /** Verify the origin's certificate (on by default). */
  verify: z.boolean().default(true),
  /** CA bundle file to verify the origin with, instead of the system's. */
  ca: z.string().optional(),
  /** Client certificate and key files for mutual TLS to the origin. */
  cert: z.string().optional(),
  key: z.string().optional(),
  /** SNI name sent to the origin; default: the origin address's hostname. */
  servername: z.string().optional(),
}).refine((t) => !t.cert === !t.key, { message: 'expected both cert and key for a client certificate, or neither' });

const origin = z.strictObject({
  name: z.string().min(1),
  /** http(s)://host:port of the origin; ws(s) traffic goes to the same address. */
  address: z
    .string()
    .regex(/^https?:\/\/[^/\s]+\/?$/, 'expected an http:// or https:// address with host and port, and no path'),
  /** Share of traffic within its pool, 0..1 (0 = receives none unless all others are gone). */
  weight: z.number().min(0).max(1).default(1),
  enabled: z.boolean().default(true),
  /** Host header sent to this origin instead of the client's. */
  host: z.string().optional(),
  tls: originTls.optional(),
});


const pool = z.strictObject({
  region: z.string().optional(),
  location: location.optional(),
  monitor: z.string().optional(),
  minimumOrigins: z.number().int().positive().default(1),
  /**
   * How an origin is chosen in this pool: `p2c` (power of two choices on requests in flight, the
   * default), `round_robin`, `random` (both weighted), `hash` (client IP, consistent),
   * `least_outstanding_requests`, `least_connections` (counts open WebSockets).
   */
  originSteering: z.enum(ORIGIN_STEERING).default(DEFAULT_ORIGIN_STEERING),
  origins: z.array(origin).min(1),
});

const monitor = z.strictObject({
  type: z.enum(['http', 'https', 'tcp', 'websocket']).default('http'),
  method: z.string().default('GET'),
  path: z.string().default('/'),
  headers: z.record(z.string(), z.string()).default({}),
  /** `2xx`, `200`, `200,301`, `2xx,304`. */
  expectedCodes: z.string().regex(/^\s*([1-5]xx|[1-5]\d\d)(\s*,\s*([1-5]xx|[1-5]\d\d))*\s*$/, 'expected status codes such as 2xx, 200 or 200,301').default('2xx'),
  /** A substring the response body must contain (first 64 KiB). */
  expectedBody: z.string().optional(),
  followRedirects: z.boolean().default(false),
  interval: duration.prefault('60s'),
  timeout: duration.prefault('5s'),
  /** Immediate re-tries of a failed probe before it counts as one failure. */
  retries: z.number().int().nonnegative().default(2),
  /** Consecutive successes that make an unhealthy (or unknown) origin healthy. */
  consecutiveUp: z.number().int().positive().default(1),
  /** Consecutive failures that make a healthy (or unknown) origin unhealthy. */
  consecutiveDown: z.number().int().positive().default(1),
});

export const STEERING = ['off', 'random', 'geo', 'proximity', 'dynamic_latency', 'least_outstanding_requests'] as const;

const poolList = z.array(z.string()).min(1);

const sessionAffinity = z.strictObject({
  /** `cookie`: pinned by a signed cookie; `ip_cookie`: first pick by client IP, then the cookie; `header`: by request header values. */
  type: z.enum(['none', 'cookie', 'ip_cookie', 'header']).default('cookie'),
  /** Cookie lifetime (cookie, ip_cookie). */
  ttl: duration.prefault('23h'),
  cookieName: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a cookie name token').default('__outpost_lb'),
  /** `auto`: Secure when the request came over HTTPS. */
  secure: z.enum(['auto', 'always', 'never']).default('auto'),
  /** `none` lets an embedded widget on another site keep its session (needs Secure). */
  sameSite: z.enum(['auto', 'lax', 'strict', 'none']).default('auto'),
  httpOnly: z.boolean().default(true),
  /** Request headers whose values key the session (type header). */
  headers: z.array(z.string().min(1)).default([]),
  /**
   * When the pinned origin fails to connect: `none` — the client sees the error; `temporary` —
   * another origin answers, the cookie stays; `sticky` — another origin answers and the cookie moves.
   */
  zeroDowntimeFailover: z.enum(['none', 'temporary', 'sticky']).default('temporary'),
  /** An origin set `enabled: false` keeps its existing sessions this long (new ones go elsewhere). */
  drainDuration: duration.prefault('0s'),
  /** HMAC key for the cookie, shared by every worker and PoP; default: a key made at node start. */
  secret: z.string().min(16).optional(),
});

const loadBalancer = z.strictObject({
  /** Host this balancer serves: `chat.example.com`, `*.example.com`, or `*` for any host. */
  hostname: z
    .string()
    .regex(/^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/, 'expected a lowercase hostname, *.domain or *'),
  /** Pools in failover order. */
  defaultPools: poolList,
  /** The pool used when every default pool is down. */
  fallbackPool: z.string().optional(),
  /** How a pool is chosen (Cloudflare's steering policies); `off` = failover order. */
  steering: z.enum(STEERING).default('off'),
  /** geo: pools by our region name (eu-west, ap-southeast, …; Cloudflare codes WEU, SEAS… accepted). */
  regionPools: z.record(z.string(), poolList).default({}),
  /** geo: pools by ISO country code (client country). */
  countryPools: z.record(z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as DE'), poolList).default({}),
  /** geo: pools by PoP id (the PoP that took the request). */
  popPools: z.record(z.string(), poolList).default({}),
  randomSteering: z.strictObject({
    defaultWeight: z.number().min(0).max(1).default(1),
    poolWeights: z.record(z.string(), z.number().min(0).max(1)).default({}),
  }).prefault({}),
  sessionAffinity: sessionAffinity.optional(),
  adaptiveRouting: z.strictObject({
    /** Retries may go to origins of the next pools (not only the pool first chosen). */
    failoverAcrossPools: z.boolean().default(false),
  }).prefault({}),
});

const health = z.strictObject({
  /** Outlier ejection from real traffic (health/passive.ts). */
  passive: z.strictObject({
    enabled: z.boolean().default(true),
    /** Consecutive connection failures or 5xx answers that eject an origin. */
    consecutiveFailures: z.number().int().positive().default(5),
    /** First ejection lasts this long; each repeat adds as much again… */
    baseEjectionTime: duration.prefault('30s'),
    /** …up to this. */
    maxEjectionTime: duration.prefault('300s'),
    /** Never eject more than this share of a pool's origins. */
    maxEjectionPercent: z.number().min(0).max(100).default(50),
  }).prefault({}),
  /** URLs that receive every health change as JSON (POST). */
  webhooks: z.array(z.string().url()).default([]),
});

const geo = z.strictObject({
  /** MMDB files; default: the databases the npm packages ship. */
  countryDb: z.string().optional(),
  asnDb: z.string().optional(),
  /** Peers (CIDRs) whose client-IP header is believed; from anyone else the socket address counts. */
  trustedProxies: z.array(z.string()).default([]),
  clientIpHeader: z.string().default('x-forwarded-for'),
  /** Where loopback and private clients are placed. */
  privateDefault: z.strictObject({
    country: z.string().regex(/^[A-Z]{2}$/).optional(),
    region: z.string().optional(),
    location: location.optional(),
  }).prefault({}),
});

const admin = z.strictObject({
  /** Bearer token for the admin API's write endpoints (and reads of /api/*); none = API disabled. */
  token: z.string().min(16).optional(),
  /**
   * /metrics and /status answer without the token (default: true, for a Prometheus scraper on a
   * loopback or private admin address). false: they need `Authorization: Bearer <token>` too;
   * /healthz and /readyz stay open for load balancers' probes.
   */
  publicMetrics: z.boolean().default(true).describe('Serve /metrics and /status without the admin token (default true); false requires the Bearer token for them. /healthz and /readyz stay open.'),
}).superRefine((a, ctx) => {
  if (!a.publicMetrics && !a.token) ctx.addIssue({ code: 'custom', path: ['publicMetrics'], message: 'publicMetrics: false needs admin.token (the token /metrics and /status then ask for)' });
});

export const configSchema = z
  .strictObject({
    pop: pop,
    listen: listen,
    /** node:cluster workers; default one per core. */
    workers: z.number().int().min(1).max(256).optional(),
    tls: tls.optional(),
    limits: limits.prefault({}),
    upstream: upstream.prefault({}),
    websocket: websocket.prefault({}),
    shutdown: shutdown.prefault({}),
    log: log.prefault({}),
    monitors: z.record(z.string(), monitor).default({}),
    health: health.prefault({}),
    geo: geo.prefault({}),
    admin: admin.prefault({}),
    pools: z.record(z.string(), pool),
    loadBalancers: z.array(loadBalancer).min(1),
    /** The edge cache: stores, default level and TTLs, coalescing. */
    cache: cache.prefault({}),
    /** br/gzip at the edge for compressible answers the origin sent uncompressed. */
    compression: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Smaller answers (by Content-Length) are sent as they are. */
        minSize: size.prefault('1KiB'),
      })
      .prefault({}),
    /** The shield: security level, IP access rules, rate limits. */
    security: security.prefault({}),
    /** Page rules, in order: the first whose pattern matches a request's URL gives its settings. */
    rules: z.array(rule).default([]),
  });
// References between objects (pool names, monitors, policies that need data) are checked in
// references.ts, on the raw input, so they are reported even when other keys are wrong.

/** The validated config: units resolved, defaults filled in. */
export type Config = z.output<typeof configSchema>;
export type PoolConfig = Config['pools'][string];
export type OriginConfig = PoolConfig['origins'][number];
export type LoadBalancerConfig = Config['loadBalancers'][number];

/** JSON Schema of the file as written (input side), for editors. */
export function configJsonSchema(): object {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
}

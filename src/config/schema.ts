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
export const listenAddress = z.union([z.string(), z.number().int()]).transform((value, ctx) => {
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
  lat: z.number().min(-90).max(90).describe('Latitude in degrees, -90 to 90.'),
  lon: z.number().min(-180).max(180).describe('Longitude in degrees, -180 to 180.'),
});

const pop = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a short id of lowercase letters, digits and dashes (e.g. sin, fra-2)')
    .describe('Short id of this PoP (lowercase letters, digits, dashes: sin, fra-2); in logs, metrics, Via and popPools.'),
  region: z.string().min(1).default('default').describe('Region of this PoP (eu-west, ap-southeast…), for geo steering by region. Default: default.'),
  location: location.optional().describe('Coordinates of this PoP ({ lat, lon }); proximity steering needs them.'),
});

const listen = z
  .strictObject({
    http: listenAddress.optional().describe('Plain HTTP listener, host:port (0.0.0.0:8080, [::]:80, :8080). At least one of http and https is required.'),
    https: listenAddress.optional().describe('TLS listener (HTTP/1.1 and HTTP/2), host:port; needs tls.certificates.'),
    admin: listenAddress
      .default({ host: '127.0.0.1', port: 9090 })
      .describe('Admin listener (/healthz, /readyz, /status, /metrics, /api/), host:port; keep it on loopback or a private address. Default: 127.0.0.1:9090.'),
  })
  .refine((l) => l.http || l.https, { message: 'expected at least one of listen.http or listen.https' });

const certificate = z.strictObject({
  cert: z.string().min(1).describe('PEM certificate chain file (path relative to the config file).'),
  key: z.string().min(1).describe('PEM private key file.'),
  names: z.array(z.string().min(1)).optional().describe("Names this certificate serves (`example.com`, `*.example.com`); default: the certificate's own SANs."),
});

const tls = z.strictObject({
  certificates: z.array(certificate).min(1).describe('Certificates served on the https listener, chosen by SNI; the first is the default.'),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Lowest TLS version accepted from clients. Default: TLSv1.2.'),
  http2: z.boolean().default(true).describe('Offer HTTP/2 by ALPN on the TLS listener (h2 and http/1.1 on the same port). Default: true.'),
});

const limits = z.strictObject({
  maxConnections: z.number().int().positive().default(20_000).describe('Open client connections per worker; past it new ones are refused. Default: 20000.'),
  maxHeaderSize: size.prefault(16_384).describe('Request line + headers, in bytes; larger gets 431. Default: 16384.'),
  maxBodySize: size
    .prefault('100MiB')
    .describe(
      'A request body, in bytes (0 = no limit). A larger Content-Length gets 413 before anything reaches the origin; a body without one (chunked, HTTP/2) is cut when it grows past it. Default: 100MiB.',
    ),
  headersTimeout: duration.prefault('10s').describe('Time to receive the complete request headers (slowloris). Default: 10s.'),
  requestTimeout: duration.prefault('60s').describe('Time to receive the complete request, body included (slow POST). Default: 60s.'),
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
  keepAliveTimeout: duration.prefault('30s').describe('Idle time a client keep-alive connection is kept between requests. Default: 30s.'),
  maxRequestsPerConnection: z.number().int().nonnegative().default(0).describe('Requests served on one keep-alive connection before it is closed (0 = no limit). Default: 0.'),
  clientConnections: z
    .number()
    .int()
    .nonnegative()
    .default(256)
    .describe('Open connections per client (an IPv4 address, an IPv6 /64) per worker; past it new ones are closed (0 = no limit). Default: 256.'),
  clientConnectionRate: z
    .number()
    .int()
    .nonnegative()
    .default(100)
    .describe('New connections per second per client per worker, bursts of as many again; past it new ones are closed (0 = no limit). Default: 100.'),
  http2MaxStreams: z.number().int().min(1).max(1000).default(128).describe('Concurrent HTTP/2 streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS). Default: 128.'),
  http2MaxResetsPerSecond: z
    .number()
    .int()
    .positive()
    .default(100)
    .describe('Streams an HTTP/2 client may cancel (RST_STREAM) per second before its connection is closed (rapid reset). Default: 100.'),
});

const upstream = z.strictObject({
  connectTimeout: duration.prefault('5s').describe('Time to open a connection (TCP and TLS) to an origin; past it the next origin is tried. Default: 5s.'),
  responseTimeout: duration.prefault('60s').describe("Time to receive the origin's response headers; past it the client gets 504. Default: 60s."),
  bodyTimeout: duration.prefault('60s').describe('Longest silence between two body chunks from the origin; past it the response is cut. Default: 60s.'),
  keepAliveTimeout: duration.prefault('30s').describe('Idle keep-alive connections to an origin are closed after this long. Default: 30s.'),
  maxConnectionsPerOrigin: z.number().int().nonnegative().default(0).describe('Connections per origin per worker (0 = no limit). Default: 0.'),
  retries: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(2)
    .describe('Extra attempts on another origin when the connection fails before any response byte (refused, connect timeout, TLS, or a reset of an idempotent request). Default: 2.'),
  retryBudget: z
    .number()
    .min(0)
    .max(1)
    .default(0.2)
    .describe('Retries in flight stay under this share (0..1) of the requests in flight, per pool, summed over the workers of the node (but see retryBudgetMinimum). Default: 0.2.'),
  retryBudgetMinimum: z
    .number()
    .int()
    .min(0)
    .default(10)
    .describe(
      'Retries in flight always allowed whatever retryBudget says: an origin that dies resets every request it had in flight at once, and each of those idempotent requests deserves its retry (a burst, not a storm). Default: 10.',
    ),
  retryBodyLimit: size
    .prefault('64KiB')
    .describe(
      'Bodies of idempotent requests (PUT, DELETE) up to this size are read whole before they are sent, so a reset after sending can still be retried; larger ones stream and are not retried then. Default: 64KiB.',
    ),
  retryDeadline: duration.prefault('10s').describe('No retry starts later than this after the request arrived. Default: 10s.'),
});

const websocket = z.strictObject({
  idleTimeout: duration.prefault('10m').describe('A spliced WebSocket with no traffic either way for this long is closed. Default: 10m.'),
  preconnect: z
    .number()
    .int()
    .min(0)
    .max(64)
    .default(0)
    .describe(
      'Connections kept open ahead, per origin and worker, for the next WebSocket upgrades (only to origins that had one in the last 5 minutes): an upgrade then skips the TCP and TLS handshakes with its origin, a round trip or two to a far one. 0 = connect on each upgrade. Default: 0.',
    ),
});

const shutdown = z.strictObject({
  drainTimeout: duration.prefault('30s').describe('How long a graceful stop waits for in-flight requests before closing what remains. Default: 30s.'),
});

const log = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Lowest level logged (JSON lines on stdout). Default: info.'),
  access: z.boolean().default(true).describe('One JSON line per request on stdout. Default: true.'),
});

const originTls = z
  .strictObject({
    verify: z.boolean().default(true).describe("Verify the origin's certificate (on by default)."),
    ca: z.string().optional().describe("CA bundle file to verify the origin with, instead of the system's."),
    cert: z.string().optional().describe('Client certificate file for mutual TLS to the origin (with key).'),
    key: z.string().optional().describe('Client private key file for mutual TLS to the origin (with cert).'),
    servername: z.string().optional().describe("SNI name sent to the origin; default: the origin address's hostname."),
  })
  .refine((t) => !t.cert === !t.key, { message: 'expected both cert and key for a client certificate, or neither' });

const origin = z.strictObject({
  name: z.string().min(1).describe('Name of the origin, unique in its pool (in logs, metrics and the admin API).'),
  address: z
    .string()
    .regex(/^https?:\/\/[^/\s]+\/?$/, 'expected an http:// or https:// address with host and port, and no path')
    .describe('http(s)://host:port of the origin; ws(s) traffic goes to the same address.'),
  weight: z.number().min(0).max(1).default(1).describe('Share of traffic within its pool, 0..1 (0 = receives none unless all others are gone). Default: 1.'),
  enabled: z.boolean().default(true).describe('false: the origin gets no new traffic (its pinned sessions move or drain). Default: true.'),
  host: z.string().optional().describe("Host header sent to this origin instead of the client's."),
  tls: originTls.optional().describe('TLS to an https origin: verification, CA, client certificate, SNI name.'),
});

const pool = z.strictObject({
  region: z.string().optional().describe('Region of the pool (eu-west…), for geo steering by region.'),
  location: location.optional().describe('Coordinates of the pool ({ lat, lon }); proximity steering needs them.'),
  monitor: z.string().optional().describe("Name of the monitor (in monitors) that health-checks this pool's origins; none = not actively checked."),
  minimumOrigins: z.number().int().positive().default(1).describe('Healthy origins the pool needs to count as healthy; below it traffic fails over to the next pool. Default: 1.'),
  originSteering: z
    .enum(ORIGIN_STEERING)
    .default(DEFAULT_ORIGIN_STEERING)
    .describe(
      'How an origin is chosen in this pool: `p2c` (power of two choices on requests in flight, the default), `round_robin`, `random` (both weighted), `hash` (client IP, consistent), `least_outstanding_requests`, `least_connections` (counts open WebSockets).',
    ),
  origins: z.array(origin).min(1).describe('The servers of this pool (at least one).'),
});

const monitor = z.strictObject({
  type: z.enum(['http', 'https', 'tcp', 'websocket']).default('http').describe('Probe type: http, https, tcp (a connect) or websocket (an upgrade). Default: http.'),
  method: z.string().default('GET').describe('HTTP method of the probe. Default: GET.'),
  path: z.string().default('/').describe('Path the probe requests. Default: /.'),
  headers: z.record(z.string(), z.string()).default({}).describe('Request headers sent with the probe (Host, a token…).'),
  expectedCodes: z
    .string()
    .regex(/^\s*([1-5]xx|[1-5]\d\d)(\s*,\s*([1-5]xx|[1-5]\d\d))*\s*$/, 'expected status codes such as 2xx, 200 or 200,301')
    .default('2xx')
    .describe('Status codes that count as up: `2xx`, `200`, `200,301`, `2xx,304`. Default: 2xx.'),
  expectedBody: z.string().optional().describe('A substring the response body must contain (first 64 KiB).'),
  followRedirects: z.boolean().default(false).describe('Follow redirects before judging the status. Default: false.'),
  interval: duration.prefault('60s').describe('Time between probes of each origin. Default: 60s.'),
  timeout: duration.prefault('5s').describe('A probe that takes longer fails. Default: 5s.'),
  retries: z.number().int().nonnegative().default(2).describe('Immediate re-tries of a failed probe before it counts as one failure. Default: 2.'),
  consecutiveUp: z.number().int().positive().default(1).describe('Consecutive successes that make an unhealthy (or unknown) origin healthy. Default: 1.'),
  consecutiveDown: z.number().int().positive().default(1).describe('Consecutive failures that make a healthy (or unknown) origin unhealthy. Default: 1.'),
});

export const STEERING = ['off', 'random', 'geo', 'proximity', 'dynamic_latency', 'least_outstanding_requests'] as const;

const poolList = z.array(z.string()).min(1);

const sessionAffinity = z.strictObject({
  type: z
    .enum(['none', 'cookie', 'ip_cookie', 'header'])
    .default('cookie')
    .describe('`cookie`: pinned by a signed cookie; `ip_cookie`: first pick by client IP, then the cookie; `header`: by request header values. Default: cookie.'),
  ttl: duration.prefault('23h').describe('Cookie lifetime (cookie, ip_cookie). Default: 23h.'),
  cookieName: z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a cookie name token')
    .default('__outpost_lb')
    .describe('Name of the affinity cookie. Default: __outpost_lb.'),
  secure: z.enum(['auto', 'always', 'never']).default('auto').describe('Secure attribute of the cookie: `auto` (when the request came over HTTPS), `always` or `never`. Default: auto.'),
  sameSite: z
    .enum(['auto', 'lax', 'strict', 'none'])
    .default('auto')
    .describe('SameSite attribute of the cookie (auto, lax, strict, none); `none` lets an embedded widget on another site keep its session (needs Secure). Default: auto.'),
  httpOnly: z.boolean().default(true).describe('Send the affinity cookie HttpOnly (out of reach of page scripts). Default: true.'),
  headers: z.array(z.string().min(1)).default([]).describe('Request headers whose values key the session (type header). Default: none.'),
  zeroDowntimeFailover: z
    .enum(['none', 'temporary', 'sticky'])
    .default('temporary')
    .describe(
      'When the pinned origin fails to connect: `none` — the client sees the error; `temporary` — another origin answers, the cookie stays; `sticky` — another origin answers and the cookie moves. Default: temporary.',
    ),
  drainDuration: duration.prefault('0s').describe('An origin set `enabled: false` keeps its existing sessions this long (new ones go elsewhere). Default: 0s.'),
  secret: z.string().min(16).optional().describe('HMAC key for the cookie, shared by every worker and PoP; default: a key made at node start.'),
});

const loadBalancer = z.strictObject({
  hostname: z
    .string()
    .regex(/^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/, 'expected a lowercase hostname, *.domain or *')
    .describe('Host this balancer serves: `chat.example.com`, `*.example.com`, or `*` for any host.'),
  defaultPools: poolList.describe('Pools in failover order.'),
  fallbackPool: z.string().optional().describe('The pool used when every default pool is down.'),
  steering: z.enum(STEERING).default('off').describe("How a pool is chosen (Cloudflare's steering policies); `off` = failover order. Default: off."),
  regionPools: z.record(z.string(), poolList).default({}).describe('geo: pools by our region name (eu-west, ap-southeast, …; Cloudflare codes WEU, SEAS… accepted).'),
  countryPools: z
    .record(z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 code such as DE'), poolList)
    .default({})
    .describe('geo: pools by ISO country code (client country).'),
  popPools: z.record(z.string(), poolList).default({}).describe('geo: pools by PoP id (the PoP that took the request).'),
  randomSteering: z
    .strictObject({
      defaultWeight: z.number().min(0).max(1).default(1).describe('random steering: weight of a pool not listed in poolWeights, 0..1. Default: 1.'),
      poolWeights: z.record(z.string(), z.number().min(0).max(1)).default({}).describe('random steering: weight per pool name, 0..1.'),
    })
    .prefault({})
    .describe('Weights for steering: random.'),
  sessionAffinity: sessionAffinity.optional().describe('Keep a client on one origin (cookie, ip_cookie or header); none when absent.'),
  adaptiveRouting: z
    .strictObject({
      failoverAcrossPools: z.boolean().default(false).describe('Retries may go to origins of the next pools (not only the pool first chosen). Default: false.'),
    })
    .prefault({})
    .describe('How retries may leave the pool first chosen.'),
});

const health = z.strictObject({
  passive: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Eject origins on failures seen in real traffic. Default: true.'),
      consecutiveFailures: z.number().int().positive().default(5).describe('Consecutive connection failures or 5xx answers that eject an origin. Default: 5.'),
      baseEjectionTime: duration.prefault('30s').describe('First ejection lasts this long; each repeat adds as much again, up to maxEjectionTime. Default: 30s.'),
      maxEjectionTime: duration.prefault('300s').describe('Longest ejection. Default: 300s.'),
      maxEjectionPercent: z.number().min(0).max(100).default(50).describe("Never eject more than this share of a pool's origins. Default: 50."),
    })
    .prefault({})
    .describe('Outlier ejection: origins that fail in real traffic are taken out for a while.'),
  webhooks: z.array(z.string().url()).default([]).describe('URLs that receive every health change as JSON (POST). Default: none.'),
});

const geo = z.strictObject({
  countryDb: z.string().optional().describe('MMDB file of countries; default: the database the npm package ships.'),
  asnDb: z
    .string()
    .optional()
    .describe(
      'ASN data for ipRules by asn: an MMDB (GeoLite2-ASN layout) or an ip-location-db range CSV. Unset: the data of the optional package @ip-location-db/asn when an ipRule matches by asn (ASN lookups are off, with a warning, when it is not installed). Read at start.',
    ),
  trustedProxies: z.array(z.string()).default([]).describe('Peers (CIDRs) whose client-IP header is believed; from anyone else the socket address counts. Default: none.'),
  clientIpHeader: z.string().default('x-forwarded-for').describe('Header a trusted proxy puts the client address in. Default: x-forwarded-for.'),
  privateDefault: z
    .strictObject({
      country: z
        .string()
        .regex(/^[A-Z]{2}$/)
        .optional()
        .describe('Country (ISO 3166-1 alpha-2) given to loopback and private clients.'),
      region: z.string().optional().describe('Region given to loopback and private clients.'),
      location: location.optional().describe('Coordinates given to loopback and private clients ({ lat, lon }).'),
    })
    .prefault({})
    .describe('Where loopback and private clients are placed.'),
});

/**
 * Several PoPs sharing state (src/cluster, docs/cluster.md): purges, clearances and nonces,
 * health, admin actions, under-attack mode and the config reach every PoP through one Redis.
 */
const clusterConfig = z.strictObject({
  redis: z
    .string()
    .regex(/^(redis|rediss|redis\+sentinel|redis\+cluster):\/\/[^\s]+$/, 'expected redis://host:port, rediss://…, redis+sentinel://host:26379/master or redis+cluster://host:port,host:port')
    .describe(
      'The Redis every PoP of this edge shares: redis://[user:password@]host:port[/db], rediss:// (TLS), redis+sentinel://host:26379,host2:26379/mymaster, or redis+cluster://host:port,host:port. Without it each PoP keeps its state to itself.',
    ),
  prefix: z.string().min(1).max(64).default('outpost:').describe('Prefix of every Redis key this edge writes, so several edges can share one Redis. Default: "outpost:".'),
});

const admin = z
  .strictObject({
    token: z.string().min(16).optional().describe("Bearer token for the admin API's write endpoints (and reads of /api/*); none = API disabled."),
    /**
     * /metrics and /status answer without the token (default: true, for a Prometheus scraper on a
     * loopback or private admin address). false: they need `Authorization: Bearer <token>` too;
     * /healthz and /readyz stay open for load balancers' probes.
     */
    publicMetrics: z.boolean().default(true).describe('Serve /metrics and /status without the admin token (default true); false requires the Bearer token for them. /healthz and /readyz stay open.'),
  })
  .superRefine((a, ctx) => {
    if (!a.publicMetrics && !a.token) ctx.addIssue({ code: 'custom', path: ['publicMetrics'], message: 'publicMetrics: false needs admin.token (the token /metrics and /status then ask for)' });
  });

export const configSchema = z.strictObject({
  pop: pop.describe('This edge node (PoP): id, region, location.'),
  listen: listen.describe('Addresses to listen on: http, https, admin.'),
  workers: z.number().int().min(1).max(256).optional().describe('node:cluster workers; default one per core.'),
  tls: tls.optional().describe('TLS for the https listener: certificates, minimum version, HTTP/2.'),
  limits: limits.prefault({}).describe('Client limits: connections, header and body sizes, timeouts, HTTP/2 streams (see docs/shield.md).'),
  upstream: upstream.prefault({}).describe('Connections to origins: timeouts, pool size, retries and their budget.'),
  websocket: websocket.prefault({}).describe('WebSocket tunnels: idle timeout, connections opened ahead.'),
  shutdown: shutdown.prefault({}).describe('Graceful stop (SIGTERM): how long in-flight requests may finish.'),
  log: log.prefault({}).describe('Logging: level and access log (JSON lines on stdout).'),
  monitors: z.record(z.string(), monitor).default({}).describe('Active health checks by name; pools refer to them with monitor.'),
  health: health.prefault({}).describe('Passive health (ejection on failures in real traffic) and health-change webhooks.'),
  geo: geo.prefault({}).describe('Client geolocation: databases, trusted proxies, where private clients are placed.'),
  admin: admin.prefault({}).describe('The admin API: token, and whether /metrics and /status need it.'),
  cluster: clusterConfig.optional().describe('Share state with the other PoPs of this edge through Redis (docs/cluster.md). Default: none, each PoP on its own.'),
  pools: z.record(z.string(), pool).describe('Origin pools by name: a group of origins in one place with a monitor and origin steering.'),
  loadBalancers: z.array(loadBalancer).min(1).describe('Load balancers: a hostname each and how its traffic is steered across pools (at least one).'),
  cache: cache.prefault({}).describe('The edge cache: stores, default level and TTLs, coalescing.'),
  compression: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Compress answers at the edge (br, gzip) when the client accepts it. Default: true.'),
      minSize: size.prefault('1KiB').describe('Smaller answers (by Content-Length) are sent as they are. Default: 1KiB.'),
    })
    .prefault({})
    .describe('br/gzip at the edge for compressible answers the origin sent uncompressed.'),
  security: security.prefault({}).describe('The shield: security level, IP access rules, rate limits.'),
  rules: z.array(rule).default([]).describe("Page rules, in order: the first whose pattern matches a request's URL gives its settings. Default: none."),
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

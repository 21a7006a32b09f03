/**
 * The one typed context a request carries through the phases (STYLE habit 1). Phases read what
 * earlier phases decided and add their own decision; the observe phase reads all of it.
 */
import type { Cluster } from '../cluster/types.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { LoadBalancerRuntime, PoolRuntime } from '../balancer/pools.js';
import type { EdgeMetrics } from '../observe/metrics.js';
import type { Snapshot } from '../router/snapshot.js';
import type { OriginRuntime } from '../upstream/origin.js';
import type { OriginStatus } from '../balancer/origin-status.js';
import type { RetryBudget } from '../upstream/retry.js';
import type { EdgeError } from './errors.js';
import type { RuleConfig } from '../config/cache-schema.js';
import type { CacheExchange, EdgeCache } from '../cache/edge-cache.js';
import type { ConnectionGate } from '../shield/connection-gate.js';
import type { ShieldState } from '../shield/shield-state.js';
import type { Encoding } from '../cache/compress.js';

/** What lives as long as the worker: the current snapshot, metrics, the access log. */
export interface EdgeRuntime {
  snapshot: Snapshot;
  readonly metrics: EdgeMetrics;
  readonly log: Logger;
  /** Open proxied WebSockets, so a graceful stop can close them with 1001. */
  readonly tunnels: Set<{ goAway(): void; destroy(): void }>;
  /** Retry budgets by pool name (upstream/retry.ts), kept across reloads. */
  readonly retryBudgets: Map<string, RetryBudget>;
  /** Admin state and health of every origin, as selection reads it. */
  readonly status: OriginStatus;
  /** Where a client IP is (country, region, location); undefined when no database is loaded. */
  geo: GeoLookup | undefined;
  /** Normalizes region names (Cloudflare codes → ours). */
  normalizeRegion: (region: string) => string;
  /** Key for signed affinity cookies when a balancer sets no secret (shared by the node's workers). */
  readonly secret: string;
  /** The edge cache: store, coalescing, purge (cache/edge-cache.ts). */
  readonly cache: EdgeCache;
  /** The port the HTTPS listener is bound to (always-HTTPS redirects), when there is one. */
  httpsPort: number | undefined;
  /** Open connections and new-connection rate per client (shield/connection-gate.ts); `burst(ip)` feeds security levels. */
  readonly connections: ConnectionGate;
  /** State shared with the node's other workers and other PoPs (src/cluster): memory when alone. */
  readonly cluster: Cluster;
  /** The shield's process state: rate-limit counts, level counters, under-attack mode, traffic counts. */
  readonly shield: ShieldState;
}

export interface ClientGeo {
  country?: string;
  region?: string;
  asn?: number;
  location?: { lat: number; lon: number };
}

export interface GeoLookup {
  lookup(ip: string): ClientGeo;
}

export type ClientRequest = IncomingMessage | Http2ServerRequest;

/**
 * An HTTP/2 stream's request, told by what it is, not by the version it claims: Node's HTTP/1.x
 * parser takes a request line saying `HTTP/2.0` (or `HTTP/0.9`) and sets httpVersionMajor to match.
 */
export function isHttp2(req: ClientRequest): req is Http2ServerRequest {
  return (req as Http2ServerRequest).stream !== undefined;
}
export type ClientResponse = ServerResponse | Http2ServerResponse;

export interface RequestContext {
  readonly id: string;
  /** performance.now() when the request arrived. */
  readonly start: number;
  readonly edge: EdgeRuntime;
  readonly snapshot: Snapshot;
  /** The client's request. A WebSocket tunnel lets go of it once spliced (it may live for hours). */
  req: ClientRequest;
  /** What the access log needs of the request, kept apart so `req` can be released. */
  readonly method: string;
  /**
   * The request target as received, then (from the route phase on) normalised in origin-form:
   * what rules match, the cache keys and the origin receives (router/request-target.ts).
   */
  path: string;
  /** `http/1.1`, `h2`. */
  readonly proto: string;
  /** The response, for ordinary requests. */
  readonly res: ClientResponse | undefined;
  /** The raw client socket, for WebSocket upgrades (no response object exists then). */
  readonly socket: Duplex | undefined;
  /** Bytes the client sent past the upgrade request's headers. */
  readonly head: Buffer | undefined;
  readonly scheme: 'http' | 'https';
  readonly clientIp: string;
  /** The validated request host, lowercase, without port (route phase). */
  host: string;
  /** The Host header as the client sent it (with port), forwarded unless overridden. */
  authority: string;
  lb: LoadBalancerRuntime | undefined;
  pool: PoolRuntime | undefined;
  origin: OriginRuntime | undefined;
  /** Status sent to the client (0 until sent). */
  status: number;
  bytesOut: number;
  /** Milliseconds from sending upstream to the origin's response headers. */
  upstreamMs: number | undefined;
  error: EdgeError | undefined;
  /** Origins tried so far, the current one included (retries skip them). */
  tried: Set<OriginRuntime> | undefined;
  /** The pools this request may use, in steering order (retries fail over along it). */
  poolOrder: readonly PoolRuntime[] | undefined;
  /** Where the client is, when a phase needed to know. */
  client: ClientGeo | undefined;
  /** The origin came from a valid affinity cookie. */
  pinned: boolean;
  /** A Set-Cookie value to add to the response (a new or moved affinity pin). */
  setCookie: string | undefined;
  /** The request body read whole (small idempotent requests), so a retry can send it again. */
  bufferedBody?: Buffer;
  /** The page rule matching the URL (route phase), and its `*` captures. */
  rule: RuleConfig | undefined;
  captures: string[] | undefined;
  /** What the cache decided for this request, when it takes part (cache phase, filled on the way back). */
  cache: CacheExchange | undefined;
  /** How the cache answered (hit, stale, miss, revalidated, bypass), for the access log. */
  cacheResult?: string;
  /** The phases this request walks, and their response filters in the order of the way back. */
  pipeline: Pipeline;
}

/** A list of phases and its way back (the response filters, last phase first). */
export interface Pipeline {
  readonly phases: readonly Phase[];
  readonly wayBack: readonly ResponseFilter[];
  /** A background refresh of a cached answer for this kind of request: from balance on, the same way back (cache/revalidate.ts). */
  readonly refresh?: Pipeline;
}

/**
 * A phase makes one decision on the way in; true means it answered the request and the walk
 * stops. A phase with a `response` filter also acts on the origin's answer on the way back.
 */
export interface Phase {
  readonly name: string;
  run(ctx: RequestContext): boolean | Promise<boolean>;
  readonly response?: ResponseFilter;
}

/**
 * The origin's answer on its way back to the client, as the filters see it. A filter may rewrite
 * `headers`, hold the head back until `hold` settles (the origin's body waits), or answer the
 * client itself (`answered`: the origin's body is then only read, into the cache say).
 */
export interface ResponseHead {
  readonly status: number;
  /** The origin's fields as received. */
  readonly raw: readonly (Buffer | string)[];
  /** What the client gets, flat `[name, value, …]`: hop-by-hop fields gone, Via and the request id in. */
  headers: string[];
  /** The body is compressible at the edge; `encoding` when this client gets it compressed (compress phase). */
  compression: { encoding: Encoding | undefined } | undefined;
  hold: Promise<void> | undefined;
  answered: boolean;
}

/**
 * What a phase does on the way back (Pingora's response filters; Envoy runs its filters back in
 * reverse order, and so does the runner, pipeline/way-back.ts). Filters never throw.
 */
export interface ResponseFilter {
  /** The origin's response head, before it goes to the client. */
  head(ctx: RequestContext, head: ResponseHead): void;
  /** A chunk of the body as the client gets it (compressed when the edge compresses it). */
  data?(ctx: RequestContext, chunk: Buffer): void;
  /** The body ended whole. */
  end?(ctx: RequestContext): void;
  /** The body must be read to its end even when the client leaves (others wait for it). */
  needsBody?(ctx: RequestContext): boolean;
  /** The exchange with the origin failed for good (retries spent), nothing sent yet: true when the filter answered the client. */
  failed?(ctx: RequestContext): boolean;
  /** The exchange ended with nobody to answer: the client left, or the body outgrew its limit. */
  abandoned?(ctx: RequestContext): void;
}

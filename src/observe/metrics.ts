/**
 * Prometheus metrics of the edge. Each worker keeps its own registry; the admin listener in the
 * primary process sums them over IPC (prom-client's AggregatorRegistry), so /metrics shows the node.
 * Label values are bounded: the host label is the load balancer's configured hostname (never the
 * raw Host header), the origin label is `pool/origin` from the config.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { fastCounter, fastHistogram } from './fast-counter.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type EdgeMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(registry: Registry = new Registry(), defaults = true) {
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'outpost_process_' });
  return {
    registry,
    requests: fastCounter({
      name: 'outpost_requests_total',
      help: 'Requests answered, by load balancer host, status class and origin',
      labelNames: ['host', 'status_class', 'origin'] as const,
      registers: [registry],
    }),
    requestDuration: fastHistogram({
      name: 'outpost_request_duration_seconds',
      help: 'Time from request start to the last byte sent to the client',
      labelNames: ['host'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    upstreamDuration: fastHistogram({
      name: 'outpost_upstream_response_seconds',
      help: 'Time from sending the request to the origin to its response headers',
      labelNames: ['origin'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: 'outpost_upstream_errors_total',
      help: 'Failed exchanges with origins, by kind (refused, reset, timeout, bad_response, tls, ...)',
      labelNames: ['origin', 'kind'] as const,
      registers: [registry],
    }),
    websocketUpstreams: new Counter({
      name: 'outpost_websocket_upstream_connections_total',
      help: 'WebSocket upgrades answered by an origin, by the connection they went on: preconnected (websocket.preconnect) or new',
      labelNames: ['origin', 'connection'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'outpost_upstream_retries_total',
      help: 'Requests retried on another origin, by the origin that failed and why',
      labelNames: ['origin', 'reason'] as const,
      registers: [registry],
    }),
    connections: new Gauge({
      name: 'outpost_open_connections',
      help: 'Open client connections, by listener',
      labelNames: ['listener'] as const,
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: 'outpost_connections_refused_total',
      help: 'Client connections closed at once by the connection limits, by listener and reason (too-many-connections, too-fast, h2-rapid-reset)',
      labelNames: ['listener', 'reason'] as const,
      registers: [registry],
    }),
    websockets: new Gauge({
      name: 'outpost_websockets_open',
      help: 'Open proxied WebSockets, by origin',
      labelNames: ['origin'] as const,
      registers: [registry],
    }),
    cacheRequests: fastCounter({
      name: 'outpost_cache_requests_total',
      help: 'Requests that took part in the cache, by host, page rule and result (hit, stale, revalidated, miss, bypass)',
      labelNames: ['host', 'rule', 'result'] as const,
      registers: [registry],
    }),
    cacheBytes: fastCounter({
      name: 'outpost_cache_served_bytes_total',
      help: 'Body bytes answered from the cache, by host and page rule',
      labelNames: ['host', 'rule'] as const,
      registers: [registry],
    }),
    shieldActions: fastCounter({
      name: 'outpost_shield_actions_total',
      help: 'Requests the shield acted on, by rule (ip-rule-N, rate-limit-N) and action (block, challenge, rate-limit, log)',
      labelNames: ['rule', 'action'] as const,
      registers: [registry],
    }),
    clientErrors: new Counter({
      name: 'outpost_client_errors_total',
      help: 'Requests refused before routing (malformed, oversize headers, bad host, timeouts)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}

/**
 * The supervisor's own metrics. Kept apart from the workers' set: /metrics appends this registry
 * to the workers' summed one, and a family present in both would be exposed twice (a second
 * HELP/TYPE for the same name, which Prometheus parsers reject).
 */
export function createSupervisorMetrics(registry: Registry = new Registry()) {
  return {
    registry,
    configReloads: new Counter({
      name: 'outpost_config_reloads_total',
      help: 'Config reloads, by result (applied, refused)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    healthChanges: new Counter({
      name: 'outpost_health_changes_total',
      help: 'Active health status changes, by origin and new status',
      labelNames: ['origin', 'to'] as const,
      registers: [registry],
    }),
    originHealthy: new Gauge({
      name: 'outpost_origin_healthy',
      help: 'Active health of each monitored origin: 1 healthy, 0 unhealthy, -1 unknown',
      labelNames: ['origin'] as const,
      registers: [registry],
    }),
    poolRtt: new Gauge({
      name: 'outpost_pool_rtt_seconds',
      help: "EWMA of the pool's monitor round-trip time from this PoP",
      labelNames: ['pool'] as const,
      registers: [registry],
    }),
    clusterConnected: new Gauge({
      name: 'outpost_cluster_connected',
      help: 'Whether this PoP reaches the state it shares with other PoPs (cluster.redis): 1 yes, 0 no (the local fallbacks answer)',
      registers: [registry],
    }),
    clusterFallbacks: new Gauge({
      name: 'outpost_cluster_fallbacks',
      help: 'Calls to the shared state answered by a local fallback since start (Redis slow or away)',
      registers: [registry],
    }),
    pushedConfigVersion: new Gauge({
      name: 'outpost_config_pushed_version',
      help: 'The pushed config version this PoP runs (0: its own file)',
      registers: [registry],
    }),
  };
}

/** `2xx`, `5xx`, …: the status label, so the series count stays small. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

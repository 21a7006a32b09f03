/**
 * The routing snapshot: everything a request needs from the config, built whole from one
 * validated config and swapped in as one reference (STYLE habit 5). Requests keep the snapshot
 * they started with; nothing in it is mutated after build.
 */
import type { Config } from '../config/schema.js';
import { buildLoadBalancer, buildPool, type LoadBalancerRuntime, type PoolRuntime } from '../balancer/pools.js';
import { buildCertificateTable, type CertificateTable } from '../server/certificates.js';
import type { OriginStatus } from '../balancer/origin-status.js';
import type { OriginRegistry, OriginRuntime } from '../upstream/origin.js';
import { createClientIpResolver, type ClientIpResolver } from '../geo/client-ip.js';
import { HostTable } from './host-table.js';
import { firstMatch, type UrlParts } from './url-pattern.js';
import type { RuleConfig } from '../config/cache-schema.js';
import { ShieldState, type ShieldRules } from '../shield/shield-state.js';

export interface Snapshot {
  readonly version: number;
  readonly config: Config;
  readonly hosts: HostTable<LoadBalancerRuntime>;
  readonly pools: ReadonlyMap<string, PoolRuntime>;
  readonly origins: readonly OriginRuntime[];
  readonly originsById: ReadonlyMap<string, OriginRuntime>;
  /** The client's address: the socket's, or the header's when the peer is a trusted proxy. */
  readonly clientIp: ClientIpResolver;
  readonly certificates: CertificateTable | undefined;
  /** The page rule for a URL (first match), with its `*` captures; compiled once per snapshot. */
  readonly rules: (url: UrlParts) => { rule: RuleConfig; captures: string[] } | undefined;
  /** The shield's compiled IP rules and rate-limit rules (their counts are the runtime's ShieldState). */
  readonly shield: ShieldRules;
}

let versions = 0;

/** Builds a snapshot; throws only for IO failures (a certificate file vanished since validation). */
export function buildSnapshot(config: Config, registry: OriginRegistry, status: OriginStatus, normalizeRegion: (r: string) => string = (r) => r, shield: ShieldState = new ShieldState()): Snapshot {
  const pools = new Map<string, PoolRuntime>();
  const origins: OriginRuntime[] = [];
  for (const [name, cfg] of Object.entries(config.pools)) {
    const list = cfg.origins.map((o) => registry.build(name, o, config.upstream, config.websocket.preconnect));
    origins.push(...list);
    pools.set(name, buildPool(name, cfg, list, status));
  }
  status.noteConfig(origins);
  const hosts = new HostTable(config.loadBalancers.map((lb) => [lb.hostname, buildLoadBalancer(lb, pools, normalizeRegion)] as const));
  // Frozen: what a request reads of its snapshot cannot change under it. Process state (counts,
  // health, under-attack mode) is the runtime's (pipeline/context.ts EdgeRuntime).
  return Object.freeze({
    version: ++versions,
    config,
    hosts,
    pools,
    origins,
    originsById: new Map(origins.map((o) => [o.id, o])),
    clientIp: createClientIpResolver({ trustedProxies: config.geo.trustedProxies, header: config.geo.clientIpHeader }),
    certificates: config.tls ? buildCertificateTable(config.tls) : undefined,
    rules: config.rules.length ? firstMatch(config.rules) : () => undefined,
    shield: Object.freeze(shield.compile(config.security)),
  });
}

/**
 * Whether an origin may take a request now: the one question selection asks, answered from three
 * independent sources (STYLE habit 4 — who exists, who is healthy, who is picked):
 *  - admin state: `enabled` from the config, overridden at run time by the admin API
 *    (enable, disable, drain) without a reload;
 *  - active health: the monitor's verdict (unknown until the first check counts as up, so a
 *    start or a reload never black-holes traffic — stated, not accidental);
 *  - passive health: ejected after consecutive failures of real traffic.
 * Lives as long as the worker; snapshots come and go around it.
 */
import type { OriginRuntime } from '../upstream/origin.js';
import type { LoadView, OriginCandidate } from './origin/types.js';

export type HealthVerdict = 'healthy' | 'unhealthy' | 'unknown';

/** Active health as the balancer reads it (health/ provides it; tests can hand in a map). */
export interface ActiveHealth {
  /** By origin (its id is `pool/origin`): asked per request, so no key is built here. */
  verdict(origin: { readonly id: string; readonly pool: string; readonly name: string }): HealthVerdict;
  /** EWMA round-trip of the pool's monitor from this PoP, ms; undefined without data. */
  poolRtt(pool: string): number | undefined;
}

/** What the node's other workers hold of each origin, as they last published it (node-load.ts). */
export interface PeerLoad {
  inflight(originId: string): number;
  websockets(originId: string): number;
}

/** Passive health (outlier ejection). */
export interface PassiveHealth {
  isEjected(originId: string, now: number): boolean;
  /** One real request's outcome (health/passive.ts counts them); optional for read-only views. */
  record?(originId: string, outcome: 'success' | 'connect_failure' | 'server_error'): unknown;
}

export interface AdminOverride {
  enabled: boolean;
  /** When it was disabled (ms), for drainDuration. */
  since: number;
}

export class OriginStatus implements LoadView {
  active: ActiveHealth | undefined;
  passive: PassiveHealth | undefined;
  /** The other workers' load; none in a single process. */
  peers: PeerLoad | undefined;
  /** Run-time enable/disable by origin id, set through the admin API; survives reloads. */
  readonly overrides = new Map<string, AdminOverride>();
  /** When a config reload disabled an origin, for drains started by editing the file. */
  private readonly disabledAt = new Map<string, number>();

  /** Enabled by admin state (override first, then the config). */
  enabled(o: OriginRuntime): boolean {
    return this.overrides.get(o.id)?.enabled ?? o.enabled;
  }

  /** Since when (ms) the origin has been disabled, or undefined if it is enabled. */
  disabledSince(o: OriginRuntime): number | undefined {
    if (this.enabled(o)) return undefined;
    return this.overrides.get(o.id)?.since ?? this.disabledAt.get(o.id) ?? 0;
  }

  /** Healthy by the monitor and not ejected (regardless of admin state). */
  healthy(o: OriginRuntime, now = Date.now()): boolean {
    if (this.active && this.active.verdict(o) === 'unhealthy') return false;
    if (this.passive?.isEjected(o.id, now)) return false;
    return true;
  }

  /** May get new traffic: enabled and healthy. */
  usable(o: OriginRuntime, now = Date.now()): boolean {
    return this.enabled(o) && this.healthy(o, now);
  }

  /** Requests in flight to `o` from the node: this worker's live count plus the others' last published. */
  inflight(o: OriginCandidate): number {
    return o.load.inflight + (this.peers?.inflight(o.id) ?? 0);
  }

  /** Open WebSockets to `o` from the node, counted the same way. */
  websockets(o: OriginCandidate): number {
    return o.load.websockets + (this.peers?.websockets(o.id) ?? 0);
  }

  /** Records which origins a new config disabled, so their drain time counts from now. */
  noteConfig(origins: readonly OriginRuntime[], now = Date.now()): void {
    const seen = new Set<string>();
    for (const o of origins) {
      seen.add(o.id);
      if (o.enabled) this.disabledAt.delete(o.id);
      else if (!this.disabledAt.has(o.id)) this.disabledAt.set(o.id, now);
    }
    for (const id of this.disabledAt.keys()) if (!seen.has(id)) this.disabledAt.delete(id);
  }
}

/**
 * Origin steering: how one origin is chosen inside a pool. Selection only reads: who exists
 * comes from the config snapshot, who is healthy from health; a policy picks among what it is
 * given and never mutates the candidates or their counters.
 */

/**
 * What a policy reads of an origin. `OriginRuntime` (src/upstream/origin.ts) satisfies it;
 * keeping it structural lets tests and simulations hand in plain objects.
 */
export interface OriginCandidate {
  /** Stable identity (`pool/origin`): the hash policy scores on it. */
  readonly id: string;
  /** Share of traffic within the pool, 0..1; 0 = only when every candidate is 0. */
  readonly weight: number;
  /** Live counters, kept by the proxy: requests in flight and open WebSocket tunnels. */
  readonly load: { readonly inflight: number; readonly websockets: number };
}

export interface OriginSelector {
  /**
   * An origin among `candidates` (never empty in practice), or undefined if given none.
   * `key` is the request's affinity key, the client IP; only `hash` reads it.
   */
  pick<O extends OriginCandidate>(candidates: readonly O[], key?: string): O | undefined;
}

/**
 * How a policy reads an origin's load. By default this process's live counters; a node's
 * workers read the node's (origin-status.ts: their own live count plus what the other workers
 * last published, node-load.ts), so N workers steer as one.
 */
export interface LoadView {
  inflight(o: OriginCandidate): number;
  websockets(o: OriginCandidate): number;
}

/** This process's own counters. */
export const localLoad: LoadView = {
  inflight: (o) => o.load.inflight,
  websockets: (o) => o.load.websockets,
};

export interface OriginSelectorOptions {
  /** Uniform [0, 1) source; tests and simulations pass a seeded one. Default Math.random. */
  random?: () => number;
  /** Where load is read; default `localLoad`. */
  load?: LoadView;
}

export type OriginSelectorFactory = (options?: OriginSelectorOptions) => OriginSelector;

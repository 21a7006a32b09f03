/**
 * When a failed exchange with an origin may be tried again on another origin (peers.md §4.3):
 * - only failures before any response byte: refused, DNS, connect timeout, TLS handshake, or a
 *   reset before the answer began;
 * - a reset after the request was sent is retried only for idempotent methods (RFC 9110 §9.2.2),
 *   since the origin may have acted on it; connect-phase failures are always safe;
 * - a request body already read (streamed to the failed origin) cannot be sent again;
 * - within a budget: retries in flight stay under a share of the requests in flight (Envoy's
 *   retry budget), so an outage does not multiply the load on the origins still standing. A
 *   connect-phase failure is outside the budget: no origin did any work for it, so its retry adds
 *   no load, and an origin that dies under load would otherwise fail exactly the requests that
 *   arrive in the burst before health notices;
 * - before a deadline counted from the request's start.
 */
import type { EdgeError } from '../pipeline/errors.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Failures where nothing reached the origin's application. */
const CONNECT_PHASE = new Set(['origin_refused', 'origin_dns', 'origin_unreachable', 'origin_connect_timeout', 'origin_tls']);

export interface RetryPolicy {
  /** Extra attempts after the first. */
  retries: number;
  /** Retries in flight may be at most this share (0..1) of requests in flight… */
  budgetRatio: number;
  /** …but at least this many. */
  budgetMinimum: number;
  /** No new attempt starts this long after the request began (ms). */
  deadlineMs: number;
}

/** Failures where nothing reached the origin: retrying them adds no load anywhere. */
export function isConnectPhase(err: EdgeError): boolean {
  return CONNECT_PHASE.has(err.code);
}

export function mayRetry(err: EdgeError, method: string, bodyRead: boolean): boolean {
  if (bodyRead) return false;
  if (CONNECT_PHASE.has(err.code)) return true;
  return err.code === 'origin_reset' && IDEMPOTENT.has(method);
}

/**
 * Concurrency-based retry budget, one per pool per worker, counted for the node: this worker's
 * live counts plus the other workers' as they last published them (balancer/node-load.ts sets
 * `peer*`; a process alone leaves them 0). So the budget and its minimum are the node's, however
 * many workers share the traffic, within the staleness of the published counts.
 */
export class RetryBudget {
  active = 0;
  retrying = 0;
  peerActive = 0;
  peerRetrying = 0;

  allows(policy: RetryPolicy): boolean {
    return this.retrying + this.peerRetrying < Math.max(policy.budgetMinimum, (this.active + this.peerActive) * policy.budgetRatio);
  }
}

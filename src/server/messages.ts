/** The IPC messages between the supervisor (primary) and its workers. */
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import type { PurgeRequest } from '../cache/edge-cache.js';

export type ToWorker =
  /** `secret` keys affinity cookies when a balancer sets none: one per node, so every worker agrees. */
  | { type: 'outpost:config'; config: Config; secret: string }
  | { type: 'outpost:shutdown'; drainMs: number }
  | { type: 'outpost:stats-request'; id: number }
  | { type: 'outpost:purge'; id: number; request: PurgeRequest }
  /** Under-attack mode of the node (admin API, CLI, automatic detector). */
  | { type: 'outpost:under-attack'; active: boolean };

/** A worker's live counts per origin, summed by the supervisor for the admin API. */
export interface OriginStats {
  inflight: number;
  websockets: number;
}

export type FromWorker =
  /** Sent once the worker listens for messages (an ESM worker loads after 'online'; earlier messages are lost). */
  | { type: 'outpost:hello' }
  | { type: 'outpost:ready'; addresses: { http?: AddressInfo; https?: AddressInfo } }
  | { type: 'outpost:applied'; version: number }
  | { type: 'outpost:failed'; message: string }
  | { type: 'outpost:stats'; id: number; origins: Record<string, OriginStats>; cache: CacheStats }
  | { type: 'outpost:purged'; id: number; count: number; error?: string }
  /** Requests seen and mitigated by rules in the last second, for the under-attack detector. */
  | { type: 'outpost:traffic'; requests: number; mitigated: number };

/** A worker's cache: bytes and entries its store holds, and why it degraded if it did. */
export interface CacheStats {
  bytes: number;
  entries: number;
  failure?: string;
}

export function isOutpostMessage(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('outpost:');
}

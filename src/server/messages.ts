/** The IPC messages between the supervisor (primary) and its workers. */
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';

export type ToWorker =
  | { type: 'outpost:config'; config: Config }
  | { type: 'outpost:shutdown'; drainMs: number };

export type FromWorker =
  /** Sent once the worker listens for messages (an ESM worker loads after 'online'; earlier messages are lost). */
  | { type: 'outpost:hello' }
  | { type: 'outpost:ready'; addresses: { http?: AddressInfo; https?: AddressInfo } }
  | { type: 'outpost:applied'; version: number }
  | { type: 'outpost:failed'; message: string };

export function isOutpostMessage(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('outpost:');
}

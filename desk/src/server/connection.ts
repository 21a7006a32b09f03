/**
 * One client socket on this node and what the node knows about it: who it is (after its hello),
 * the highest seq it was sent per conversation (to catch it up after a fan-out outage), its typing
 * timers, its rate-limit bucket and its heartbeat count.
 */
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { Operator, Visitor } from '../store/types.js';
import { TokenBucket } from './token-bucket.js';

/** A client that lets this much pile up unread is cut off; it reconnects and resyncs from the database. */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** Operators' seq marks kept per socket (the most recent conversations). */
const MAX_SEEN = 1000;

export type Identity =
  | { kind: 'none' }
  | { kind: 'visitor'; workspaceId: string; visitor: Visitor; conversationId: string }
  | { kind: 'operator'; workspaceId: string; operator: Operator; token: string };

export interface UpgradeInfo {
  /** The upgrade's Origin header, if any. */
  origin: string | undefined;
  /** The Origin is the node's own (the inbox, the demo page). */
  sameOrigin: boolean;
  /** The edge's country (`x-outpost-country`). */
  country: string | undefined;
  userAgent: string | undefined;
  /** The socket is a regional node's, on behalf of this client (desk/REGIONAL.md). */
  regional?: boolean;
}

export class DeskConnection {
  readonly id = randomUUID();
  identity: Identity = { kind: 'none' };
  /** Highest message seq sent, per conversation. */
  readonly seen = new Map<string, number>();
  /** Typing state per conversation: the auto-stop timer and when `start` was last passed on. */
  readonly typing = new Map<string, { timer: NodeJS.Timeout; sentAt: number }>();
  missedPings = 0;
  readonly bucket: TokenBucket;
  /** Frames received and not yet handled (they are handled one at a time, in order). */
  pending = 0;
  queue: Promise<void> = Promise.resolve();
  /** While the hello is answered: events for this socket wait here, to follow the welcome. */
  private held: { text: string; seq?: { conversation: string; seq: number } }[] | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly upgrade: UpgradeInfo,
    rate: { perSecond: number; burst: number },
  ) {
    this.bucket = new TokenBucket(rate.perSecond, rate.burst, Date.now());
  }

  get workspaceId(): string | undefined {
    return this.identity.kind === 'none' ? undefined : this.identity.workspaceId;
  }

  /**
   * Sends one event (or an already serialized one); drops it when the socket is not open. `seq`
   * marks a `message.new`, so events held during the hello that the welcome already carried are
   * not sent twice.
   */
  send(event: object | string, seq?: { conversation: string; seq: number }): void {
    const text = typeof event === 'string' ? event : JSON.stringify(event);
    if (this.held) {
      this.held.push({ text, seq });
      return;
    }
    this.write(text);
    if (seq) this.markSeen(seq.conversation, seq.seq);
  }

  /** Holds events until `release` (between joining the hub and sending the welcome). */
  hold(): void {
    this.held ??= [];
  }

  /** Sends `first` (the welcome), then what was held, minus messages already seen. */
  release(first: object): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.write(JSON.stringify(first));
    for (const h of held) {
      if (h.seq && h.seq.seq <= (this.seen.get(h.seq.conversation) ?? 0)) continue;
      this.write(h.text);
      if (h.seq) this.markSeen(h.seq.conversation, h.seq.seq);
    }
  }

  /** Sends an error past any hold and closes the socket (a failed hello, an expired session). */
  fail(error: object, code: number, reason: string): void {
    this.held = undefined;
    this.write(JSON.stringify(error));
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
  }

  private write(text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED) {
      this.ws.close(1013, 'too slow');
      return;
    }
    this.ws.send(text);
  }

  markSeen(conversationId: string, seq: number): void {
    const had = this.seen.get(conversationId) ?? 0;
    if (seq <= had) return;
    this.seen.delete(conversationId);
    this.seen.set(conversationId, seq);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.keys().next().value!);
  }

  clearTyping(): void {
    for (const t of this.typing.values()) clearTimeout(t.timer);
    this.typing.clear();
  }
}

/**
 * What every part of a Desk node shares: the store, this node's sockets (hub), the presence
 * board, the fan-out and the webhooks, and `emit`, the one way an event leaves the code that
 * caused it: delivered to this node's sockets, published to the other nodes, and (for
 * `message.new` / `conversation.update` worth telling the outside) sent to the webhooks.
 */
import type { Logger } from 'pino';
import type { AttachmentPolicy } from '../attachments/policy.js';
import type { Conversation, DeskStore, Visitor, Workspace } from '../store/types.js';
import { noFanout, type Fanout, type FanoutMessage } from './fanout.js';
import { Hub, type Audience, type ServerEvent } from './hub.js';
import { available, PresenceBoard, type PresenceEntry } from './presence.js';
import { LoginThrottle } from './login-throttle.js';
import { SendLimiter } from './send-limits.js';
import type { WebhookSender } from './webhooks.js';

export interface DeskTimings {
  /** Server ping interval; a socket that missed two is closed (PROTOCOL.md, Liveness). */
  heartbeatMs: number;
  /** A `typing start` stops by itself after this long. */
  typingTimeoutMs: number;
  /** A socket must say hello within this long. */
  helloTimeoutMs: number;
  /** Events per second and burst per socket. */
  rate: { perSecond: number; burst: number };
  /** How long another node's presence list is believed, and how often this node republishes its own. */
  presenceTtlMs: number;
  presenceRepublishMs: number;
  /** How often snoozes that are due are ended. */
  snoozeSweepMs: number;
}

export const defaultTimings: DeskTimings = {
  heartbeatMs: 15_000,
  typingTimeoutMs: 6_000,
  helloTimeoutMs: 10_000,
  rate: { perSecond: 20, burst: 40 },
  presenceTtlMs: 30_000,
  presenceRepublishMs: 10_000,
  snoozeSweepMs: 15_000,
};

/** Workspaces change rarely (settings); origin checks and webhook signing read them from here. */
const WORKSPACE_TTL_MS = 30_000;

export interface EmitOptions {
  /** Also POST it to the webhooks (only where the event happened). */
  webhook?: { type: 'message.new' | 'conversation.update'; data: unknown };
}

/** What the rest of the node asks of email (email/outbound.ts), when it is configured. */
export interface DeskMailer {
  /** Emails the conversation, notes left out, to `to`. */
  sendTranscript(conv: Conversation, to: string): Promise<void>;
  /** Emails the visitor a link that confirms their address (email/confirm.ts) and then sends the conversation's transcript. */
  sendConfirmation(conv: Conversation, visitor: Visitor): Promise<void>;
}

export class DeskContext {
  readonly hub = new Hub();
  readonly presence = new PresenceBoard();
  private fanout: Fanout = noFanout;
  /** Outbound email, when the node has an SMTP server to send through. */
  mailer: DeskMailer | undefined;
  /** What this node takes as attachments (welcomes say it), null: none. */
  attachments: AttachmentPolicy | null = null;
  /** Emails a visitor may have sent on their request, per address and per visitor. */
  sendLimits = new SendLimiter();
  /** Failed sign-ins per account and per client address (login-throttle.ts). */
  loginThrottle = new LoginThrottle();
  private readonly workspaces = new Map<string, { at: number; value: Promise<Workspace | undefined> }>();
  private readonly presenceSent = new Map<string, string>();

  constructor(
    readonly store: DeskStore,
    readonly nodeId: string,
    readonly log: Logger,
    readonly timings: DeskTimings,
    private readonly webhooks: WebhookSender,
  ) {}

  useFanout(fanout: Fanout): void {
    this.fanout = fanout;
  }

  get fanoutConfigured(): boolean {
    return this.fanout.configured;
  }

  fanoutHealthy(): boolean {
    return this.fanout.healthy();
  }

  /** A workspace, cached for 30 s (misses too, briefly, so a bad id cannot hammer the database). */
  workspace(id: string): Promise<Workspace | undefined> {
    const now = Date.now();
    const hit = this.workspaces.get(id);
    if (hit && now - hit.at < WORKSPACE_TTL_MS) return hit.value;
    const value = this.store.getWorkspace(id);
    this.workspaces.set(id, { at: now, value });
    value.then(
      (w) => {
        if (!w) setTimeout(() => this.workspaces.get(id)?.value === value && this.workspaces.delete(id), 1000).unref();
      },
      () => this.workspaces.delete(id),
    );
    if (this.workspaces.size > 10_000) this.workspaces.delete(this.workspaces.keys().next().value!);
    return value;
  }

  /** Delivers locally, publishes to the other nodes, and sends the webhook if asked. */
  emit(workspaceId: string, to: Audience, event: ServerEvent, opts: EmitOptions = {}): void {
    this.hub.deliver(workspaceId, to, event);
    this.fanout.publish(workspaceId, { to, event });
    if (opts.webhook) {
      const { type, data } = opts.webhook;
      this.workspace(workspaceId).then(
        (w) => w && this.webhooks.send(w, type, data),
        (err: unknown) => this.log.warn({ err }, 'desk webhook: workspace lookup failed'),
      );
    }
  }

  /** An event from another node: to this node's sockets only. */
  receive(msg: FanoutMessage): void {
    if ('presence' in msg) {
      this.presence.applyRemote(msg.workspace, msg.origin, msg.presence.operators, msg.presence.ttlMs, Date.now());
      this.refreshPresence(msg.workspace);
      return;
    }
    this.hub.deliver(msg.workspace, msg.to, msg.event);
  }

  /** Publishes this node's operators of a workspace (after a change, and periodically). */
  publishPresence(workspaceId: string): void {
    this.fanout.publish(workspaceId, { presence: { operators: this.presence.localEntries(workspaceId), ttlMs: this.timings.presenceTtlMs } });
  }

  presenceList(workspaceId: string): PresenceEntry[] {
    return this.presence.list(workspaceId, Date.now());
  }

  /** Tells this node's sockets of a workspace who is at the desk, when that changed. */
  refreshPresence(workspaceId: string): void {
    const operators = this.presenceList(workspaceId);
    const key = JSON.stringify(operators);
    if (this.presenceSent.get(workspaceId) === key) return;
    this.presenceSent.set(workspaceId, key);
    const isAvailable = available(operators);
    this.hub.deliver(workspaceId, { kind: 'operators' }, { type: 'presence', operators, available: isAvailable });
    this.hub.deliver(workspaceId, { kind: 'visitors' }, { type: 'presence', operators: publicPresence(operators), available: isAvailable });
  }
}

/** What a visitor sees of the operators: names and status, no ids. */
export function publicPresence(operators: PresenceEntry[]): { name: string; status: string }[] {
  return operators.map((o) => ({ name: o.name, status: o.status }));
}

/**
 * One client socket on a regional node and its socket to the core. Frames go through both ways
 * as they are, in order, with one exception: once the client is welcomed, a `message.send` is
 * written to the journal and answered here with `message.accepted {clientId}` before it is passed
 * on, so the client hears that its message is safe after one trip to this node, not to the core.
 * The core's `message.ack` (with the message's seq) follows through as usual and clears the row.
 *
 * A new visitor (a hello without a session) is welcomed here when this node knows the workspace
 * (workspaces.ts): a session token and a conversation id minted here, no messages, who is at the
 * desk; the hello goes on to the core with them (`mint`), which creates the visitor and the
 * conversation with those, so chat-ready costs no trip to the core. The core's own welcome, when
 * it comes, is kept from the client (a `presence` event follows if the desk changed meanwhile).
 *
 * The relay learns who the client is from the welcome (the visitor's session, or the operator's
 * token from the hello), which is what a replay needs to send the row again.
 *
 * When the client leaves, the core socket stays until the core has acknowledged what the client
 * sent (at most DRAIN_MS); when the core socket drops, the client is closed with 1012 and
 * reconnects (its widget re-sends what was not acknowledged by the core).
 */
import type { RawData, WebSocket } from 'ws';
import type { UpgradeInfo } from '../server/connection.js';
import { visitorOriginAllowed } from '../server/origins.js';
import { newToken } from '../server/sessions.js';
import { newId } from '../store/ids.js';
import type { Journal } from './journal.js';
import type { WorkspaceFacts, Workspaces } from './workspaces.js';

const DRAIN_MS = 10_000;
/** Close codes of the core that mean something to the client (4401, 4403, 1008, …) pass through; 1006 (no close frame) becomes 1012. */
const passThrough = (code: number) => code >= 4000 || code === 1008 || code === 1009 || code === 1013 || code === 1001;

interface Frame {
  type?: unknown;
  clientId?: unknown;
  ref?: unknown;
  session?: unknown;
  token?: unknown;
  workspace?: unknown;
  conversation?: unknown;
  messages?: unknown;
  availability?: unknown;
  available?: unknown;
  operators?: unknown;
}

export class Relay {
  /** Who the client is once welcomed (`v:<session>` or `o:<token>`), the prefix of its journal keys. */
  private identity: string | undefined;
  /** The hello that makes a core socket this client again (for replays; set with `identity`). */
  private replayHello: string | undefined;
  private hello: Frame | undefined;
  /** Journal keys of this client's sends the core has not acknowledged yet. */
  private readonly pending = new Set<string>();
  private clientGone = false;
  /** A welcome given here: what it said, to check the core's against. */
  private minted: { session: string; conversation: string; availability: WorkspaceFacts['availability'] } | undefined;

  constructor(
    private readonly client: WebSocket,
    private readonly core: WebSocket,
    /** The `regional.attach` frame this relay's core socket was opened with, and what it says. */
    private readonly attach: string,
    private readonly upgrade: UpgradeInfo,
    private readonly workspaces: Workspaces,
    private readonly journal: Journal,
    /** Keys a live relay is carrying (the replay leaves them alone). */
    private readonly inFlight: Set<string>,
  ) {
    client.on('message', (data, isBinary) => this.fromClient(data, isBinary));
    core.on('message', (data, isBinary) => this.fromCore(data, isBinary));
    client.on('close', () => this.clientClosed());
    core.on('close', (code, reason) => this.coreClosed(code, reason));
    client.on('error', () => {});
    core.on('error', () => {});
  }

  private fromClient(data: RawData, isBinary: boolean): void {
    if (isBinary || this.core.readyState !== this.core.OPEN) {
      if (this.core.readyState === this.core.OPEN) this.core.send(data, { binary: isBinary });
      return;
    }
    const text = data.toString();
    const ev = parse(text);
    if (ev?.type === 'visitor.hello' && this.identity === undefined && this.welcomeHere(ev)) return;
    if (ev?.type === 'visitor.hello' || ev?.type === 'operator.hello') this.hello = ev;
    if (ev?.type === 'message.send' && this.identity && typeof ev.clientId === 'string' && ev.clientId.length <= 100) {
      const key = `${this.identity}:${ev.clientId}`;
      if (!this.pending.has(key)) {
        this.journal.add({ key, attach: this.attach, hello: this.replayHello!, frame: text, acceptedAt: Date.now() });
        this.pending.add(key);
        this.inFlight.add(key);
      }
      this.client.send(JSON.stringify({ type: 'message.accepted', clientId: ev.clientId }));
    }
    this.core.send(text);
  }

  private fromCore(data: RawData, isBinary: boolean): void {
    const text = isBinary ? undefined : data.toString();
    const ev = text === undefined ? undefined : parse(text);
    if (ev?.type === 'visitor.welcome' && this.minted) {
      this.coreWelcome(ev);
      return;
    }
    if (ev?.type === 'presence' && typeof this.hello?.workspace === 'string')
      this.workspaces.availability(this.hello.workspace, { available: ev.available === true, operators: ev.operators as never });
    if (ev?.type === 'visitor.welcome' && typeof ev.session === 'string') this.welcomed(`v:${ev.session}`, { type: 'visitor.hello', workspace: this.hello?.workspace, session: ev.session });
    else if (ev?.type === 'operator.welcome' && typeof this.hello?.token === 'string') this.welcomed(`o:${this.hello.token}`, { type: 'operator.hello', token: this.hello.token });
    else if (ev?.type === 'message.ack' && typeof ev.clientId === 'string') this.settle(ev.clientId);
    else if (ev?.type === 'error' && typeof ev.ref === 'string') this.settle(ev.ref);
    if (this.client.readyState === this.client.OPEN) this.client.send(data, { binary: isBinary });
  }

  /** A new visitor of a workspace this node knows: welcomed here, the hello sent on with what was minted. */
  private welcomeHere(ev: Frame): boolean {
    if (ev.session !== undefined || ev.conversation !== undefined || typeof ev.workspace !== 'string') return false;
    const facts = this.workspaces.get(ev.workspace);
    if (!facts || !visitorOriginAllowed(facts.workspace.allowedOrigins, this.upgrade)) return false;
    const session = newToken();
    const conversation = newId('c');
    this.minted = { session, conversation, availability: facts.availability };
    this.hello = { ...ev, session };
    // A replay carries the minted conversation too: the core may never have had this hello.
    this.welcomed(`v:${session}`, { type: 'visitor.hello', workspace: ev.workspace, session, mint: { conversation } });
    this.core.send(JSON.stringify({ ...ev, session, mint: { conversation } }));
    this.client.send(
      JSON.stringify({
        type: 'visitor.welcome',
        session,
        workspace: { id: facts.workspace.id, name: facts.workspace.name },
        conversation: { id: conversation, state: 'open', visitorReadSeq: 0, operatorReadSeq: 0, lastSeq: 0, rating: null },
        messages: [],
        earlier: [], // a new visitor has none
        ...(facts.email !== undefined ? { email: facts.email } : {}),
        ...(facts.attachments !== undefined ? { attachments: facts.attachments } : {}),
        availability: facts.availability,
      }),
    );
    return true;
  }

  /** The core's welcome after one given here: kept from the client when it agrees, which it should. */
  private coreWelcome(ev: Frame): void {
    const minted = this.minted!;
    this.minted = undefined;
    const conv = ev.conversation as { id?: unknown } | undefined;
    const same = ev.session === minted.session && conv?.id === minted.conversation && Array.isArray(ev.messages) && ev.messages.length === 0;
    if (!same) {
      // Never expected; the client reconnects with its session and gets the core's word.
      this.client.close(1012, 'welcome changed');
      return;
    }
    const availability = ev.availability as WorkspaceFacts['availability'] | undefined;
    if (availability && typeof this.hello?.workspace === 'string') this.workspaces.availability(this.hello.workspace, availability);
    if (availability && JSON.stringify(availability) !== JSON.stringify(minted.availability)) {
      this.client.send(JSON.stringify({ type: 'presence', ...availability }));
    }
  }

  private settle(clientId: string): void {
    const key = `${this.identity}:${clientId}`;
    if (!this.pending.delete(key)) return;
    this.inFlight.delete(key);
    this.journal.done(key);
    if (this.clientGone && this.pending.size === 0) this.core.close(1000);
  }

  /** The client is known: `identity`, and the hello a replay sends for it (its session or token, nothing else). */
  private welcomed(identity: string, replayHello: object): void {
    this.identity = identity;
    this.replayHello = JSON.stringify(replayHello);
  }

  private clientClosed(): void {
    this.clientGone = true;
    if (this.pending.size === 0) {
      this.core.close(1000);
      return;
    }
    // What is left is the journal's; the replay takes over after this.
    setTimeout(() => {
      for (const key of this.pending) this.inFlight.delete(key);
      this.core.close(1000);
    }, DRAIN_MS).unref();
  }

  private coreClosed(code: number, reason: Buffer): void {
    for (const key of this.pending) this.inFlight.delete(key);
    if (this.client.readyState !== this.client.OPEN) return;
    if (passThrough(code)) this.client.close(code, reason.toString());
    else this.client.close(1012, 'core link lost');
  }
}

function parse(text: string): Frame | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Frame) : undefined;
  } catch {
    return undefined;
  }
}

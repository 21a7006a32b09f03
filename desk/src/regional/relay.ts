/**
 * One client socket on a regional node and its socket to the core. Frames go through both ways
 * as they are, in order, with one exception: once the client is welcomed, a `message.send` is
 * written to the journal and answered here with `message.accepted {clientId}` before it is passed
 * on, so the client hears that its message is safe after one trip to this node, not to the core.
 * The core's `message.ack` (with the message's seq) follows through as usual and clears the row.
 *
 * The relay learns who the client is from the welcome the core sends (the visitor's session, or
 * the operator's token from the hello), which is what a replay needs to send the row again.
 *
 * When the client leaves, the core socket stays until the core has acknowledged what the client
 * sent (at most DRAIN_MS); when the core socket drops, the client is closed with 1012 and
 * reconnects (its widget re-sends what was not acknowledged by the core).
 */
import type { RawData, WebSocket } from 'ws';
import type { Journal } from './journal.js';

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
}

export class Relay {
  /** The hello that makes a core socket this client again (set once welcomed). */
  private identity: string | undefined;
  private hello: Frame | undefined;
  /** Journal keys of this client's sends the core has not acknowledged yet. */
  private readonly pending = new Set<string>();
  private clientGone = false;

  constructor(
    private readonly client: WebSocket,
    private readonly core: WebSocket,
    /** The `regional.attach` frame this relay's core socket was opened with. */
    private readonly attach: string,
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
    if (ev?.type === 'visitor.hello' || ev?.type === 'operator.hello') this.hello = ev;
    if (ev?.type === 'message.send' && this.identity && typeof ev.clientId === 'string' && ev.clientId.length <= 100) {
      const key = `${this.identity}:${ev.clientId}`;
      if (!this.pending.has(key)) {
        this.journal.add({ key, attach: this.attach, hello: this.identityHello(), frame: text, acceptedAt: Date.now() });
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
    if (ev?.type === 'visitor.welcome' && typeof ev.session === 'string') this.identity = `v:${ev.session}`;
    else if (ev?.type === 'operator.welcome' && typeof this.hello?.token === 'string') this.identity = `o:${this.hello.token}`;
    else if (ev?.type === 'message.ack' && typeof ev.clientId === 'string') this.settle(ev.clientId);
    else if (ev?.type === 'error' && typeof ev.ref === 'string') this.settle(ev.ref);
    if (this.client.readyState === this.client.OPEN) this.client.send(data, { binary: isBinary });
  }

  private settle(clientId: string): void {
    const key = `${this.identity}:${clientId}`;
    if (!this.pending.delete(key)) return;
    this.inFlight.delete(key);
    this.journal.done(key);
    if (this.clientGone && this.pending.size === 0) this.core.close(1000);
  }

  /** The hello a replay sends for this client: its session (visitor) or token (operator), nothing else. */
  private identityHello(): string {
    if (this.identity!.startsWith('v:')) {
      return JSON.stringify({ type: 'visitor.hello', workspace: this.hello?.workspace, session: this.identity!.slice(2) });
    }
    return JSON.stringify({ type: 'operator.hello', token: this.identity!.slice(2) });
  }

  private clientClosed(): void {
    this.clientGone = true;
    if (this.pending.size === 0) return this.core.close(1000);
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

/** Test clients of a Desk node: real WebSockets and fetch against 127.0.0.1, no mocks. */
import { WebSocket, type ClientOptions } from 'ws';

export type Event = { type: string; [k: string]: any };

/** One WebSocket with an inbox of received events, to await the next matching one. */
export class DeskClient {
  readonly events: Event[] = [];
  private waiters: { match: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const ev = JSON.parse(String(data)) as Event;
      const i = this.waiters.findIndex((w) => w.match(ev));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(ev);
      else this.events.push(ev);
    });
    this.closed = new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
  }

  static open(url: string, opts: ClientOptions = {}): Promise<DeskClient> {
    const ws = new WebSocket(url, opts);
    const client = new DeskClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    });
  }

  send(ev: object | string): void {
    this.ws.send(typeof ev === 'string' ? ev : JSON.stringify(ev));
  }

  /** The first event (already received or to come) that matches; fails after `ms`. */
  next(match: string | ((e: Event) => boolean), ms = 5000): Promise<Event> {
    const m = typeof match === 'string' ? (e: Event) => e.type === match : match;
    const i = this.events.findIndex(m);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { match: m, resolve: (e: Event) => (clearTimeout(timer), resolve(e)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no ${typeof match === 'string' ? match : 'matching'} event within ${ms} ms; got ${JSON.stringify(this.events.map((e) => e.type))}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  /** Resolves when no matching event arrived within `ms` (rejects if one did). */
  async none(match: string | ((e: Event) => boolean), ms = 300): Promise<void> {
    const m = typeof match === 'string' ? (e: Event) => e.type === match : match;
    await new Promise((r) => setTimeout(r, ms));
    const hit = this.events.find(m);
    if (hit) throw new Error(`unexpected event ${JSON.stringify(hit)}`);
  }

  /** Drops what was received so far. */
  clear(): void {
    this.events.length = 0;
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}

export interface Visitor {
  client: DeskClient;
  welcome: Event;
  session: string;
  conversation: string;
}

export async function visitor(
  base: string,
  hello: { workspace?: string; session?: string; lastSeq?: number; page?: string; conversation?: string } = {},
  opts: ClientOptions & { query?: string } = {},
): Promise<Visitor> {
  const client = await DeskClient.open(`${base.replace(/^http/, 'ws')}/ws${opts.query ?? ''}`, opts);
  client.send({ type: 'visitor.hello', workspace: 'w_demo', ...hello });
  const welcome = await client.next('visitor.welcome');
  return { client, welcome, session: welcome.session, conversation: welcome.conversation.id };
}

export async function operator(base: string, token: string): Promise<{ client: DeskClient; welcome: Event }> {
  const client = await DeskClient.open(`${base.replace(/^http/, 'ws')}/ws`);
  client.send({ type: 'operator.hello', token });
  return { client, welcome: await client.next('operator.welcome') };
}

export async function login(base: string, email = 'ada@acme.test', password = 'demo-password'): Promise<string> {
  const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (res.status !== 200) throw new Error(`login ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

export async function api(base: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true (or fails after `ms`). */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(20);
  }
}

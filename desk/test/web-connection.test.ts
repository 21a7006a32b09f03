/**
 * The front end's realtime client (desk/web/shared/connection.ts) against a real Desk node, with
 * `ws` standing in for the browser's WebSocket and event targets for the window and the page:
 * hello and welcome, sends only when welcomed, a node that goes away and comes back on the same
 * port, the network going offline and online, an operator whose token is refused.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerEvent } from '../src/protocol.js';
import { seedDemo } from '../src/seed.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore, type DeskStore } from '../src/store/index.js';
import { type Connection, type Environment, type LinkState, openConnection, type SocketLike } from '../web/shared/connection.js';
import { login, until } from './support/desk-client.js';

let store: DeskStore;
let node: DeskNode;
let port: number;

async function start(at = 0): Promise<DeskNode> {
  return startDeskNode({ port: at, store, nodeId: 'web-connection', log: pino({ level: 'silent' }) });
}

beforeAll(async () => {
  store = await openStore('sqlite::memory:');
  await seedDemo(store);
  node = await start();
  port = node.port;
});

afterAll(async () => {
  await node?.close();
  await store?.close();
});

interface Probe {
  env: Environment;
  network: EventTarget;
  offline: { value: boolean };
  opened: string[];
}

function probe(): Probe {
  const network = new EventTarget();
  const offline = { value: false };
  const opened: string[] = [];
  return {
    network,
    offline,
    opened,
    env: {
      open: (url) => {
        opened.push(url);
        return new WebSocket(url) as unknown as SocketLike;
      },
      network,
      page: new EventTarget(),
      isOffline: () => offline.value,
      isVisible: () => true,
    },
  };
}

function visitorLink(p: Probe, hellos: number[] = []) {
  const states: LinkState[] = [];
  const events: ServerEvent[] = [];
  let session: string | undefined;
  const conn: Connection = openConnection({
    url: `ws://127.0.0.1:${port}/ws?workspace=w_demo`,
    welcome: 'visitor.welcome',
    hello: () => {
      hellos.push(Date.now());
      return { type: 'visitor.hello', workspace: 'w_demo', ...(session ? { session } : {}) };
    },
    onEvent: (ev) => {
      events.push(ev);
      if (ev.type === 'visitor.welcome') session = ev.session;
    },
    onState: (s) => states.push(s),
    env: p.env,
  });
  return { conn, states, events, hellos, session: () => session };
}

describe('the front end realtime client', () => {
  it('says hello, goes online at the welcome, and sends only then', async () => {
    const link = visitorLink(probe());
    expect(link.states).toEqual(['connecting']);
    expect(link.conn.send({ type: 'ping', t: 1 })).toBe(false);
    await until(() => link.conn.online, 5000, 'welcome');
    expect(link.states.at(-1)).toBe('online');
    expect(link.events[0]?.type).toBe('visitor.welcome');
    expect(link.conn.send({ type: 'message.send', clientId: 'k_web_1', body: 'hello from the client' })).toBe(true);
    await until(() => link.events.some((e) => e.type === 'message.ack' && e.clientId === 'k_web_1'), 5000, 'ack');
    // A pong moves the clock but is not an event for the caller.
    link.conn.send({ type: 'ping', t: 2 });
    await new Promise((r) => setTimeout(r, 200));
    expect(link.events.some((e) => e.type === 'pong')).toBe(false);
    link.conn.stop();
  });

  it('reconnects with a new hello when the node goes away and comes back on the same port', async () => {
    const link = visitorLink(probe());
    await until(() => link.conn.online, 5000, 'welcome');
    const first = link.session();
    await node.close();
    await until(() => link.states.at(-1) === 'reconnecting', 5000, 'reconnecting');
    expect(link.conn.online).toBe(false);
    node = await start(port);
    await until(() => link.conn.online, 15_000, 'welcome again');
    expect(link.hellos.length).toBeGreaterThanOrEqual(2);
    // The second hello carried the session of the first welcome: the same visitor came back.
    const welcomes = link.events.filter((e) => e.type === 'visitor.welcome');
    expect(welcomes.at(-1)).toMatchObject({ session: first });
    link.conn.stop();
  }, 30_000);

  it('drops the socket when the network says offline and reconnects at once when it is back', async () => {
    const p = probe();
    const link = visitorLink(p);
    await until(() => link.conn.online, 5000, 'welcome');
    p.offline.value = true;
    p.network.dispatchEvent(new Event('offline'));
    expect(link.states.at(-1)).toBe('offline');
    expect(link.conn.online).toBe(false);
    const opened = p.opened.length;
    p.offline.value = false;
    p.network.dispatchEvent(new Event('online'));
    // At once, not after the backoff.
    expect(p.opened.length).toBe(opened + 1);
    await until(() => link.conn.online, 5000, 'welcome after online');
    link.conn.stop();
    // Stopped: the window's events no longer reach it.
    p.network.dispatchEvent(new Event('online'));
    expect(p.opened.length).toBe(opened + 1);
  });

  it('stops and says so when the server refuses the operator, and retries nothing', async () => {
    const p = probe();
    let refused = 0;
    const states: LinkState[] = [];
    openConnection({
      url: `ws://127.0.0.1:${port}/ws`,
      welcome: 'operator.welcome',
      hello: () => ({ type: 'operator.hello', token: 'not-a-session' }),
      onEvent: () => {},
      onState: (s) => states.push(s),
      onUnauthorized: () => refused++,
      env: p.env,
    });
    await until(() => refused === 1, 5000, 'refused');
    await new Promise((r) => setTimeout(r, 1500));
    expect(refused).toBe(1);
    expect(p.opened.length).toBe(1);
    expect(states).toEqual(['connecting']);
  });

  it('an operator with a session is welcomed with the conversations', async () => {
    const token = await login(`http://127.0.0.1:${port}`);
    const events: ServerEvent[] = [];
    const conn = openConnection({
      url: `ws://127.0.0.1:${port}/ws`,
      welcome: 'operator.welcome',
      hello: () => ({ type: 'operator.hello', token }),
      onEvent: (ev) => events.push(ev),
      onState: () => {},
      onUnauthorized: () => {},
      env: probe().env,
    });
    await until(() => conn.online, 5000, 'operator welcome');
    const welcome = events.find((e) => e.type === 'operator.welcome');
    expect(welcome && welcome.type === 'operator.welcome' && welcome.operator.email).toBe('ada@acme.test');
    conn.stop();
  });
});

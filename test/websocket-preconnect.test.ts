/**
 * `websocket.preconnect`: connections to an origin opened before the upgrades that use them.
 * Real sockets on 127.0.0.1: a ws origin that records when it accepted each connection, and a raw
 * origin that drops a spare the moment a request arrives on it (the spare the origin closed as it
 * was taken), which must cost the client nothing.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Edge } from '../src/server/edge.js';
import { edgeConfig, startRawOrigin, startTestEdge, startWsOrigin, waitFor, type RawServer, type WsOrigin } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function edgeFor(origin: string, preconnect: number): Promise<Edge> {
  const edge = await startTestEdge(edgeConfig([origin], { websocket: { preconnect } }));
  cleanups.push(() => edge.shutdown(100));
  return edge;
}

function open(edge: Edge): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${edge.addresses.http!.port}/chat`);
  ws.on('error', () => {});
  cleanups.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** outpost_websocket_upstream_connections_total for one kind of connection. */
async function upstreams(edge: Edge, connection: 'preconnected' | 'new'): Promise<number> {
  const m = await edge.runtime.metrics.websocketUpstreams.get();
  return m.values.filter((v) => v.labels.connection === connection).reduce((n, v) => n + v.value, 0);
}

/** The origin's TCP connections with the time it accepted each. */
function acceptLog(origin: WsOrigin): Map<Socket, number> {
  const log = new Map<Socket, number>();
  origin.server.on('connection', (s: Socket) => log.set(s, performance.now()));
  return log;
}

describe('websocket.preconnect', () => {
  it('an upgrade takes a connection opened before it, and another is opened behind it', async () => {
    const origin = await startWsOrigin();
    cleanups.push(() => origin.close());
    const accepted = acceptLog(origin);
    const edge = await edgeFor(origin.url, 2);

    const first = await open(edge); // cold: connects, then two spares follow
    await waitFor('two spares', () => accepted.size === 3 || undefined);
    const started = performance.now();
    const served = origin.nextConnection();
    const second = await open(edge);
    const { socket } = await served;
    expect(accepted.get(socket)!).toBeLessThan(started);
    await waitFor('the spare replaced', () => accepted.size === 4 || undefined);
    expect(await upstreams(edge, 'preconnected')).toBe(1);
    expect(await upstreams(edge, 'new')).toBe(1);
    // Both tunnels work end to end.
    for (const ws of [first, second]) {
      const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
      ws.send('whoami');
      expect(await echoed).toBe('ws-origin');
    }
  });

  it('without it (the default), every upgrade connects when it comes', async () => {
    const origin = await startWsOrigin();
    cleanups.push(() => origin.close());
    const accepted = acceptLog(origin);
    const edge = await edgeFor(origin.url, 0);
    await open(edge);
    await new Promise((r) => setTimeout(r, 100));
    expect(accepted.size).toBe(1);
    const started = performance.now();
    const served = origin.nextConnection();
    await open(edge);
    expect(accepted.get((await served).socket)!).toBeGreaterThan(started);
    expect(await upstreams(edge, 'new')).toBe(2);
    expect(await upstreams(edge, 'preconnected')).toBe(0);
  });

  it('a spare the origin drops as the upgrade arrives on it: the upgrade goes on a new connection, the client sees nothing', async () => {
    // A raw origin: a connection marked doomed is dropped on its first byte; the others answer
    // the upgrade properly.
    const sockets: { socket: Socket; doomed: boolean; dropped: boolean; answered: boolean }[] = [];
    const raw: RawServer = await startRawOrigin((socket) => {
      const entry = { socket, doomed: false, dropped: false, answered: false };
      sockets.push(entry);
      let head = '';
      socket.on('data', (chunk) => {
        if (entry.doomed) {
          entry.dropped = true;
          socket.destroy();
          return;
        }
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(head)![1];
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        entry.answered = true;
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      });
    });
    cleanups.push(() => raw.close());
    const edge = await edgeFor(raw.url, 1);

    await open(edge);
    await waitFor('the spare', () => sockets.length === 2 || undefined);
    const spare = sockets.find((s) => !s.answered)!;
    spare.doomed = true;
    const ws = await open(edge); // takes the doomed spare, which drops; a new connection answers
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(spare.dropped).toBe(true);
    expect(sockets.filter((s) => s.answered)).toHaveLength(2);
  });
});

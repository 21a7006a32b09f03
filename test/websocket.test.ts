/**
 * WebSockets through an in-process edge, over real sockets on 127.0.0.1: a `ws` echo origin
 * behind the edge, a `ws` client in front. Messages both ways, subprotocol and permessage-deflate
 * negotiated end to end, a 5 MB message, backpressure, closes from either side, the open-tunnel
 * gauge, refused upgrades (403) and a dead origin (502), the idle timeout, wss on both legs,
 * a config swap under an open tunnel, and the graceful stop (Close 1001 both ways).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import type { Edge } from '../src/server/edge.js';
import { closedPort, edgeConfig, metricSum, startTestEdge, startWsOrigin, waitFor, writeDevTls, type DevTlsFiles, type WsOrigin } from './helpers.js';

interface Message {
  data: Buffer;
  isBinary: boolean;
}

/** A client WebSocket with its messages queued and its close recorded from the start. */
interface Client {
  ws: WebSocket;
  next(): Promise<Message>;
  closed: Promise<{ code: number; reason: string }>;
}

function wrap(ws: WebSocket): Client {
  const queue: Message[] = [];
  const waiting: ((m: Message) => void)[] = [];
  ws.on('message', (data, isBinary) => {
    const m = { data: Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary };
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  return {
    ws,
    closed,
    next: () => {
      const m = queue.shift();
      return m ? Promise.resolve(m) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

const clients = new Set<WebSocket>();

/** Opens a WebSocket; rejects if the handshake fails. */
function open(url: string, protocols?: string[], opts: ClientOptions = {}): Promise<Client> {
  const ws = new WebSocket(url, protocols, opts);
  clients.add(ws);
  const client = wrap(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
}

/** A handshake the test expects to be refused: the status and body the client got. */
function refusedUpgrade(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const ws = new WebSocket(url);
  clients.add(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
  });
}

const wsUrl = (edge: Edge, path = '/chat', scheme: 'ws' | 'wss' = 'ws') => `${scheme}://127.0.0.1:${edge.addresses[scheme === 'ws' ? 'http' : 'https']!.port}${path}`;

async function echo(c: Client, text: string): Promise<string> {
  c.ws.send(text);
  return (await c.next()).data.toString();
}

describe('WebSocket through the edge', () => {
  let origin: WsOrigin;
  let edge: Edge;
  const extraEdges: Edge[] = [];
  const extraOrigins: WsOrigin[] = [];

  beforeAll(async () => {
    origin = await startWsOrigin({
      name: 'alpha',
      ws: {
        handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false),
        perMessageDeflate: { threshold: 0 },
      },
      refuse: (req, socket) => {
        if (req.url !== '/forbidden') return false;
        const body = 'no entry';
        socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nX-Why: test\r\n\r\n${body}`);
        return true;
      },
    });
    edge = await startTestEdge(edgeConfig([origin.url]));
  });

  afterEach(() => {
    for (const ws of clients) ws.terminate();
    clients.clear();
  });

  afterAll(async () => {
    await Promise.all([edge, ...extraEdges].map((e) => e.shutdown(500)));
    await Promise.all([origin, ...extraOrigins].map((o) => o.close()));
  });

  const websocketsOpen = (e: Edge = edge) => metricSum(e.runtime.metrics.websockets);

  it('carries text and binary messages both ways, and origin-initiated messages', async () => {
    const accepted = origin.nextConnection();
    const c = await open(wsUrl(edge, '/chat?room=1'));
    const server = await accepted;
    expect(server.req.url).toBe('/chat?room=1');
    expect(server.req.headers.via).toBe('1.1 test');
    expect(server.req.headers['x-forwarded-for']).toBe('127.0.0.1');

    expect(await echo(c, 'hello')).toBe('hello');
    const bin = randomBytes(1000);
    c.ws.send(bin);
    const back = await c.next();
    expect(back.isBinary).toBe(true);
    expect(back.data.equals(bin)).toBe(true);

    server.ws.send('pushed by the origin');
    expect((await c.next()).data.toString()).toBe('pushed by the origin');
  });

  it("relays the subprotocol the origin chose from the client's list", async () => {
    const accepted = origin.nextConnection();
    const c = await open(wsUrl(edge), ['chat.v1', 'chat.v2']);
    const server = await accepted;
    expect(server.req.headers['sec-websocket-protocol']?.split(/,\s*/)).toEqual(['chat.v1', 'chat.v2']);
    expect(c.ws.protocol).toBe('chat.v2');
    expect(server.ws.protocol).toBe('chat.v2');
    expect(await echo(c, 'with a protocol')).toBe('with a protocol');
  });

  it('negotiates permessage-deflate end to end: compressed frames cross the edge untouched', async () => {
    const accepted = origin.nextConnection();
    const c = await open(wsUrl(edge));
    const server = await accepted;
    expect(c.ws.extensions).toContain('permessage-deflate');
    expect(server.ws.extensions).toContain('permessage-deflate');
    const before = server.socket.bytesRead;
    const text = 'a'.repeat(1024 * 1024);
    expect(await echo(c, text)).toBe(text);
    // A megabyte of one letter arrives at the origin as a few kilobytes: still deflated.
    expect(server.socket.bytesRead - before).toBeLessThan(64 * 1024);
  });

  it('passes a 5 MB message each way intact', async () => {
    const c = await open(wsUrl(edge));
    const big = randomBytes(5 * 1024 * 1024);
    c.ws.send(big);
    const back = await c.next();
    expect(back.data.length).toBe(big.length);
    expect(back.data.equals(big)).toBe(true);
  });

  it('applies backpressure: a client that stops reading makes the origin buffer, not the edge', async () => {
    const accepted = origin.nextConnection();
    const c = await open(wsUrl(edge));
    const server = await accepted;
    c.ws.pause();
    // 40 MB is more than the loopback socket buffers on both legs can hold, so some of it can
    // only wait at the origin, unless the edge keeps reading and queues it in its own memory.
    const chunk = randomBytes(5 * 1024 * 1024);
    const count = 8;
    for (let i = 0; i < count; i++) server.ws.send(chunk);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.ws.bufferedAmount).toBeGreaterThan(0);
    const tunnel = [...edge.runtime.tunnels][0] as unknown as { client: { writableLength: number } };
    expect(tunnel.client.writableLength).toBeLessThan(1024 * 1024);
    c.ws.resume();
    for (let i = 0; i < count; i++) {
      const m = await c.next();
      expect(m.data.equals(chunk)).toBe(true);
    }
    await waitFor('the origin to flush', () => server.ws.bufferedAmount === 0);
  });

  it('origin closes: the client sees its close code and reason, and the gauge returns to 0', async () => {
    const accepted = origin.nextConnection();
    const c = await open(wsUrl(edge));
    const server = await accepted;
    expect(await websocketsOpen()).toBe(1);
    server.ws.close(4001, 'done here');
    expect(await c.closed).toEqual({ code: 4001, reason: 'done here' });
    await waitFor('the tunnel to be counted closed', async () => (await websocketsOpen()) === 0);
    expect(edge.runtime.tunnels.size).toBe(0);
  });

  it('client terminates: the origin sees the connection close, and the gauge returns to 0', async () => {
    const accepted = origin.nextConnection();
    const c = await open(wsUrl(edge));
    const server = await accepted;
    const originClosed = new Promise<number>((r) => server.ws.once('close', (code) => r(code)));
    expect(await websocketsOpen()).toBe(1);
    c.ws.terminate();
    expect(await originClosed).toBe(1006); // no Close frame: the TCP connection just went away
    await waitFor('the tunnel to be counted closed', async () => (await websocketsOpen()) === 0);
  });

  it('counts open tunnels in outpost_websockets_open, per origin', async () => {
    const a = await open(wsUrl(edge));
    const b = await open(wsUrl(edge));
    const { values } = await edge.runtime.metrics.websockets.get();
    expect(values.find((v) => v.labels.origin === 'main/o1')?.value).toBe(2);
    a.ws.close();
    b.ws.close();
    await Promise.all([a.closed, b.closed]);
    await waitFor('both tunnels to be counted closed', async () => (await websocketsOpen()) === 0);
  });

  it('relays a refused upgrade (403) with its headers and body', async () => {
    const r = await refusedUpgrade(wsUrl(edge, '/forbidden'));
    expect(r.status).toBe(403);
    expect(r.headers['x-why']).toBe('test');
    expect(r.headers.via).toBe('1.1 test');
    expect(r.body).toBe('no entry');
    expect(await websocketsOpen()).toBe(0);
  });

  it('answers 502 when the origin is down', async () => {
    const down = await startTestEdge(edgeConfig([`http://127.0.0.1:${await closedPort()}`]));
    extraEdges.push(down);
    const r = await refusedUpgrade(wsUrl(down));
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error.code).toBe('origin_refused');
  });

  it('closes a tunnel idle past websocket.idleTimeout, on both sides', async () => {
    const idle = await startTestEdge(edgeConfig([origin.url], { websocket: { idleTimeout: '300ms' } }));
    extraEdges.push(idle);
    const accepted = origin.nextConnection();
    const c = await open(wsUrl(idle));
    const server = await accepted;
    const originClosed = new Promise<number>((r) => server.ws.once('close', (code) => r(code)));
    expect(await echo(c, 'then silence')).toBe('then silence');
    // Neither peer closes: only the edge's idle timer can end this tunnel (the default is 10m).
    // It tells both peers with a Close frame (1001, going away), then hangs up.
    expect((await c.closed).code).toBe(1001);
    expect(await originClosed).toBe(1001);
    await waitFor('the idle tunnel to be counted closed', async () => (await websocketsOpen(idle)) === 0);
    expect(idle.runtime.tunnels.size).toBe(0);
  });

  describe('over TLS', () => {
    let tls: DevTlsFiles;
    beforeAll(() => {
      tls = writeDevTls();
    });
    afterAll(() => rmSync(tls.dir, { recursive: true, force: true }));

    it('wss from the client to the edge', async () => {
      const secure = await startTestEdge(
        edgeConfig([origin.url], {
          listen: { https: '127.0.0.1:0', admin: '127.0.0.1:0' },
          tls: { certificates: [{ cert: tls.certFile, key: tls.keyFile }] },
        }),
      );
      extraEdges.push(secure);
      const accepted = origin.nextConnection();
      const c = await open(wsUrl(secure, '/secure', 'wss'), undefined, { ca: tls.ca });
      const server = await accepted;
      expect(server.req.headers['x-forwarded-proto']).toBe('https');
      expect(await echo(c, 'over tls')).toBe('over tls');
      const big = randomBytes(2 * 1024 * 1024);
      c.ws.send(big);
      expect((await c.next()).data.equals(big)).toBe(true);
    });

    it('wss from the edge to a TLS origin, verified with the configured CA', async () => {
      const secureOrigin = await startWsOrigin({ name: 'tls-origin', tls: { cert: tls.cert, key: tls.key } });
      extraOrigins.push(secureOrigin);
      const e = await startTestEdge(
        edgeConfig([], {
          pools: { main: { origins: [{ name: 's1', address: secureOrigin.url, tls: { ca: tls.caFile } }] } },
        }),
      );
      extraEdges.push(e);
      const c = await open(wsUrl(e));
      expect(await echo(c, 'whoami')).toBe('tls-origin');
      expect(secureOrigin.connections[0].socket.constructor.name).toBe('TLSSocket');
    });

    it('refuses a TLS origin whose certificate it cannot verify (502)', async () => {
      const secureOrigin = await startWsOrigin({ name: 'unverified', tls: { cert: tls.cert, key: tls.key } });
      extraOrigins.push(secureOrigin);
      const e = await startTestEdge(edgeConfig([secureOrigin.url]));
      extraEdges.push(e);
      const r = await refusedUpgrade(wsUrl(e));
      expect(r.status).toBe(502);
      expect(JSON.parse(r.body).error.code).toBe('origin_tls');
      expect(secureOrigin.connections).toHaveLength(0);
    });
  });

  it('a config swap keeps an open WebSocket on its origin while new ones go to the new origin', async () => {
    const beta = await startWsOrigin({ name: 'beta' });
    extraOrigins.push(beta);
    const e = await startTestEdge(edgeConfig([origin.url]));
    extraEdges.push(e);
    const before = await open(wsUrl(e));
    expect(await echo(before, 'whoami')).toBe('alpha');

    e.apply(edgeConfig([beta.url]));

    const after = await open(wsUrl(e));
    expect(await echo(after, 'whoami')).toBe('beta');
    expect(await echo(before, 'whoami')).toBe('alpha');
    expect(await echo(before, 'still here')).toBe('still here');
    expect(await metricSum(e.runtime.metrics.websockets)).toBe(2);
    before.ws.close(1000);
    expect((await before.closed).code).toBe(1000);
    expect(await echo(after, 'whoami')).toBe('beta');
  });

  it('shutdown sends Close 1001 to the client and the origin, then resolves', async () => {
    const e = await startTestEdge(edgeConfig([origin.url]));
    const accepted = origin.nextConnection();
    const c = await open(wsUrl(e));
    const server = await accepted;
    const originClose = new Promise<{ code: number; reason: string }>((r) => server.ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    expect(await echo(c, 'before the stop')).toBe('before the stop');

    await e.shutdown(2000);

    expect(await c.closed).toEqual({ code: 1001, reason: 'going away' });
    expect(await originClose).toEqual({ code: 1001, reason: 'going away' });
    expect(e.runtime.tunnels.size).toBe(0);
    expect(await metricSum(e.runtime.metrics.websockets)).toBe(0);
    // The listener is closed: a new WebSocket cannot connect.
    await expect(open(wsUrl(e))).rejects.toThrow(/ECONNREFUSED/);
  });
});

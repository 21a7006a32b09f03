/**
 * Connections the edge refuses with an answer (400 from the parser, 408 after headersTimeout)
 * must not keep their slot: a client that neither reads nor closes its side (allowHalfOpen, no
 * FIN) used to hold the half-closed socket for good, and enough of them locked every other client
 * out of `limits.maxConnections`. Now the edge destroys each one shortly after its answer.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Edge } from '../src/server/edge.js';
import { REFUSED_LINGER_MS } from '../src/pipeline/linger.js';
import { edgeConfig, metricSum, sendRaw, startOrigin, startTestEdge, waitFor, type TestServer } from './helpers.js';

/** Content-Length with Transfer-Encoding: refused by Node's parser (clientError), answered 400. */
const SMUGGLING = 'POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';

/**
 * A client that sends `bytes`, then never ends its side (allowHalfOpen: no FIN after the edge's).
 * What it receives is kept in `received` only to check the answer: to the edge, a client that
 * reads nothing looks the same, its kernel acknowledges the bytes all the same.
 */
function rude(port: number, bytes: string): net.Socket & { received: string } {
  const socket = Object.assign(net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }), { received: '' });
  socket.on('error', () => {});
  socket.on('data', (c: Buffer) => {
    socket.received += c.toString('latin1');
  });
  socket.write(bytes);
  return socket;
}

describe('refused connections are closed by the edge', () => {
  let origin: TestServer;
  const edges: Edge[] = [];
  const sockets: (net.Socket & { received: string })[] = [];

  beforeAll(async () => {
    origin = await startOrigin((_req, res) => res.end('ok'));
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(edges.splice(0).map((e) => e.shutdown(200)));
  });
  afterAll(async () => {
    await origin.close();
  });

  it('clients that get 400 or 408 and never read nor close cannot hold maxConnections', async () => {
    const MAX = 20;
    const edge = await startTestEdge(
      edgeConfig([origin.url], {
        limits: { maxConnections: MAX, clientConnections: 0, clientConnectionRate: 0, headersTimeout: '300ms', requestTimeout: '2s' },
      }),
    );
    edges.push(edge);
    const port = edge.addresses.http!.port;
    const open = () => metricSum(edge.runtime.metrics.connections);

    // Half send a head Node's parser refuses (400 at once), half an unfinished head (408 after 300 ms).
    for (let i = 0; i < MAX; i++) sockets.push(rude(port, i % 2 ? SMUGGLING : 'GET / HTTP/1.1\r\nHost: a.te'));
    await waitFor('the edge to accept every rude connection', async () => (await open()) === MAX);
    const started = Date.now();
    // Each is answered, then destroyed after the linger: the edge holds none of them any more.
    await waitFor('the edge to close the refused connections', async () => (await open()) === 0, 10_000);
    // 300 ms headersTimeout + Node's check interval + the linger, with room for a busy machine.
    expect(Date.now() - started).toBeLessThan(REFUSED_LINGER_MS + 5000);

    // Every rude client did get its answer before the edge hung up.
    const answers = sockets.map((s) => s.received);
    expect(answers.filter((a) => a.startsWith('HTTP/1.1 400 ')).length).toBe(MAX / 2);
    expect(answers.filter((a) => a.startsWith('HTTP/1.1 408 ')).length).toBe(MAX / 2);

    // A legitimate client has a slot again.
    const ok = await sendRaw(port, 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n', 3000);
    expect(ok.text).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('refused upgrades (h2c: 501; a WebSocket with an invalid Host: 400 on the raw socket) are closed too', async () => {
    const edge = await startTestEdge(edgeConfig([origin.url], { limits: { clientConnections: 0, clientConnectionRate: 0 } }));
    edges.push(edge);
    const port = edge.addresses.http!.port;
    const open = () => metricSum(edge.runtime.metrics.connections);
    const h2c = 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n';
    const ws = 'GET /ws HTTP/1.1\r\nHost: [\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    for (let i = 0; i < 10; i++) sockets.push(rude(port, i % 2 ? h2c : ws));
    await waitFor('every answer', () => sockets.every((s) => s.received.startsWith('HTTP/1.1 ')));
    await waitFor('the edge to close the refused upgrades', async () => (await open()) === 0, REFUSED_LINGER_MS + 5000);
    expect(sockets.filter((s) => s.received.startsWith('HTTP/1.1 501 ')).length).toBe(5);
    expect(sockets.filter((s) => s.received.startsWith('HTTP/1.1 400 ')).length).toBe(5);
  });

  it('a client that reads its 400 and hangs up is closed at once, not after the linger', async () => {
    const edge = await startTestEdge(edgeConfig([origin.url]));
    edges.push(edge);
    const started = Date.now();
    const r = await sendRaw(edge.addresses.http!.port, SMUGGLING, 5000);
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 400 /);
    await waitFor('the edge to drop the connection', async () => (await metricSum(edge.runtime.metrics.connections)) === 0);
    expect(Date.now() - started).toBeLessThan(REFUSED_LINGER_MS);
  });
});

#!/usr/bin/env node
// WebSocket echo origin: sends every message back on the same socket.
// Plain HTTP requests get "200 ok" (handy for health checks).
//   node bench/ws-echo.mjs [port=18002] [host=127.0.0.1]
import http from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 18002);
const host = process.argv[3] ?? '127.0.0.1';

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3 });
  res.end('ok\n');
});
server.keepAliveTimeout = 60_000;

const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});

server.listen({ port, host, backlog: 4096 }, () => console.log(`ws echo listening on ${host}:${port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));

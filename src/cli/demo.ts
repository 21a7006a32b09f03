/**
 * `outpost demo`: three demo origins, each its own process (fra-1 and fra-2 in "eu-west",
 * sin-1 in "ap-southeast"), and an edge node on examples/demo.yaml in front of them, with a local
 * CA and a localhost certificate made on first run. Prints what to open, and how to watch a
 * failover: kill an origin's process and the edge moves its traffic.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { supervise } from '../server/supervisor.js';
import { selfSigned } from '../tls/dev-certs.js';

const ORIGINS = [
  { name: 'fra-1', region: 'eu-west', port: 3001 },
  { name: 'fra-2', region: 'eu-west', port: 3002 },
  { name: 'sin-1', region: 'ap-southeast', port: 3003 },
];

export async function runDemo(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, '../..');
  const file = join(root, 'examples/demo.yaml');
  const certs = join(root, 'examples/certs');
  if (!existsSync(join(certs, 'localhost.crt'))) {
    mkdirSync(certs, { recursive: true });
    const c = selfSigned(['localhost', '*.localhost', '127.0.0.1', '::1']);
    writeFileSync(join(certs, 'localhost.crt'), c.cert);
    writeFileSync(join(certs, 'localhost.key'), c.key, { mode: 0o600 });
    writeFileSync(join(certs, 'ca.crt'), c.ca);
  }
  const children: ChildProcess[] = [];
  await Promise.all(
    ORIGINS.map(
      (o) =>
        new Promise<void>((ready, fail) => {
          const child = fork(join(here, '../demo/origin-main.js'), [o.name, o.region, String(o.port)], { stdio: 'inherit' });
          children.push(child);
          child.once('message', () => ready());
          child.once('exit', (code) => fail(new Error(`demo origin ${o.name} exited (${code}); is port ${o.port} free?`)));
        }),
    ),
  );
  const sup = await supervise(file, {
    onReady: (config) => {
      const http = config.listen.http!;
      const https = config.listen.https!;
      const admin = config.listen.admin;
      const api = `curl -H 'Authorization: Bearer ${config.admin.token}' http://${admin.host}:${admin.port}/api/pools`;
      process.stdout.write(
        [
          '',
          'Outpost demo is running (Ctrl-C stops it):',
          `  http://localhost:${http.port}/            the edge: nearest healthy pool (eu-west), p2c over fra-1 and fra-2`,
          `  https://localhost:${https.port}/           TLS + HTTP/2 (CA: examples/certs/ca.crt)`,
          `  http://ap.localhost:${http.port}/         a host steered to ap-southeast`,
          `  http://sticky.localhost:${http.port}/     session affinity: one origin per browser (cookie)`,
          `  ws://localhost:${http.port}/ws             WebSocket echo through the edge (the page has a box)`,
          `  http://${admin.host}:${admin.port}/metrics         Prometheus metrics (also /healthz, /readyz, /status)`,
          `  ${api}`,
          '',
          'The cache: everything is cached by default, /api/* bypasses it, /static/* is kept 30 days:',
          `  curl -sI http://localhost:${http.port}/static/app.css | grep -i cache-status   # twice: fwd=uri-miss; stored, then hit`,
          `  node bin/outpost.js purge -c examples/demo.yaml --url http://localhost:${http.port}/static/app.css`,
          '',
          'The shield: put the site under attack, open it in a browser (a proof-of-work check, then the page):',
          '  node bin/outpost.js under-attack on -c examples/demo.yaml      # off | auto | status',
          `  curl -s http://localhost:${http.port}/api/x                    # an API client gets 403 JSON meanwhile`,
          '',
          'Watch a failover: kill an origin, and its traffic moves with no failed request:',
          ...ORIGINS.map((o, i) => `  kill ${children[i].pid}    # ${o.name} (${o.region}, :${o.port})`),
          '',
        ].join('\n') + '\n',
      );
    },
  });
  const stopAll = () => {
    for (const c of children) c.kill('SIGTERM');
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void sup.stop().then(stopAll));
}

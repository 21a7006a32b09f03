/**
 * `outpost demo`: two demo origins ("eu-west" on :3001, "ap-southeast" on :3002) and an edge node
 * on examples/demo.yaml in front of them, with a local CA and a localhost certificate made on
 * first run. Prints what to open.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoOrigin } from '../demo/origin.js';
import { supervise } from '../server/supervisor.js';
import { selfSigned } from '../tls/dev-certs.js';

export async function runDemo(): Promise<void> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const file = join(root, 'examples/demo.yaml');
  const certs = join(root, 'examples/certs');
  if (!existsSync(join(certs, 'localhost.crt'))) {
    mkdirSync(certs, { recursive: true });
    const c = selfSigned(['localhost', '*.localhost', '127.0.0.1', '::1']);
    writeFileSync(join(certs, 'localhost.crt'), c.cert);
    writeFileSync(join(certs, 'localhost.key'), c.key, { mode: 0o600 });
    writeFileSync(join(certs, 'ca.crt'), c.ca);
  }
  const origins = await Promise.all([
    startDemoOrigin({ name: 'fra-1', region: 'eu-west', port: 3001 }),
    startDemoOrigin({ name: 'sin-1', region: 'ap-southeast', port: 3002 }),
  ]);
  const sup = await supervise(file, {
    onReady: (config) => {
      const http = config.listen.http!;
      const https = config.listen.https!;
      const admin = config.listen.admin;
      process.stdout.write(
        [
          '',
          'Outpost demo is running (Ctrl-C stops it):',
          `  http://localhost:${http.port}/            the edge, round robin over both regions`,
          `  http://eu.localhost:${http.port}/         steered to eu-west (falls back to ap-southeast)`,
          `  http://ap.localhost:${http.port}/         steered to ap-southeast`,
          `  https://localhost:${https.port}/           TLS + HTTP/2 (CA: examples/certs/ca.crt)`,
          `  ws://localhost:${http.port}/ws             WebSocket echo through the edge (the page has a box)`,
          `  http://${admin.host}:${admin.port}/metrics         Prometheus metrics (also /healthz, /readyz, /status)`,
          `  origins: ${origins.map((o) => o.url).join(', ')}`,
          '',
        ].join('\n') + '\n',
      );
    },
  });
  const stopOrigins = () => Promise.all(origins.map((o) => o.close()));
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void sup.stop().then(stopOrigins));
}

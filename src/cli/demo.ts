/**
 * `outpost demo` (what `npm start` runs): Desk, the bundled customer-chat app, in two regions
 * behind an Outpost edge. Three Desk nodes, each its own process: the core, desk-fra-1 and
 * desk-fra-2 in "eu-west", share one SQLite file (examples/.desk/demo.db), through which they also
 * tell each other their events (no Redis needed on a laptop); desk-sin-1 in "ap-southeast" is a
 * regional node (desk/REGIONAL.md): no database, it relays its visitors to the core (fra-1, else
 * fra-2) and accepts their messages into its own journal. The edge node on
 * examples/demo.yaml steers each browser to the nearest healthy pool, keeps it on one node (cookie
 * affinity), picks the node with the fewest open WebSockets, caches the widget and bypasses the
 * cache for /api/*. A local CA and a localhost certificate are made on first run. A mail catcher
 * (desk/src/email/mail-catcher.ts) takes what the core nodes email (replies to visitors who left,
 * transcripts, operator alerts) and shows it on a page, where an answer can be written back as the
 * visitor: it reaches desk-fra-1's inbound SMTP listener, so Desk's email works out of the box.
 *
 * Prints what to open (the shop with the chat box, the operator inbox, the admin API) and how to
 * watch a failover: kill a Desk node and its sockets reconnect through the edge to another one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { supervise } from '../server/supervisor.js';
import { selfSigned } from '../tls/dev-certs.js';

/** The origins of examples/demo.yaml; a node with `core` is a regional node relaying to those. */
/** The mail catcher's SMTP port and page, and desk-fra-1's inbound SMTP listener (email replies). */
const MAIL = { smtp: 1025, page: 8025, inbound: 2525 };

const NODES: { name: string; region: string; port: number; core?: number[] }[] = [
  { name: 'desk-fra-1', region: 'eu-west', port: 3001 },
  { name: 'desk-fra-2', region: 'eu-west', port: 3002 },
  { name: 'desk-sin-1', region: 'ap-southeast', port: 3003, core: [3001, 3002] },
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
  mkdirSync(join(root, 'examples/.desk'), { recursive: true });
  const db = `sqlite:${join(root, 'examples/.desk/demo.db')}`;
  const deskMain = join(root, 'desk/dist/main.js');
  // The core accepts the regional node with this secret, new on every run.
  const env = { ...process.env, DESK_REGIONAL_SECRET: randomBytes(24).toString('base64url') };

  const children: ChildProcess[] = [];
  const stopAll = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  };
  const start = (script: string, args: string[], what: string): Promise<void> =>
    new Promise<void>((ready, fail) => {
      const child = fork(script, args, { stdio: 'inherit', env });
      children.push(child);
      child.once('message', () => ready());
      child.once('exit', (code) => fail(new Error(`${what} exited (${code})`)));
    });
  const startNode = (n: (typeof NODES)[number], seed: boolean): Promise<void> => {
    const store = n.core
      ? ['--core', n.core.map((p) => `http://127.0.0.1:${p}`).join(','), '--journal', join(root, `examples/.desk/${n.name}.journal.db`)]
      : // The core nodes email through the catcher (a reply unread for 20 s, not 2 min: a demo); fra-1 takes the answers.
        [
          '--db',
          db,
          ...(seed ? ['--seed'] : []),
          '--smtp',
          `smtp://127.0.0.1:${MAIL.smtp}`,
          '--email-visitor-delay',
          '20000',
          '--email-operator-delay',
          '60000',
          '--public-url',
          'http://localhost:8080',
        ];
    const inbound = n === NODES[0] ? ['--smtp-in', String(MAIL.inbound)] : [];
    return start(deskMain, ['--port', String(n.port), '--node', n.name, '--log-level', 'warn', ...store, ...inbound], `Desk node ${n.name} (is port ${n.port} free?)`);
  };
  try {
    await start(
      join(root, 'desk/dist/mail-catcher-main.js'),
      ['--smtp', String(MAIL.smtp), '--http', String(MAIL.page), '--reply-relay', `smtp://127.0.0.1:${MAIL.inbound}`],
      `The mail catcher (are ports ${MAIL.smtp} and ${MAIL.page} free?)`,
    );
    // The first node migrates and seeds the shared database; the others open it after, and the
    // regional node comes last, when its core answers.
    await startNode(NODES[0]!, true);
    await Promise.all(
      NODES.slice(1)
        .filter((n) => !n.core)
        .map((n) => startNode(n, false)),
    );
    await Promise.all(NODES.filter((n) => n.core).map((n) => startNode(n, false)));
  } catch (err) {
    stopAll();
    throw err;
  }

  const sup = await supervise(file, {
    onReady: (config) => {
      const http = config.listen.http!;
      const https = config.listen.https!;
      const admin = config.listen.admin;
      const site = `http://localhost:${http.port}`;
      const api = `curl -H 'Authorization: Bearer ${config.admin.token}' http://${admin.host}:${admin.port}/api/pools`;
      process.stdout.write(
        `${[
          '',
          'Outpost demo is running: Desk, a customer-chat app, in two regions behind an edge (Ctrl-C stops it).',
          `  ${site}/                  a shop with the chat box (nearest pool: eu-west)`,
          `  ${site}/inbox.html        the operator inbox: ada@acme.test / demo-password (grace@acme.test too)`,
          `  http://ap.localhost:${http.port}/               the same shop through the Singapore node (regional: no database, relays to the core)`,
          `  https://localhost:${https.port}/                 TLS + HTTP/2 (CA: examples/certs/ca.crt)`,
          `  http://${admin.host}:${admin.port}/metrics         Prometheus metrics (also /healthz, /readyz, /status)`,
          `  http://127.0.0.1:${MAIL.page}/                  the mail catcher: what Desk emails (a reply to a visitor who left an address and`,
          '                                          did not read it within 20 s, transcripts); answer there as the visitor',
          `  ${api}`,
          '',
          'The cache: the widget is kept at the edge, /api/* bypasses it:',
          `  curl -sI ${site}/widget.js | grep -i cache-status   # twice: fwd=uri-miss; stored, then hit`,
          `  node bin/outpost.js purge -c examples/demo.yaml --url ${site}/widget.js`,
          '',
          'The shield: put the site under attack, open it in a browser (a proof-of-work check, then the page):',
          '  node bin/outpost.js under-attack on -c examples/demo.yaml      # off | auto | status',
          '',
          'Watch a failover: kill a Desk node; its chats reconnect through the edge to another node, nothing lost:',
          ...NODES.map((n, i) => `  kill ${children[i + 1]!.pid}    # ${n.name} (${n.region}, :${n.port})`),
          '',
        ].join('\n')}\n`,
      );
    },
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void sup.stop().then(stopAll));
}

/**
 * The `desk` command: one Desk node.
 *
 *   node desk/dist/main.js --port 3001 --db sqlite:desk.db --redis redis://127.0.0.1:6379 --node fra-1 [--seed]
 *
 * Options: --port (3001), --host (127.0.0.1), --db (sqlite:desk.db; any URL openStore takes),
 * --redis (fan-out to the other nodes; without it, nodes sharing one SQLite file tell each other
 * through that file, and a node on PostgreSQL or sqlite::memory: is alone), --node (desk-1), --public (desk/dist/public, built from desk/public and desk/web), --webhook URL (repeatable),
 * --log-level (info), --seed (create the demo workspace and operators if missing).
 * Attachments (desk/README.md): --files DIR (where uploaded files go; default `desk-files` next to
 * a SQLite database file, none otherwise: without it the node takes no attachments; every node of
 * one Desk must see the same directory), --max-file-size BYTES (10 MiB).
 * Email (desk/EMAIL.md): --smtp URL (outbound relay, smtp://host:port), --smtp-in PORT (inbound
 * listener for replies), --smtp-in-host (127.0.0.1), --email-visitor-delay MS (120000),
 * --email-operator-delay MS (300000), --email-sweep MS (5000), --email-max-size BYTES (10 MiB),
 * --smtp-max-clients N (20), --smtp-max-clients-per-ip N (4), --public-url URL (where visitors
 * reach this Desk, for the links of address confirmations; default http://<host>:<port>).
 *
 * A regional node (desk/REGIONAL.md), near visitors far from the core, has no database: it
 * relays its clients to the core and journals what they send:
 *
 *   DESK_REGIONAL_SECRET=… node desk/dist/main.js --core http://core:3001[,http://core2:3001] --journal regional.db --port 3003 --node sin-1
 *
 * The core accepts regional nodes when it is started with the same DESK_REGIONAL_SECRET.
 *
 * SIGTERM / SIGINT close the node cleanly: sockets are closed with 1001 so clients reconnect,
 * to another node if the edge has one; a second signal exits at once.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openAttachmentStorage } from './attachments/open-storage.js';
import { seedDemo } from './seed.js';
import { startRegionalNode } from './regional/regional-node.js';
import { startDeskNode } from './server/node.js';
import { openStore, sqlitePath } from './store/index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3001' },
    host: { type: 'string', default: '127.0.0.1' },
    db: { type: 'string', default: 'sqlite:desk.db' },
    redis: { type: 'string' },
    node: { type: 'string', default: 'desk-1' },
    public: { type: 'string', default: fileURLToPath(new URL('./public', import.meta.url)) },
    webhook: { type: 'string', multiple: true, default: [] },
    'log-level': { type: 'string', default: 'info' },
    smtp: { type: 'string' },
    'public-url': { type: 'string' },
    'smtp-in': { type: 'string' },
    'smtp-in-host': { type: 'string', default: '127.0.0.1' },
    'email-visitor-delay': { type: 'string' },
    'email-operator-delay': { type: 'string' },
    'email-sweep': { type: 'string' },
    'email-max-size': { type: 'string' },
    'smtp-max-clients': { type: 'string' },
    'smtp-max-clients-per-ip': { type: 'string' },
    seed: { type: 'boolean', default: false },
    files: { type: 'string' },
    'max-file-size': { type: 'string' },
    core: { type: 'string' },
    journal: { type: 'string', default: 'desk-regional.db' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(
    'usage: node desk/dist/main.js [--port 3001] [--host 127.0.0.1] [--db sqlite:desk.db] [--redis redis://127.0.0.1:6379]\n' +
      '                              [--node desk-1] [--public desk/dist/public] [--webhook URL]... [--log-level info] [--seed]\n' +
      '                              [--smtp smtp://host:25] [--smtp-in 2525] [--smtp-in-host 127.0.0.1] [--email-visitor-delay MS]\n' +
      '                              [--email-operator-delay MS] [--email-sweep MS] [--email-max-size BYTES]\n' +
      '                              [--smtp-max-clients 20] [--smtp-max-clients-per-ip 4] [--public-url URL]\n' +
      '                              [--files DIR] [--max-file-size BYTES]\n' +
      '       DESK_REGIONAL_SECRET=… node desk/dist/main.js --core http://core:3001 [--journal desk-regional.db] [--port] [--node] [--public]\n',
  );
  process.exit(0);
}

const log = pino({ level: values['log-level'] });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  log.fatal({ port: values.port }, 'bad --port');
  process.exit(2);
}

/** A whole number ≥ 0 from a flag, or undefined when the flag is absent; exits on anything else. */
function count(flag: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = values[flag as keyof typeof values] as string | undefined;
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) {
    log.fatal({ [flag]: raw }, `bad --${flag}`);
    process.exit(2);
  }
  return n;
}
const smtpIn = count('smtp-in', 65535);
const email =
  values.smtp || smtpIn !== undefined
    ? {
        smtpUrl: values.smtp,
        publicUrl: values['public-url'],
        inbound: smtpIn === undefined ? undefined : { port: smtpIn, host: values['smtp-in-host'] },
        visitorDelayMs: count('email-visitor-delay'),
        operatorDelayMs: count('email-operator-delay'),
        sweepMs: count('email-sweep'),
        maxSize: count('email-max-size'),
        maxClients: count('smtp-max-clients'),
        maxClientsPerIp: count('smtp-max-clients-per-ip'),
      }
    : undefined;

const regionalSecret = process.env.DESK_REGIONAL_SECRET || undefined;
if (values.core) {
  if (!regionalSecret) {
    log.fatal('--core needs DESK_REGIONAL_SECRET, the secret the core was started with');
    process.exit(2);
  }
  const cores = values.core.split(',').map((u) => u.trim());
  for (const u of cores) {
    try {
      if (!/^https?:$/.test(new URL(u).protocol)) throw new Error('not http(s)');
    } catch {
      log.fatal({ core: u }, 'bad --core: http:// or https:// URLs of the core nodes, comma-separated');
      process.exit(2);
    }
  }
  const regional = await startRegionalNode({
    port,
    host: values.host,
    core: cores,
    secret: regionalSecret,
    journal: values.journal,
    nodeId: values.node,
    publicDir: values.public,
    log,
  });
  log.info({ url: `http://${values.host}:${regional.port}/`, core: values.core }, 'regional desk ready');
  process.send?.({ type: 'ready', port: regional.port });
  onSignals(() => regional.close());
} else {
  await startCore();
}

async function startCore(): Promise<void> {
  const store = await openStore(values.db);
  await store.migrate();
  if (values.seed) {
    const { workspace, operators } = await seedDemo(store);
    log.info({ workspace: workspace.id, operators: operators.map((o) => o.email) }, 'demo workspace ready (password: demo-password)');
  }

  const dbFile = values.db.startsWith('sqlite:') && sqlitePath(values.db) !== ':memory:' ? sqlitePath(values.db) : undefined;
  const files = values.files ?? (dbFile ? path.join(path.dirname(dbFile), 'desk-files') : undefined);
  const node = await startDeskNode({
    port,
    host: values.host,
    store,
    redisUrl: values.redis,
    sharedSqlite: !values.redis ? dbFile : undefined,
    nodeId: values.node,
    publicDir: values.public,
    webhooks: values.webhook,
    log,
    email,
    regionalSecret,
    ...(files ? { attachments: { storage: openAttachmentStorage(files), maxBytes: count('max-file-size') } } : {}),
  });
  log.info({ url: `http://${values.host}:${node.port}/`, inbox: `http://${values.host}:${node.port}/inbox.html`, smtpPort: node.smtpPort }, 'desk ready');
  // A parent that forked us (`outpost demo`) hears it too, whatever the log level.
  process.send?.({ type: 'ready', port: node.port });

  onSignals(() => node.close().then(() => store.close()));
}

/** SIGTERM / SIGINT: `close`, then exit; a second signal exits at once. */
function onSignals(close: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(1);
      stopping = true;
      log.info({ signal }, 'desk closing');
      close().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'desk close failed');
          process.exit(1);
        },
      );
    });
  }
}

/**
 * The `outpost` command's help texts: one overview (`outpost --help`) and one page per command
 * (`outpost start --help`, `outpost help start`), and the version read from package.json.
 */
import { readFileSync } from 'node:fs';

export const COMMANDS = ['start', 'validate', 'status', 'push', 'purge', 'under-attack', 'demo', 'schema'] as const;
export type Command = (typeof COMMANDS)[number];

const CONFIG_OPTION = '  -c, --config FILE   the config file (default: outpost.yaml)';

export const OVERVIEW = `outpost — a self-hosted global edge

Usage: outpost <command> [options]

Commands:
  start          run an edge node (a supervisor and its workers) from a config file
  validate       check a config file; every error with its line; exit 1 if any
  status         a running node's state, and every PoP it hears (config version, last heard)
  push           store a config in the edge's Redis: every PoP validates and runs it
  purge          purge a running node's cache through its admin API (every PoP with cluster.redis)
  under-attack   switch a running node's "I'm Under Attack" challenge on, off or auto
  demo           an edge in front of the bundled Desk chat app (what npm start runs)
  schema         print the config's JSON Schema (for editors)

Options:
  -h, --help     this help; \`outpost <command> --help\` for one command
  -v, --version  print the version

Signals (start): SIGHUP reloads the config (so does saving the file); SIGTERM stops gracefully.
`;

const PAGES: Record<Command, string> = {
  start: `Usage: outpost start [-c FILE]

Runs an edge node: a supervisor that loads and validates the config, forks the workers
(\`workers:\`, default one per core) that serve the listen.http / listen.https addresses, and
serves the admin listener (listen.admin: /healthz, /readyz, /status, /metrics, /api/).
A bad file is refused with every error and exit 1; a listener that cannot bind exits 1 with
one line. Logs are JSON lines on stdout (access logs flushed at least every second).

Options:
${CONFIG_OPTION}

Signals:
  SIGHUP          reload the config (saving the file does too); a bad file is refused and the
                  running config stays
  SIGTERM, SIGINT stop gracefully: in-flight requests finish (shutdown.drainTimeout), exit 0
`,
  validate: `Usage: outpost validate [-c FILE]

Checks a config file without running it: YAML, every key against the schema, references
between objects (pools, monitors), listeners that would clash, certificate files. Prints
"FILE: ok" and exits 0, or prints every error as \`file:line:col key: message\` and exits 1.

Options:
${CONFIG_OPTION}
`,
  status: `Usage: outpost status [-c FILE] [--json]

Asks a running node (its admin listener, from the config file) for its state: workers ready,
whether it reaches the shared state (cluster.redis), the config it runs, and the PoPs it hears
from (itself included): each one's region, config (its own file, or the pushed version and a
hash to compare), whether it reaches Redis, and how long ago it was last heard. A PoP not heard
for 15 s is \`away\`.

Options:
${CONFIG_OPTION}
  --json              the node's /status as JSON
Exit: 0, or 1 when the node cannot be reached.
`,
  push: `Usage: outpost push [-c FILE]

Validates a config file and stores it in the edge's Redis (the file's cluster.redis) as the
next version. Every PoP hears of it within a second (or finds it within 5 s), validates it
again with its own file's node keys (pop, listen, workers, tls, admin, log, cluster and
cache.disk stay as each PoP's file says) and swaps it in; a PoP that refuses it keeps running
what it runs and says why in its log and \`outpost status\`.

Options:
${CONFIG_OPTION}
Exit: 0 pushed, 1 invalid file, no cluster.redis, or Redis unreachable.
`,
  purge: `Usage: outpost purge [-c FILE] (--url URL | --prefix P | --host H | --tag T)… | --everything [--invalidate]

Purges a running node's cache through its admin API (the address and admin.token come from
the config file). Every worker purges, and with cluster.redis every other PoP too; the count of
entries purged at this PoP is printed.

Options:
${CONFIG_OPTION}
  --url URL           one URL, as cached (http://example.com/a.css)
  --prefix P          every URL that starts with P (http://example.com/static/)
  --host H            every URL of a host
  --tag T             every response that carried this Cache-Tag
  --everything        the whole cache
  --invalidate        mark the entries stale (revalidated on the next request) instead of
                      deleting them
Exit: 0 done, 1 refused or unreachable, 2 nothing to purge was given.
`,
  'under-attack': `Usage: outpost under-attack on|off|auto|status [-c FILE]

Switches a running node's "I'm Under Attack" challenge through its admin API, without a
reload: \`on\` and \`off\` by hand, \`auto\` hands it back to the detector (security.underAttack:
auto), \`status\` (the default) shows it.

Options:
${CONFIG_OPTION}
`,
  demo: `Usage: outpost demo

Runs Desk, the bundled customer-chat app, in two regions (three nodes) behind an edge node on
examples/demo.yaml, and prints what to open. Makes a local CA and a localhost certificate on
first run. Ctrl-C stops everything.
`,
  schema: `Usage: outpost schema

Prints the config file's JSON Schema (with a description of every key) on stdout, for
editors: the file in the repository is outpost.schema.json.
`,
};

export function isCommand(name: string | undefined): name is Command {
  return (COMMANDS as readonly (string | undefined)[]).includes(name);
}

export function commandHelp(command: Command): string {
  return PAGES[command];
}

/** The version in the package's package.json (two levels above dist/cli/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

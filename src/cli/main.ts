/**
 * The `outpost` command: start, validate, purge, under-attack, demo, schema.
 */
import { parseArgs } from 'node:util';
import { errorReport, loadConfigFile } from '../config/load.js';
import { configJsonSchema } from '../config/schema.js';
import { supervise } from '../server/supervisor.js';
import { runDemo } from './demo.js';
import { purgeCommand } from './purge.js';
import { underAttackCommand } from './under-attack.js';

const HELP = `outpost — a self-hosted global edge

Usage:
  outpost start -c FILE      run an edge node (a supervisor and its workers) from a config file
  outpost validate -c FILE   check a config file; prints every error with its line, exits 1 if any
  outpost purge -c FILE [--url URL]… [--prefix P]… [--host H]… [--tag T]… [--everything] [--invalidate]
                             purge a running node's cache through its admin API (admin.token);
                             --invalidate marks entries stale (revalidated next) instead of deleting
  outpost under-attack on|off|auto|status -c FILE
                             switch a running node's "I'm Under Attack" challenge by hand, hand it
                             back to the automatic detector, or show it (admin API, no reload)
  outpost demo               an edge in front of two bundled demo origins (what npm start runs)
  outpost schema             print the config's JSON Schema (for editors)

Options:
  -c, --config FILE          the config file (default: outpost.yaml)
  -h, --help                 this help

Signals: SIGHUP reloads the config (so does saving the file); SIGTERM stops gracefully.
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      url: { type: 'string', multiple: true },
      prefix: { type: 'string', multiple: true },
      host: { type: 'string', multiple: true },
      tag: { type: 'string', multiple: true },
      everything: { type: 'boolean' },
      invalidate: { type: 'boolean' },
    },
  });
  const command = positionals[0];
  if (values.help || !command || command === 'help') {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }
  const file = values.config ?? 'outpost.yaml';
  switch (command) {
    case 'validate': {
      const r = loadConfigFile(file);
      if (r.ok) {
        process.stdout.write(`${r.file}: ok\n`);
        return 0;
      }
      process.stderr.write(errorReport(r.file, r.errors, ''));
      return 1;
    }
    case 'start':
      await supervise(file);
      return -1; // keeps running
    case 'purge':
      return purgeCommand({
        file,
        urls: values.url ?? [],
        prefixes: values.prefix ?? [],
        hosts: values.host ?? [],
        tags: values.tag ?? [],
        everything: values.everything ?? false,
        invalidate: values.invalidate ?? false,
      });
    case 'under-attack':
      return underAttackCommand(file, positionals[1]);
    case 'demo':
      await runDemo();
      return -1;
    case 'schema':
      process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
      return 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (err: Error) => {
    process.stderr.write(`outpost: ${err.message}\n`);
    process.exit(1);
  },
);

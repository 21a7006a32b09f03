/**
 * The `outpost` command: start, validate, purge, under-attack, demo, schema; `--help` for the
 * overview and per command (texts in help.ts), `--version`.
 */
import { parseArgs } from 'node:util';
import { OVERVIEW, commandHelp, isCommand, packageVersion } from './help.js';

/** The options every command shares (parseArgs). */
const OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  url: { type: 'string', multiple: true },
  prefix: { type: 'string', multiple: true },
  host: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  everything: { type: 'boolean' },
  invalidate: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    // An unknown or malformed option: say which, and where the help is.
    process.stderr.write(`outpost: ${(err as Error).message}\nSee \`outpost --help\`.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.version) {
    process.stdout.write(`outpost ${packageVersion()}\n`);
    return 0;
  }
  if (command === 'help') {
    const topic = positionals[1];
    process.stdout.write(isCommand(topic) ? commandHelp(topic) : OVERVIEW);
    return 0;
  }
  if (!command) {
    (values.help ? process.stdout : process.stderr).write(OVERVIEW);
    return values.help ? 0 : 2;
  }
  if (!isCommand(command)) {
    process.stderr.write(`outpost: unknown command "${command}"\n\n${OVERVIEW}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const file = values.config ?? 'outpost.yaml';
  // Each command loads its own modules, so --help and --version answer without loading the edge.
  switch (command) {
    case 'validate': {
      const { errorReport, loadConfigFile } = await import('../config/load.js');
      const r = loadConfigFile(file);
      if (r.ok) {
        process.stdout.write(`${r.file}: ok\n`);
        return 0;
      }
      process.stderr.write(errorReport(r.file, r.errors, ''));
      return 1;
    }
    case 'start':
      await (await import('../server/supervisor.js')).supervise(file);
      return -1; // keeps running
    case 'status':
      return (await import('./status.js')).statusCommand(file, values.json ?? false);
    case 'push':
      return (await import('./push.js')).pushCommand(file);
    case 'purge':
      return (await import('./purge.js')).purgeCommand({
        file,
        urls: values.url ?? [],
        prefixes: values.prefix ?? [],
        hosts: values.host ?? [],
        tags: values.tag ?? [],
        everything: values.everything ?? false,
        invalidate: values.invalidate ?? false,
      });
    case 'under-attack':
      return (await import('./under-attack.js')).underAttackCommand(file, positionals[1]);
    case 'demo':
      await (await import('./demo.js')).runDemo();
      return -1;
    case 'schema':
      process.stdout.write(`${JSON.stringify((await import('../config/schema.js')).configJsonSchema(), null, 2)}\n`);
      return 0;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`outpost: ${err.message}\n`);
    process.exit(1);
  },
);

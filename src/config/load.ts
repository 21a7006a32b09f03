/**
 * Reading a config file: YAML → plain data → schema → file checks, with every problem reported
 * at once, each with its key path, line and column (the YAML node it points at).
 * Nothing here changes running state: the caller swaps the result in only when it is whole.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from 'yaml';
import type { ZodError } from 'zod';
import { checkReferences } from './references.js';
import { checkAliases } from './yaml-aliases.js';
import { configJsonSchema, configSchema, type Config } from './schema.js';

/** One problem in a config file. */
export interface ConfigError {
  /** Key path, `pools.eu.origins[0].address`; empty for the whole file. */
  path: string;
  line: number;
  column: number;
  message: string;
}

export type LoadResult = { ok: true; config: Config; file: string; text: string } | { ok: false; errors: ConfigError[]; file: string };

/**
 * Renders errors the way `outpost validate` prints them: `file:line:col key: message`; an error
 * about the file as a whole (not found, unreadable) is its message alone, which names the file.
 */
export function formatErrors(file: string, errors: ConfigError[]): string {
  return errors.map((e) => (e.line === 0 ? e.message : `${file}:${e.line}:${e.column} ${e.path || '(file)'}: ${e.message}`)).join('\n');
}

/** What `outpost validate` and `outpost start` print for a refused file: every error, then their count (not for a file that could not be read at all). */
export function errorReport(file: string, errors: ConfigError[], outcome: string): string {
  const text = formatErrors(file, errors);
  return errors.length === 1 && errors[0].line === 0 ? `${text}\n` : `${text}\n${errors.length} error(s)${outcome}\n`;
}

/**
 * Loads and validates a config file. Never throws: a missing, unreadable or bad file is a
 * result with errors (reloads depend on this to keep the running config).
 */
export function loadConfigFile(file: string): LoadResult {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? `config file not found: ${path}` : `cannot read config file ${path}: ${code ?? (err as Error).message}`;
    return { ok: false, file: path, errors: [{ path: '', line: 0, column: 0, message }] };
  }
  return parseConfig(text, path);
}

/** Validates config text; `file` locates relative paths (certificates) and names the file in errors. Never throws. */
export function parseConfig(text: string, file: string): LoadResult {
  try {
    return parseConfigText(text, file);
  } catch (err) {
    // Whatever was missed above (a parser bug, a stack overflow on absurd nesting) refuses the
    // file rather than killing the process that reads it.
    return { ok: false, file, errors: [{ path: '', line: 1, column: 1, message: `cannot read this file as a config: ${(err as Error).message}` }] };
  }
}

function parseConfigText(text: string, file: string): LoadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lines.linePos(offset);

  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const { line, col } = at(e.pos[0]);
      return { path: '', line, column: col, message: `YAML: ${e.message.split('\n')[0]}` };
    });
    return { ok: false, file, errors };
  }
  // Aliases are checked before toJS(), which would throw (or expand without end) on a bad one.
  const aliases = checkAliases(doc);
  if (aliases) {
    const { line, col } = at(aliases.offset);
    return { ok: false, file, errors: [{ path: '', line, column: col, message: aliases.message }] };
  }

  const raw = doc.toJS({ maxAliasCount: -1 }) ?? {};
  const parsed = configSchema.safeParse(raw);
  const refs = checkReferences(raw).map((r) => locate(doc, r.path, r.message, at));
  if (!parsed.success || refs.length > 0) {
    const errors = parsed.success ? refs : [...zodErrors(parsed.error, doc, at), ...refs];
    return { ok: false, file, errors: byPosition(errors) };
  }

  const config = parsed.data;
  const base = dirname(file);
  const fileErrors = checkFiles(config, base);
  if (fileErrors.length > 0) {
    return { ok: false, file, errors: fileErrors.map((e) => locate(doc, e.path, e.message, at)) };
  }
  return { ok: true, config, file, text };
}

function byPosition(errors: ConfigError[]): ConfigError[] {
  return errors.sort((a, b) => a.line - b.line || a.column - b.column);
}

type Pos = (offset: number) => { line: number; col: number };

function zodErrors(error: ZodError, doc: Document, at: Pos): ConfigError[] {
  const out: ConfigError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // Point at each unknown key itself, which is where the typo is.
      for (const key of issue.keys) {
        const e = locate(doc, [...issue.path, key], `unknown key "${key}"${suggest(key, issue.path)}`, at, true);
        out.push(e);
      }
      continue;
    }
    out.push(locate(doc, issue.path, describe(issue), at));
  }
  return out;
}

function describe(issue: ZodError['issues'][number]): string {
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return `required key is missing (expected ${issue.expected})`;
  }
  return issue.message;
}

/** A nearby known key, when the unknown one looks like a typo of it. */
function suggest(key: string, parent: PropertyKey[]): string {
  const known = knownKeys(parent);
  const near = known.find((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2);
  return near ? ` (did you mean "${near}"?)` : '';
}

function knownKeys(path: PropertyKey[]): string[] {
  // Walk the schema's JSON form to list the keys allowed at this path.
  let schema: SchemaNode | undefined = (jsonSchema ??= configJsonSchema() as SchemaNode);
  for (const seg of path) {
    if (!schema) return [];
    if (typeof seg === 'number') schema = schema.items;
    else if (schema.properties?.[seg as string]) schema = schema.properties[seg as string];
    else schema = schema.additionalProperties;
    if (schema?.anyOf) schema = schema.anyOf.find((s) => s.properties || s.items) ?? schema;
  }
  return Object.keys(schema?.properties ?? {});
}
let jsonSchema: SchemaNode | undefined;

/** The parts of a JSON Schema node the key suggestions walk. */
interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode;
  anyOf?: SchemaNode[];
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** Finds the YAML node of a key path (or its nearest existing parent) and its line/column. */
function locate(doc: Document, path: PropertyKey[], message: string, at: Pos, keyItself = false): ConfigError {
  let offset = 0;
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n) as unknown[];
    if (keyItself && n === path.length) {
      const parent = doc.getIn(sub.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === sub[sub.length - 1]);
        const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (range) {
          offset = range[0];
          break;
        }
      }
      continue;
    }
    const node = (n === 0 ? doc.contents : doc.getIn(sub, true)) as Node | null | undefined;
    if (node && typeof node === 'object' && 'range' in node && node.range) {
      offset = node.range[0];
      break;
    }
  }
  const { line, col } = at(offset);
  return { path: formatPath(path), line, column: col, message };
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${String(seg)}` : String(seg);
  return out;
}

/**
 * Certificates and keys must exist, parse and match; their paths become absolute so workers and
 * reloads read the same files whatever their working directory.
 */
function checkFiles(config: Config, base: string): { path: PropertyKey[]; message: string }[] {
  const errors: { path: PropertyKey[]; message: string }[] = [];
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const read = (path: PropertyKey[], file: string): string | undefined => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      errors.push({ path, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return undefined;
    }
  };
  // The cache directory is made by the store (and it degrades to pass-through if it cannot be):
  // only its place is fixed here, relative to the config file.
  if (config.cache.disk) config.cache.disk.path = abs(config.cache.disk.path);
  config.tls?.certificates.forEach((c, i) => {
    c.cert = abs(c.cert);
    c.key = abs(c.key);
    const certPem = read(['tls', 'certificates', i, 'cert'], c.cert);
    const keyPem = read(['tls', 'certificates', i, 'key'], c.key);
    if (!certPem || !keyPem) return;
    try {
      const x509 = new X509Certificate(certPem);
      const key = createPrivateKey(keyPem);
      if (!x509.checkPrivateKey(key)) errors.push({ path: ['tls', 'certificates', i, 'key'], message: 'this key does not match the certificate' });
    } catch (err) {
      errors.push({ path: ['tls', 'certificates', i], message: `not a PEM certificate and key: ${(err as Error).message}` });
    }
  });
  for (const [name, pool] of Object.entries(config.pools)) {
    pool.origins.forEach((o, i) => {
      if (!o.tls) return;
      for (const k of ['ca', 'cert', 'key'] as const) {
        const f = o.tls[k];
        if (!f) continue;
        o.tls[k] = abs(f);
        read(['pools', name, 'origins', i, 'tls', k], o.tls[k]!);
      }
    });
  }
  return errors;
}

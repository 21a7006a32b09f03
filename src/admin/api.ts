/**
 * The admin API under /api/ (token-protected): the runtime view of load balancers, pools and
 * origins (admin state, health, RTT, open connections, last check error), and origin control at
 * run time without a reload: enable, disable, drain. Like Traefik's runtime view, one model feeds
 * both this API and the dashboard.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { PurgeRequest } from '../cache/edge-cache.js';
import type { UnderAttackMode } from '../shield/under-attack.js';

export type OriginAction = 'enable' | 'disable' | 'drain';

export interface AdminModel {
  loadBalancers(): object[];
  /** Pools with their origins' live state (gathered from workers). */
  pools(): Promise<object[]>;
  /** Applies an action to `pool/origin`; false if there is no such origin. */
  setOrigin(pool: string, origin: string, action: OriginAction): boolean;
  /** Recent health changes, newest first. */
  events(): object[];
  /** Purges every worker's cache; resolves with the number of entries removed or marked stale. */
  purge(request: PurgeRequest): Promise<{ purged: number; workers: number; errors: string[] }>;
  /** The cache's size and state, summed over workers. */
  cache(): Promise<object>;
  /** The security level and under-attack mode (state, reason, detector, recent changes). */
  security(): object;
  /** Switches under-attack mode by hand (`auto` hands it back to the detector); returns the new view. */
  setUnderAttack(mode: UnderAttackMode): object;
}

const underAttackRequest = z.strictObject({ mode: z.enum(['on', 'off', 'auto']) });

const list = z.array(z.string().min(1)).max(1000).optional();
/** The body of POST /api/cache/purge (Cloudflare's purge_cache fields, plus `mode`). */
export const purgeRequest = z
  .strictObject({
    urls: list,
    prefixes: list,
    hosts: list,
    tags: list,
    everything: z.boolean().optional(),
    mode: z.enum(['delete', 'invalidate']).default('delete'),
  })
  .refine((r) => r.everything || r.urls?.length || r.prefixes?.length || r.hosts?.length || r.tags?.length, {
    message: 'say what to purge: urls, prefixes, hosts, tags or everything: true',
  });

const MAX_BODY = 1 << 20;

/** Handles /api/* (`path`: the normalised path, no query); returns false for other paths. */
export function handleApi(req: IncomingMessage, res: ServerResponse, path: string, token: string | undefined, model: AdminModel): boolean {
  if (!path.startsWith('/api/')) return false;
  const json = (status: number, body: unknown) => {
    const text = `${JSON.stringify(body, null, 2)}\n`;
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (!token) {
    json(404, { error: 'the admin API is off: set admin.token in the config' });
    return true;
  }
  if (!authorized(req.headers.authorization, token)) {
    res.setHeader('www-authenticate', 'Bearer realm="outpost"');
    json(401, { error: 'missing or wrong bearer token' });
    return true;
  }
  const parts = pathSegments(path); // ['api', ...]
  if (!parts) {
    json(400, { error: 'a path segment is not valid percent-encoded UTF-8' });
    return true;
  }
  const route = `${req.method} /${parts.slice(1).join('/')}`;
  if (req.method === 'GET' && parts[1] === 'loadbalancers' && parts.length === 2) {
    json(200, { loadBalancers: model.loadBalancers() });
  } else if (req.method === 'GET' && parts[1] === 'pools' && parts.length === 2) {
    model.pools().then(
      (pools) => json(200, { pools }),
      (err: Error) => json(500, { error: err.message }),
    );
  } else if (req.method === 'GET' && parts[1] === 'events' && parts.length === 2) {
    json(200, { events: model.events() });
  } else if (req.method === 'GET' && parts[1] === 'cache' && parts.length === 2) {
    model.cache().then(
      (c) => json(200, c),
      (err: Error) => json(500, { error: err.message }),
    );
  } else if (req.method === 'POST' && parts[1] === 'cache' && parts[2] === 'purge' && parts.length === 3) {
    readJson(req).then(
      (body) => {
        const parsed = purgeRequest.safeParse(body);
        if (!parsed.success) return json(400, { error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
        return model.purge(parsed.data).then(
          (r) => json(r.errors.length ? 500 : 200, r),
          (err: Error) => json(500, { error: err.message }),
        );
      },
      (err: Error) => json(400, { error: err.message }),
    );
  } else if (req.method === 'GET' && parts[1] === 'security' && parts.length === 2) {
    json(200, model.security());
  } else if (req.method === 'POST' && parts[1] === 'security' && parts[2] === 'under-attack' && parts.length === 3) {
    readJson(req).then(
      (body) => {
        const parsed = underAttackRequest.safeParse(body);
        if (!parsed.success) return json(400, { error: 'expected {"mode": "on" | "off" | "auto"}' });
        return json(200, model.setUnderAttack(parsed.data.mode));
      },
      (err: Error) => json(400, { error: err.message }),
    );
  } else if (req.method === 'POST' && parts[1] === 'pools' && parts[3] === 'origins' && parts.length === 6 && isAction(parts[5])) {
    const ok = model.setOrigin(parts[2], parts[4], parts[5]);
    json(ok ? 200 : 404, ok ? { pool: parts[2], origin: parts[4], action: parts[5] } : { error: `no origin ${parts[4]} in pool ${parts[2]}` });
  } else {
    json(404, {
      error: `no route ${route}`,
      routes: [
        'GET /api/loadbalancers',
        'GET /api/pools',
        'GET /api/events',
        'POST /api/pools/:pool/origins/:origin/enable|disable|drain',
        'GET /api/cache',
        'POST /api/cache/purge',
        'GET /api/security',
        'POST /api/security/under-attack',
      ],
    });
  }
  return true;
}

/** The request body as JSON (at most 1 MiB). */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('the body is larger than 1 MiB'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      } catch {
        reject(new Error('the body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

/** The decoded segments of `path`, or undefined when one is not valid UTF-8 (`%E0%A4%A`). */
function pathSegments(path: string): string[] | undefined {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

function isAction(s: string): s is OriginAction {
  return s === 'enable' || s === 'disable' || s === 'drain';
}

export function authorized(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

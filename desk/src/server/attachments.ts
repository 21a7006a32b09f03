/**
 * Attachments over HTTP (desk/PROTOCOL.md, Attachments). The file goes up first, alone, as the
 * request body; the message that carries it names its id (`message.send {attachments: [id]}`).
 *
 *   POST /api/attachments?workspace=<id>&conversation=<id>&name=<file name>   body: the file,
 *        Content-Type: its type (attachments/kinds.ts), Content-Length ≤ the limit.
 *        Visitors: `X-Desk-Visitor: <session>` (the widget's; CORS for the workspace's sites);
 *        operators: `Authorization: Bearer <session>`.  → 201 {attachment: {id, name, type, size, url}}
 *        400 no name / conversation, 401 no session, 403 not your conversation or site, 413 too
 *        large, 415 a type not allowed or bytes that are not that type, 429 too many uploads.
 *   OPTIONS /api/attachments?workspace=<id>  the CORS preflight of the above.
 *   GET|HEAD /files/<id>/<name>             the file: its type, `nosniff`, a sandboxing CSP,
 *        images inline and anything else as a download, cacheable for a year (the id is a
 *        random capability: whoever has the link may read the file, as in the products we
 *        replace; the edge caches it by rule).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentDisposition, kindOf, MAX_ATTACHMENT_BYTES, agrees, safeName } from '../attachments/kinds.js';
import { type AttachmentStorage, TooLargeError } from '../attachments/storage.js';
import { newId } from '../store/ids.js';
import type { Attachment } from '../store/types.js';
import { type Actor, conversationFor, uploaderOf } from './actions.js';
import type { DeskContext } from './desk-context.js';
import { DeskError } from './errors.js';
import { decodeSegment, sendError, sendJson } from './http-io.js';
import { normalizeOrigin, upgradeInfo, visitorOriginAllowed } from './origins.js';
import { operatorForToken } from './sessions.js';
import { TokenBucket } from './token-bucket.js';
import { fileUrl } from './views.js';

export interface AttachmentOptions {
  storage: AttachmentStorage;
  /** Largest file accepted (MAX_ATTACHMENT_BYTES by default). */
  maxBytes?: number;
}

const FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";
/** Uploads per uploader: 10 at once, then one every 6 s. */
const UPLOADS = { perSecond: 1 / 6, burst: 10 };

export class Attachments {
  private readonly buckets = new Map<string, TokenBucket>();
  readonly maxBytes: number;

  constructor(
    private readonly desk: DeskContext,
    private readonly opts: AttachmentOptions,
  ) {
    this.maxBytes = opts.maxBytes ?? MAX_ATTACHMENT_BYTES;
  }

  /** Answers /api/attachments and /files/…; false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (url.pathname === '/api/attachments') {
      await this.upload(req, res, url).catch((err: unknown) => this.fail(req, res, err));
      return true;
    }
    if (url.pathname.startsWith('/files/')) {
      await this.serve(req, res, url).catch((err: unknown) => this.fail(req, res, err));
      return true;
    }
    return false;
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (!(err instanceof DeskError)) this.desk.log.error({ err, path: req.url }, 'desk attachments failed');
    // A refused upload's body is not read (or only in part): close rather than let Node drain
    // what may be 10 MiB, or a chunked body without end, to keep the connection.
    if (req.method === 'POST' && !res.headersSent) {
      res.setHeader('connection', 'close');
      // Held now: by 'finish' the request may have let go of its socket (req.socket is null then,
      // and a throw here would be an uncaught exception: found by CI).
      const socket = req.socket;
      res.once('finish', () => socket?.destroy());
    }
    sendError(res, err);
  }

  private async upload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const cors = await this.cors(req, url);
    for (const [k, v] of Object.entries(cors)) res.setHeader(k, v);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type, x-desk-visitor', 'access-control-max-age': '600' }).end();
      return;
    }
    if (req.method !== 'POST') throw new DeskError('not_found', 'POST /api/attachments');
    const actor = await this.actor(req, url);
    const conv = await conversationFor(this.desk, actor, url.searchParams.get('conversation') ?? undefined);
    const kind = kindOf(req.headers['content-type']);
    if (!kind) throw new DeskError('unsupported_type', `${req.headers['content-type'] ?? 'no type'} may not be attached`);
    const rawName = url.searchParams.get('name');
    if (!rawName || rawName.length > 1000) throw new DeskError('bad_event', 'name is the file name (at most 1000 characters)');
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > this.maxBytes) throw new DeskError('too_large', `a file is at most ${this.maxBytes} bytes`);
    const who = uploaderOf(actor);
    if (!this.bucket(who).take(Date.now())) throw new DeskError('rate_limited', 'too many uploads; try again in a moment', undefined, 6);

    const id = newId('f');
    let size: number;
    try {
      size = await this.opts.storage.write(id, req, this.maxBytes, (head) => {
        if (!agrees(kind, head)) throw new DeskError('unsupported_type', `this file is not ${kind.type}`);
      });
    } catch (err) {
      if (err instanceof TooLargeError) throw new DeskError('too_large', `a file is at most ${this.maxBytes} bytes`);
      if (err instanceof DeskError) throw err;
      // The client went away or was cut (timeout): nothing kept, nobody to answer.
      if (req.destroyed || req.aborted) return void res.destroy();
      throw err;
    }
    if (size === 0) {
      await this.opts.storage.remove(id);
      throw new DeskError('bad_event', 'the file is empty');
    }
    const stored: Attachment = await this.desk.store.createAttachment({
      id,
      workspaceId: conv.workspaceId,
      conversationId: conv.id,
      uploader: who,
      name: safeName(rawName, kind),
      type: kind.type,
      size,
    });
    const ref = { id: stored.id, name: stored.name, type: stored.type, size: stored.size };
    sendJson(res, 201, { attachment: { ...ref, url: fileUrl(ref) } });
  }

  /** The uploader: an operator's bearer session or a visitor's widget session, in the workspace named. */
  private async actor(req: IncomingMessage, url: URL): Promise<Actor> {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer) {
      const operator = await operatorForToken(this.desk.store, bearer);
      if (!operator) throw new DeskError('unauthorized', 'sign in first');
      return { kind: 'operator', workspaceId: operator.workspaceId, operator };
    }
    const token = req.headers['x-desk-visitor'];
    if (typeof token !== 'string' || token.length === 0 || token.length > 200) throw new DeskError('unauthorized', 'no session');
    const visitor = await this.desk.store.visitorByToken(token);
    if (!visitor || visitor.workspaceId !== url.searchParams.get('workspace')) throw new DeskError('unauthorized', 'unknown session');
    const conversationId = url.searchParams.get('conversation') ?? '';
    const conv = await this.desk.store.getConversation(conversationId);
    if (!conv || conv.visitorId !== visitor.id) throw new DeskError('forbidden', 'not your conversation');
    return { kind: 'visitor', workspaceId: visitor.workspaceId, visitor, conversationId };
  }

  /** CORS for the widget on the workspace's sites: the Origin echoed when the workspace allows it. */
  private async cors(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
    const origin = req.headers.origin;
    if (!origin) return {};
    const info = upgradeInfo(req);
    if (info.sameOrigin) return {};
    const workspace = await this.desk.workspace(url.searchParams.get('workspace') ?? '');
    if (!workspace || !visitorOriginAllowed(workspace.allowedOrigins, info)) throw new DeskError('forbidden', 'this site may not use the workspace');
    return { 'access-control-allow-origin': normalizeOrigin(origin) ?? 'null', vary: 'Origin' };
  }

  private async serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new DeskError('not_found', 'no such file');
    const m = /^\/files\/(f_[A-Za-z0-9_-]{10,40})\/[^/]+$/.exec(url.pathname);
    if (!m) throw new DeskError('not_found', 'no such file');
    const a = await this.desk.store.getAttachment(decodeSegment(m[1]!));
    const kind = a && kindOf(a.type);
    if (!a || !kind) throw new DeskError('not_found', 'no such file');
    const etag = `"${a.id}"`;
    const headers: Record<string, string | number> = {
      'content-type': kind.type,
      'content-disposition': contentDisposition(a.name, kind.inline),
      'x-content-type-options': 'nosniff',
      'content-security-policy': FILE_CSP,
      'cross-origin-resource-policy': 'cross-origin',
      'referrer-policy': 'no-referrer',
      'cache-control': 'public, max-age=31536000, immutable',
      etag,
    };
    if (req.headers['if-none-match']?.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) {
      res.writeHead(304, headers).end();
      return;
    }
    const body = req.method === 'HEAD' ? undefined : await this.opts.storage.read(a.id);
    if (req.method === 'GET' && !body) throw new DeskError('not_found', 'no such file');
    res.writeHead(200, { ...headers, 'content-length': a.size });
    if (!body) return void res.end();
    body.on('error', () => res.destroy());
    body.pipe(res);
  }

  private bucket(who: string): TokenBucket {
    let b = this.buckets.get(who);
    if (!b) {
      const now = Date.now();
      if (this.buckets.size > 10_000) for (const [k, v] of this.buckets) if (v.full(now)) this.buckets.delete(k);
      this.buckets.set(who, (b = new TokenBucket(UPLOADS.perSecond, UPLOADS.burst, now)));
    }
    return b;
  }
}

/**
 * The client → server half of desk/PROTOCOL.md as validated data: `parseClientEvent` turns one
 * text frame into a typed event or a classified error (`bad_event`, `too_large`), without IO.
 * Unknown fields are ignored (a newer client may send more); unknown types are refused.
 */
import { z } from 'zod';
import { MAX_ATTACHMENTS } from '../attachments/kinds.js';
import { DeskError } from './errors.js';

/** PROTOCOL.md: a message body is at most 5,000 characters. */
export const MAX_BODY = 5000;

const id = z.string().min(1).max(100);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const schemas = {
  'visitor.hello': z.object({
    workspace: id,
    session: z.string().max(200).optional(),
    lastSeq: seq.optional(),
    page: z.string().max(2000).optional(),
    /** Extension: the conversation `lastSeq` belongs to; when it is not the visitor's current one, everything is sent. */
    conversation: id.optional(),
    /**
     * Only from a regional node (desk/REGIONAL.md), which welcomed a new visitor itself: the
     * conversation id it gave; `session` is the token it gave. Ignored from anyone else.
     */
    mint: z.object({ conversation: z.string().regex(/^c_[\w-]{10,100}$/) }).optional(),
  }),
  'operator.hello': z.object({ token: z.string().min(1).max(200) }),
  'message.send': z.object({ conversation: id.optional(), clientId: id, body: z.string(), note: z.boolean().optional(), attachments: z.array(id).max(MAX_ATTACHMENTS).optional() }),
  typing: z.object({ conversation: id.optional(), state: z.enum(['start', 'stop']) }),
  read: z.object({ conversation: id.optional(), upToSeq: seq }),
  sync: z.object({ conversation: id.optional(), afterSeq: seq }),
  'visitor.email': z.object({
    email: z
      .string()
      .max(320)
      .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'not an email address'),
  }),
  'visitor.identify': z.object({
    email: z
      .string()
      .max(320)
      .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'not an email address'),
    name: z.string().trim().min(1).max(200).optional(),
    /** HMAC-SHA256 of the email (lowercase) under the workspace's identity secret, in hex: made by the host site's server. */
    userHash: z.string().regex(/^[0-9a-f]{64}$/i, 'not a SHA-256 HMAC in hex'),
  }),
  'conversation.rate': z.object({ conversation: id.optional(), rating: z.enum(['good', 'bad']) }),
  'conversation.assign': z.object({ conversation: id, operator: id.nullable() }),
  'conversation.resolve': z.object({ conversation: id }),
  'conversation.label': z.object({ conversation: id, labels: z.array(z.string().max(200)).max(50) }),
  'conversation.snooze': z.object({ conversation: id, until: z.number().int().nullable() }),
  'conversation.reopen': z.object({ conversation: id }),
  'presence.set': z.object({ status: z.enum(['online', 'away']) }),
  'transcript.request': z.object({ conversation: id.optional() }),
  ping: z.object({ t: z.unknown().optional() }),
} as const;

type Schemas = typeof schemas;
export type ClientEventType = keyof Schemas;
/** One parsed client event: `{type, ...fields}`. */
export type ClientEvent = { [K in ClientEventType]: { type: K } & z.infer<Schemas[K]> }[ClientEventType];
export type ClientEventOf<K extends ClientEventType> = Extract<ClientEvent, { type: K }>;

function isType(t: unknown): t is ClientEventType {
  return typeof t === 'string' && Object.hasOwn(schemas, t);
}

/** Parses one frame; throws DeskError `bad_event` or `too_large` (with `ref` = the clientId when there is one). */
export function parseClientEvent(text: string): ClientEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new DeskError('bad_event', 'not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DeskError('bad_event', 'an event is a JSON object');
  const obj = raw as Record<string, unknown>;
  const ref = typeof obj.clientId === 'string' && obj.clientId.length <= 100 ? obj.clientId : undefined;
  if (!isType(obj.type)) throw new DeskError('bad_event', `unknown event type ${JSON.stringify(String(obj.type ?? '')).slice(0, 60)}`, ref);
  const parsed = schemas[obj.type].safeParse(obj);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : obj.type;
    throw new DeskError('bad_event', `${where}: ${issue?.message ?? 'invalid'}`, ref);
  }
  const event = { type: obj.type, ...parsed.data } as ClientEvent;
  if (event.type === 'message.send') checkBody(event.body, event.clientId, (event.attachments?.length ?? 0) > 0);
  return event;
}

/** A message body: not blank (unless files come with it), at most MAX_BODY characters (code points, as a person counts them). */
export function checkBody(body: string, ref?: string, withFiles = false): void {
  if (body.trim() === '' && !withFiles) throw new DeskError('bad_event', 'body is empty', ref);
  if (body.length > MAX_BODY && [...body].length > MAX_BODY) throw new DeskError('too_large', `body is longer than ${MAX_BODY} characters`, ref);
}

/**
 * Inbound email: an SMTP listener (smtp-server) that takes replies into their conversations.
 *
 * Routing happens before the body is read, so a message nobody will store costs no parsing:
 * - connect: more than `maxClients` clients at once, or `maxClientsPerIp` from one address:
 *   421 4.7.0 (RFC 5321 §4.2.3: the client tries again later);
 * - EHLO announces SIZE `maxSize` (RFC 1870); MAIL FROM with a SIZE over it: 552 5.3.4;
 * - RCPT TO: `reply+<token>@<domain>` of a known conversation whose workspace has that domain
 *   (the conversation is chosen here), or a bare `reply@<domain>` of a workspace's domain (routed
 *   by the headers); anything else 550 5.1.1, and a message with no recipient left is never read;
 * - DATA: over `maxSize` 552 5.3.4 (the bytes past it are counted, not kept); the header block
 *   alone is parsed first (inbound-parse.ts): over 64 KiB, without a sender or headers 554 5.6.0;
 *   a bare `reply@` whose In-Reply-To / References match no conversation of that domain's
 *   workspaces 550 5.1.1; an operator's signed address not from that operator 550 5.7.1. Only
 *   then is the body parsed, with bounded work; no text 554 5.6.0.
 * An auto-reply (auto-reply.ts) or an email whose Message-ID is stored already is accepted
 * (250, so it is not retried) and dropped, before its body is parsed.
 *
 * Routing: the reply token, then In-Reply-To, then References (last first), a Message-ID only
 * matching a conversation of a workspace whose domain the email was sent to (Message-IDs are
 * anyone's to quote: one of another workspace's thread must not put the email there). The text,
 * quoted part stripped (quoted.ts), is posted through actions.sendMessage, the path chat messages
 * take, via 'email': `message.new` reaches operators on every node. The author is an operator
 * only when the email came to that operator's signed address (a notification's) from that
 * operator's own address; everything else is the visitor's.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { sendMessage, type Actor } from '../server/actions.js';
import { MAX_BODY } from '../server/client-events.js';
import type { DeskContext } from '../server/desk-context.js';
import type { Conversation } from '../store/types.js';
import { sameSecret } from '../server/sessions.js';
import { operatorSignature, parseReplyAddress } from './addresses.js';
import { isAutoReply } from './auto-reply.js';
import { readMessage } from './read-message.js';
import { bodyText, parseHeaders } from './inbound-parse.js';
import { stripQuoted } from './quoted.js';

export interface InboundOptions {
  port: number;
  host?: string;
  /** Largest email accepted, bytes (advertised as SIZE). */
  maxSize: number;
  /** SMTP clients connected at once, and from one IP address. */
  maxClients: number;
  maxClientsPerIp: number;
}

/** An SMTP reply: smtp-server sends `responseCode` and the message. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export interface EmailInbound {
  port: number;
  close(): Promise<void>;
}

/** What RCPT TO learnt of a session's recipients: the conversation a token named, the domains of bare addresses. */
interface Recipients {
  token?: { conv: Conversation; signature?: string };
  domains: Set<string>;
}

export async function startInbound(desk: DeskContext, opts: InboundOptions): Promise<EmailInbound> {
  const recipients = new Map<string, Recipients>();
  const perIp = new Map<string, number>();
  const counted = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: opts.maxSize,
    maxClients: opts.maxClients,
    logger: false,
    banner: 'Desk',
    onConnect(session, callback) {
      const ip = session.remoteAddress;
      const n = perIp.get(ip) ?? 0;
      if (opts.maxClientsPerIp > 0 && n >= opts.maxClientsPerIp) return callback(smtpError(421, '4.7.0 Too many connections from your address, try again later'));
      perIp.set(ip, n + 1);
      counted.add(session.id);
      callback();
    },
    onClose(session) {
      recipients.delete(session.id);
      if (!counted.delete(session.id)) return;
      const n = (perIp.get(session.remoteAddress) ?? 1) - 1;
      if (n > 0) perIp.set(session.remoteAddress, n);
      else perIp.delete(session.remoteAddress);
    },
    onMailFrom(_address, session, callback) {
      recipients.delete(session.id); // a new transaction (RFC 5321 §4.1.1.2)
      callback();
    },
    onRcptTo(address, session, callback) {
      checkRecipient(desk, address.address).then(
        (found) => {
          const r = recipients.get(session.id) ?? { domains: new Set<string>() };
          if ('conv' in found) r.token ??= found;
          else r.domains.add(found.domain);
          recipients.set(session.id, r);
          callback();
        },
        (err: Error) => callback(err),
      );
    },
    onData(stream, session, callback) {
      receive(desk, stream, recipients.get(session.id), opts.maxSize).then(
        () => callback(),
        (err: Error) => {
          if (!('responseCode' in err)) desk.log.error({ err }, 'desk email: inbound failed');
          callback('responseCode' in err ? err : smtpError(451, '4.3.0 Temporary failure, try again later'));
        },
      );
    },
  });
  server.on('error', (err) => desk.log.warn({ err }, 'desk email: smtp listener error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The conversation a reply address names, checked against its workspace's domain. */
async function byToken(desk: DeskContext, token: string, domain: string): Promise<Conversation | undefined> {
  const conv = await desk.store.conversationByReplyToken(token);
  if (!conv) return undefined;
  const ws = await desk.workspace(conv.workspaceId);
  return ws && ws.emailDomain.toLowerCase() === domain ? conv : undefined;
}

/** RCPT TO: the conversation of a token address, or the domain of a bare one; anything else 550. */
async function checkRecipient(desk: DeskContext, address: string): Promise<{ conv: Conversation; signature?: string } | { domain: string }> {
  const parsed = parseReplyAddress(address);
  if (parsed?.token !== undefined) {
    const conv = await byToken(desk, parsed.token, parsed.domain);
    if (conv) return { conv, ...(parsed.signature ? { signature: parsed.signature } : {}) };
  } else if (parsed && (await desk.store.hasEmailDomain(parsed.domain))) {
    return { domain: parsed.domain };
  }
  throw smtpError(550, '5.1.1 No such recipient here');
}

/**
 * The conversation: the one a recipient's token named, else by In-Reply-To then References
 * (newest first), in a workspace whose domain a bare recipient named.
 */
async function route(desk: DeskContext, to: Recipients, mail: ParsedMail): Promise<{ conv: Conversation; signature?: string } | undefined> {
  if (to.token) return to.token;
  const refs = typeof mail.references === 'string' ? [mail.references] : (mail.references ?? []);
  for (const id of [mail.inReplyTo, ...refs.slice().reverse()]) {
    const conv = id ? await desk.store.conversationByEmailId(id.trim()) : undefined;
    if (!conv) continue;
    const ws = await desk.workspace(conv.workspaceId);
    if (ws && to.domains.has(ws.emailDomain.toLowerCase())) return { conv };
  }
  return undefined;
}

function headerOf(mail: ParsedMail): (name: string) => string | undefined {
  const raw = new Map<string, string>();
  for (const { key, line } of mail.headerLines) if (!raw.has(key)) raw.set(key, line.slice(line.indexOf(':') + 1).trim());
  return (name) => raw.get(name);
}

async function receive(desk: DeskContext, stream: SMTPServerDataStream, to: Recipients | undefined, maxSize: number): Promise<void> {
  const raw = await readMessage(stream, maxSize);
  if (!raw) throw smtpError(552, `5.3.4 Message too big (at most ${maxSize} bytes)`);
  if (!to) throw smtpError(503, '5.5.1 No valid recipients'); // smtp-server refuses DATA before this
  let head: ParsedMail | undefined;
  try {
    head = await parseHeaders(raw);
  } catch {
    throw smtpError(554, '5.6.0 Message could not be parsed');
  }
  if (!head) throw smtpError(554, '5.6.0 Header block too long');
  const from = head.from?.value[0]?.address;
  if (!from || head.headerLines.length === 0) throw smtpError(554, '5.6.0 Message has no sender');
  if (isAutoReply(headerOf(head))) return; // 250, dropped

  const messageId = head.messageId?.trim() || `<${createHash('sha256').update(raw).digest('base64url')}@desk.invalid>`;
  if (await desk.store.messageByEmailId(messageId)) return; // delivered twice: stored once
  const routed = await route(desk, to, head);
  if (!routed) throw smtpError(550, '5.1.1 No conversation for this reply');
  const { conv } = routed;
  const actor = await authorOf(desk, conv, from, routed.signature);
  if (!actor) throw smtpError(550, '5.7.1 Not allowed to write here');

  // Only now, for an email that will be stored, is the body parsed (bounded: inbound-parse.ts).
  let text: string;
  try {
    text = (await bodyText(raw)).trim();
  } catch {
    throw smtpError(554, '5.6.0 Message could not be parsed');
  }
  if (text === '') throw smtpError(554, '5.6.0 Message has no text');
  let body = stripQuoted(text);
  if ([...body].length > MAX_BODY) body = `${[...body].slice(0, MAX_BODY - 1).join('')}…`;
  const refs = typeof head.references === 'string' ? [head.references] : (head.references ?? []);
  await sendMessage(desk, actor, conv, {
    clientId: `e_${createHash('sha256').update(messageId).digest('base64url').slice(0, 32)}`,
    body,
    via: 'email',
    email: { messageId, inReplyTo: head.inReplyTo, references: refs, from, subject: head.subject ?? '' },
  });
  await desk.store.addThreadEmail(conv.id, messageId);
}

/**
 * Who wrote it: with an operator signature, the operator it was signed for, when the sender is
 * that operator (else nobody: refused); without one, the conversation's visitor.
 */
async function authorOf(desk: DeskContext, conv: Conversation, from: string, signature: string | undefined): Promise<Actor | undefined> {
  if (signature !== undefined) {
    const operator = await desk.store.operatorByEmail(from);
    const ws = await desk.workspace(conv.workspaceId);
    if (!operator || !ws || operator.workspaceId !== conv.workspaceId) return undefined;
    if (!sameSecret(signature, operatorSignature(ws.webhookSecret, conv.id, operator.id))) return undefined;
    return { kind: 'operator', workspaceId: conv.workspaceId, operator };
  }
  const visitor = await desk.store.getVisitor(conv.visitorId);
  return visitor && { kind: 'visitor', workspaceId: conv.workspaceId, visitor, conversationId: conv.id };
}

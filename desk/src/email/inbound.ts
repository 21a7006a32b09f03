/**
 * Inbound email: an SMTP listener (smtp-server) that takes replies into their conversations.
 *
 * Per SMTP phase (RFC 5321 §4.2 codes, RFC 3463 enhanced codes):
 * - MAIL FROM with a SIZE over `maxSize`: 552 5.3.4 (smtp-server, from the SIZE extension);
 * - RCPT TO: `reply+<token>@<domain>` of a known conversation whose workspace has that domain, or
 *   a bare `reply@<domain>` (routed after DATA); anything else 550 5.1.1;
 * - DATA: over `maxSize` 552 5.3.4; not parseable, without a sender or text 554 5.6.0; a bare
 *   `reply@` whose In-Reply-To / References match no conversation 550 5.1.1.
 * An auto-reply (auto-reply.ts) or an email whose Message-ID is stored already is accepted
 * (250, so it is not retried) and dropped.
 *
 * Routing: the reply token, then In-Reply-To, then References (last first). The text, quoted
 * part stripped (quoted.ts), is posted through actions.sendMessage, the path chat messages take,
 * via 'email': `message.new` reaches operators on every node. The author is an operator only when
 * the email came to that operator's signed address (a notification's) from that operator's own
 * address; a signed address otherwise is refused (550 5.7.1); everything else is the visitor's.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { sendMessage, type Actor } from '../server/actions.js';
import { MAX_BODY } from '../server/client-events.js';
import type { DeskContext } from '../server/desk-context.js';
import type { Conversation } from '../store/types.js';
import { sameSecret } from '../server/sessions.js';
import { operatorSignature, parseReplyAddress } from './addresses.js';
import { isAutoReply } from './auto-reply.js';
import { stripQuoted } from './quoted.js';

export interface InboundOptions {
  port: number;
  host?: string;
  /** Largest email accepted, bytes (advertised as SIZE). */
  maxSize: number;
}

/** An SMTP reply: smtp-server sends `responseCode` and the message. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export interface EmailInbound {
  port: number;
  close(): Promise<void>;
}

export async function startInbound(desk: DeskContext, opts: InboundOptions): Promise<EmailInbound> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: opts.maxSize,
    logger: false,
    banner: 'Desk',
    onRcptTo(address, _session, callback) {
      checkRecipient(desk, address.address).then(
        () => callback(),
        (err: Error) => callback(err),
      );
    },
    onData(stream, session, callback) {
      receive(desk, stream, session, opts.maxSize).then(
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

async function checkRecipient(desk: DeskContext, address: string): Promise<void> {
  const parsed = parseReplyAddress(address);
  if (parsed && (parsed.token === undefined || (await byToken(desk, parsed.token, parsed.domain)))) return;
  throw smtpError(550, '5.1.1 No such recipient here');
}

/**
 * The conversation by reply token (any recipient, with the operator signature when the address
 * has one), then In-Reply-To, then References, newest first.
 */
async function route(desk: DeskContext, session: SMTPServerSession, mail: ParsedMail): Promise<{ conv: Conversation; signature?: string } | undefined> {
  for (const rcpt of session.envelope.rcptTo) {
    const parsed = parseReplyAddress(rcpt.address);
    const conv = parsed?.token && (await byToken(desk, parsed.token, parsed.domain));
    if (conv) return { conv, ...(parsed.signature ? { signature: parsed.signature } : {}) };
  }
  const refs = typeof mail.references === 'string' ? [mail.references] : (mail.references ?? []);
  for (const id of [mail.inReplyTo, ...refs.slice().reverse()]) {
    const conv = id ? await desk.store.conversationByEmailId(id.trim()) : undefined;
    if (conv) return { conv };
  }
  return undefined;
}

async function readAll(stream: SMTPServerDataStream, maxSize: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxSize) chunks.push(chunk);
  }
  return stream.sizeExceeded || size > maxSize ? undefined : Buffer.concat(chunks);
}

function headerOf(mail: ParsedMail): (name: string) => string | undefined {
  const raw = new Map<string, string>();
  for (const { key, line } of mail.headerLines) if (!raw.has(key)) raw.set(key, line.slice(line.indexOf(':') + 1).trim());
  return (name) => raw.get(name);
}

async function receive(desk: DeskContext, stream: SMTPServerDataStream, session: SMTPServerSession, maxSize: number): Promise<void> {
  const raw = await readAll(stream, maxSize);
  if (!raw) throw smtpError(552, `5.3.4 Message too big (at most ${maxSize} bytes)`);
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { skipHtmlToText: false, skipTextToHtml: true, skipImageLinks: true });
  } catch {
    throw smtpError(554, '5.6.0 Message could not be parsed');
  }
  const from = mail.from?.value[0]?.address;
  const text = (mail.text ?? '').trim();
  if (!from || mail.headerLines.length === 0) throw smtpError(554, '5.6.0 Message has no sender');
  if (text === '') throw smtpError(554, '5.6.0 Message has no text');
  if (isAutoReply(headerOf(mail))) return; // 250, dropped

  const messageId = mail.messageId?.trim() || `<${createHash('sha256').update(raw).digest('base64url')}@desk.invalid>`;
  if (await desk.store.messageByEmailId(messageId)) return; // delivered twice: stored once
  const routed = await route(desk, session, mail);
  if (!routed) throw smtpError(550, '5.1.1 No conversation for this reply');
  const { conv } = routed;

  const actor = await authorOf(desk, conv, from, routed.signature);
  if (!actor) throw smtpError(550, '5.7.1 Not allowed to write here');
  let body = stripQuoted(text);
  if ([...body].length > MAX_BODY) body = [...body].slice(0, MAX_BODY - 1).join('') + '…';
  const refs = typeof mail.references === 'string' ? [mail.references] : (mail.references ?? []);
  await sendMessage(desk, actor, conv, {
    clientId: `e_${createHash('sha256').update(messageId).digest('base64url').slice(0, 32)}`,
    body,
    via: 'email',
    email: { messageId, inReplyTo: mail.inReplyTo, references: refs, from, subject: mail.subject ?? '' },
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

/**
 * A mail catcher for the demo and for development (what MailHog or Mailpit do): an SMTP server on
 * loopback that accepts every message and keeps the last `keep` in memory, and a page that lists
 * them. Nothing is relayed anywhere. A caught email can be answered from the page: the answer is
 * sent, as the recipient, to the email's Reply-To through `replyRelay` (Desk's inbound listener),
 * so the whole email loop of Desk works on a laptop.
 *
 * The page shows each message's text; its HTML part is shown in a sandboxed frame (no scripts, no
 * same origin, no network: the page's Content-Security-Policy), never inline.
 *
 * What a stranger may send is bounded: a message past `maxSize` is refused (552) and never held
 * in memory (read-message.ts), an answer's form past 64 KiB gets 413, a target that is not a URL
 * 400, and a client that sends its request, or its SMTP commands, too slowly is cut after
 * `timeoutMs`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser, type AddressObject } from 'mailparser';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { escapeHtml } from './html.js';
import { readMessage } from './read-message.js';

export interface CaughtMail {
  id: number;
  receivedAt: number;
  from: string;
  to: string;
  replyTo: string | undefined;
  subject: string;
  messageId: string | undefined;
  references: string[];
  text: string;
  html: string | undefined;
}

export interface MailCatcherOptions {
  smtpPort: number;
  httpPort: number;
  host?: string;
  /** How many messages are kept (oldest dropped). Default 200. */
  keep?: number;
  /** Largest message accepted, in bytes. Default 10 MiB. */
  maxSize?: number;
  /** Where answers from the page go (`smtp://127.0.0.1:2525`), asked when one is sent; without it the page offers none. */
  replyRelay?: () => string | undefined;
  /** How long a client may take to send a request (HTTP) or stay silent (SMTP). Default 10 s. */
  timeoutMs?: number;
}

/** The largest answer form the page takes. */
const MAX_FORM = 64 * 1024;

export interface MailCatcher {
  readonly smtpPort: number;
  readonly httpPort: number;
  readonly messages: readonly CaughtMail[];
  close(): Promise<void>;
}

export async function startMailCatcher(opts: MailCatcherOptions): Promise<MailCatcher> {
  const host = opts.host ?? '127.0.0.1';
  const keep = opts.keep ?? 200;
  const maxSize = opts.maxSize ?? 10 * 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const messages: CaughtMail[] = [];
  let nextId = 1;

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: maxSize,
    banner: 'Desk mail catcher: nothing is delivered',
    logger: false,
    socketTimeout: timeoutMs,
    closeTimeout: timeoutMs,
    onData(stream, _session, done) {
      readMessage(stream, maxSize)
        .then(async (raw) => {
          if (!raw) return done(Object.assign(new Error(`message too large (at most ${maxSize} bytes)`), { responseCode: 552 }));
          messages.unshift(caught(nextId++, await simpleParser(raw, { skipImageLinks: true })));
          if (messages.length > keep) messages.length = keep;
          done();
        })
        .catch(done);
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(opts.smtpPort, host, () => resolve());
  });
  smtp.on('error', () => {}); // a client's broken session is its own problem

  const web = http.createServer({ requestTimeout: timeoutMs, headersTimeout: timeoutMs, connectionsCheckingInterval: Math.min(1000, timeoutMs) }, (req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof TooLarge) return json(res, 413, { error: 'form too large' }, true);
      json(res, 500, { error: 'error' });
    });
  });
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = URL.canParse(req.url ?? '', 'http://catcher') ? new URL(req.url ?? '', 'http://catcher') : undefined;
    if (!url) return json(res, 400, { error: 'not a URL' }, true);
    if (req.method === 'GET' && url.pathname === '/api/messages') return json(res, 200, messages);
    const html = /^\/messages\/(\d+)\/html$/.exec(url.pathname);
    if (req.method === 'GET' && html) {
      const m = messages.find((x) => x.id === Number(html[1]));
      if (!m?.html) return json(res, 404, { error: 'no such message' });
      // The email's own HTML, in a frame that may run nothing and load nothing.
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
        'x-content-type-options': 'nosniff',
      });
      res.end(m.html);
      return;
    }
    const reply = /^\/messages\/(\d+)\/reply$/.exec(url.pathname);
    if (req.method === 'POST' && reply) {
      const m = messages.find((x) => x.id === Number(reply[1]));
      const form = new URLSearchParams(await body(req, MAX_FORM));
      const text = form.get('text')?.trim();
      const relay = opts.replyRelay?.();
      if (!m || !relay || !m.replyTo || !text) return json(res, 400, { error: 'nothing to send' });
      const transport = nodemailer.createTransport(relay);
      await transport.sendMail({
        from: m.to,
        to: m.replyTo,
        subject: /^re:/i.test(m.subject) ? m.subject : `Re: ${m.subject}`,
        ...(m.messageId ? { inReplyTo: m.messageId, references: [...m.references, m.messageId] } : {}),
        text,
      });
      transport.close();
      res.writeHead(303, { location: `/#m${m.id}` });
      res.end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; form-action 'self'",
        'cache-control': 'no-store',
      });
      res.end(page(messages, opts.replyRelay !== undefined));
      return;
    }
    json(res, 404, { error: 'not found' });
  };
  await new Promise<void>((resolve, reject) => {
    web.once('error', reject);
    web.listen(opts.httpPort, host, () => resolve());
  });

  return {
    smtpPort: (smtp.server.address() as AddressInfo).port,
    httpPort: (web.address() as AddressInfo).port,
    messages,
    async close() {
      await new Promise<void>((r) => smtp.close(() => r()));
      web.closeAllConnections();
      await new Promise<void>((r) => web.close(() => r()));
    },
  };
}

function caught(id: number, mail: ParsedMail): CaughtMail {
  const refs = mail.references;
  return {
    id,
    receivedAt: Date.now(),
    from: addresses(mail.from),
    to: addresses(mail.to),
    replyTo: mail.replyTo?.value[0]?.address,
    subject: mail.subject ?? '(no subject)',
    messageId: mail.messageId,
    references: refs === undefined ? [] : Array.isArray(refs) ? refs : [refs],
    text: mail.text ?? '',
    html: typeof mail.html === 'string' ? mail.html : undefined,
  };
}

function addresses(a: AddressObject | AddressObject[] | undefined): string {
  if (!a) return '';
  return (Array.isArray(a) ? a : [a]).map((x) => x.text).join(', ');
}

/** `close`: the request was refused before its body was read, so the connection goes with the answer. */
function json(res: http.ServerResponse, status: number, value: unknown, close = false): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(close ? { connection: 'close' } : {}) });
  res.end(JSON.stringify(value));
}

class TooLarge extends Error {}

async function body(req: http.IncomingMessage, limit: number): Promise<string> {
  if (Number(req.headers['content-length']) > limit) throw new TooLarge();
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > limit) throw new TooLarge();
  }
  return text;
}

function page(messages: readonly CaughtMail[], canReply: boolean): string {
  const items = messages
    .map((m) => {
      const frame = m.html ? `<details><summary>HTML part</summary><iframe title="HTML part of ${escapeHtml(m.subject)}" sandbox src="/messages/${m.id}/html"></iframe></details>` : '';
      const answer =
        canReply && m.replyTo
          ? `<form method="post" action="/messages/${m.id}/reply"><label for="r${m.id}">Answer as ${escapeHtml(m.to)}</label>` +
            `<textarea id="r${m.id}" name="text" rows="3" required></textarea><button type="submit">Send the answer</button></form>`
          : '';
      return (
        `<article id="m${m.id}"><h2>${escapeHtml(m.subject)}</h2>` +
        `<p class="meta">From ${escapeHtml(m.from)} to ${escapeHtml(m.to)} · ${new Date(m.receivedAt).toISOString().slice(0, 19).replace('T', ' ')} UTC</p>` +
        `<pre>${escapeHtml(m.text)}</pre>${frame}${answer}</article>`
      );
    })
    .join('');
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Mail catcher</title><style>` +
    'body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f3f4f6;color:#111827}main{max-width:760px;margin:0 auto;padding:24px}' +
    'h1{font-size:22px}article{background:#fff;border-radius:8px;padding:16px 20px;margin:16px 0}h2{font-size:17px;margin:0 0 4px}' +
    '.meta{color:#4b5563;font-size:13px;margin:0 0 8px}pre{white-space:pre-wrap;font:inherit;background:#f9fafb;padding:12px;border-radius:6px}' +
    'iframe{width:100%;height:420px;border:1px solid #e5e7eb;border-radius:6px}textarea{display:block;width:100%;box-sizing:border-box;font:inherit;margin:4px 0}' +
    'button{font:inherit;background:#4f46e5;color:#fff;border:0;border-radius:6px;padding:8px 14px}label{font-size:13px;color:#374151}' +
    `</style></head><body><main><h1>Mail catcher</h1><p>What Desk sent, newest first (${messages.length}). Nothing leaves this machine. Reload to see new mail.</p>` +
    (items || '<p>No mail yet.</p>') +
    '</main></body></html>'
  );
}

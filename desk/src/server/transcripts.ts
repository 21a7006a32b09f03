/**
 * Transcripts go only to an address its visitor confirmed (desk/EMAIL.md, Transcripts). The first
 * request for an unconfirmed address emails a confirmation link instead; opening the link and
 * pressing its button confirms the address and sends the transcript asked for. Every email either
 * way counts against the visitor's and the address's windows (send-limits.ts).
 *
 *   GET  /email/confirm?v&c&e&x&s → a page with a button (mail scanners that fetch links do not press it)
 *   POST /email/confirm?v&c&e&x&s → the address confirmed, the transcript sent, a page that says so
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { confirmationValid, readConfirmation } from '../email/confirm.js';
import type { Conversation } from '../store/types.js';
import type { DeskContext } from './desk-context.js';
import { DeskError } from './errors.js';

export interface TranscriptResult {
  to: string;
  /** True when what was emailed is a confirmation link: the transcript follows once it is confirmed. */
  confirmation: boolean;
}

/** Emails the conversation's transcript (no notes) to its visitor's confirmed address, or a confirmation link to an unconfirmed one. */
export async function requestTranscript(desk: DeskContext, conv: Conversation): Promise<TranscriptResult> {
  if (!desk.mailer) throw new DeskError('bad_event', 'email is not configured on this desk');
  const visitor = await desk.store.getVisitor(conv.visitorId);
  if (!visitor?.email) throw new DeskError('bad_event', 'the visitor has left no email address');
  const wait = desk.sendLimits.take(visitor.email, visitor.id, Date.now());
  if (wait) throw new DeskError('rate_limited', `too many emails to this address; try again in ${Math.ceil(wait / 60_000)} min`, undefined, wait / 1000);
  if (visitor.emailVerified) {
    await desk.mailer.sendTranscript(conv, visitor.email);
    return { to: visitor.email, confirmation: false };
  }
  await desk.mailer.sendConfirmation(conv, visitor);
  return { to: visitor.email, confirmation: true };
}

/** Answers /email/confirm; false for any other path. */
export async function handleEmailConfirm(desk: DeskContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (url.pathname !== '/email/confirm') return false;
  const claims = readConfirmation(url.searchParams);
  const conv = claims && (await desk.store.getConversation(claims.conversation));
  const workspace = conv && (await desk.workspace(conv.workspaceId));
  const visitor = conv && conv.visitorId === claims.visitor ? await desk.store.getVisitor(claims.visitor) : undefined;
  if (!claims || !conv || !workspace || !visitor || !confirmationValid(workspace.webhookSecret, claims, Date.now())) {
    page(res, 400, 'This link is not valid', 'It may have expired. Ask for the transcript again from the chat.');
    return true;
  }
  if (visitor.email !== claims.email) {
    page(res, 409, 'This address was changed', 'The chat has another address now. Ask for the transcript again from the chat.');
    return true;
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    page(res, 200, `Confirm ${claims.email}`, `Press the button to confirm that ${claims.email} is yours; the transcript of your chat with ${workspace.name} follows by email.`, true);
    return true;
  }
  if (req.method !== 'POST') {
    page(res, 405, 'Not allowed', 'Open the link from the email.');
    return true;
  }
  if (!visitor.emailVerified) {
    await desk.store.updateVisitor(visitor.id, { emailVerified: true });
    await desk.mailer?.sendTranscript(conv, claims.email);
  }
  page(res, 200, 'Address confirmed', `Thank you. The transcript of your chat with ${workspace.name} is on its way to ${claims.email}.`);
  return true;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small self-contained page; nothing on it runs, so its policy allows nothing but the form. */
function page(res: ServerResponse, status: number, title: string, text: string, button = false): void {
  const form = button ? '<form method="post"><button type="submit">Confirm my address</button></form>' : '';
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>${form}</body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  });
  res.end(html);
}

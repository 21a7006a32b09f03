/**
 * Outbound email: the sweep that emails what one side has not seen, and transcripts.
 *
 * Every `sweepMs` each node asks the store for conversations with messages unread past a delay
 * (`emailsDue`): operator replies the visitor has not read for `visitorDelayMs` (when the visitor
 * left an address), visitor messages the operators have not read for `operatorDelayMs`. For each
 * it claims the email (`claimEmail`, a conditional update one node wins), and only the winner
 * sends: several nodes on one database send each email once. A send that fails after the claim
 * is logged and not retried (at most once; the messages are still in the inbox and the widget).
 *
 * The visitor's emails form one thread: From and Reply-To are the conversation's reply address,
 * the first sets the subject (kept on the conversation) and every one gets a new Message-ID,
 * In-Reply-To the thread's last Message-ID and References the thread (email_thread, which also
 * records the visitor's inbound emails). Operators get a notification each from their own signed
 * reply address (addresses.ts), so answering it by email writes as them (inbound.ts).
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Conversation, DueEmail, EmailSide, Message, Visitor, Workspace } from '../store/types.js';
import type { DeskContext, DeskMailer } from '../server/desk-context.js';
import { newMessageId, operatorSignature, referencesFor, replyAddress } from './addresses.js';
import { CONFIRM_TTL_MS, confirmationLink } from './confirm.js';
import { transcriptText } from './transcript.js';
import { emailFiles, emailText } from './files.js';
import { emailHtml, type EmailBlock } from './html.js';

export interface OutboundOptions {
  /** `smtp://host:port` (or smtps://, with user:pass@ when the relay wants it). */
  smtpUrl: string;
  /** The base of confirmation links. */
  publicUrl: string;
  visitorDelayMs: number;
  operatorDelayMs: number;
  sweepMs: number;
}

export class EmailOutbound implements DeskMailer {
  private readonly transport: Transporter;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly desk: DeskContext,
    private readonly opts: OutboundOptions,
  ) {
    this.transport = nodemailer.createTransport(opts.smtpUrl);
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.opts.sweepMs);
    this.timer.unref();
  }

  /** One pass over both sides; a pass still running is joined, not doubled. */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        await this.sweepSide('visitor', this.opts.visitorDelayMs);
        await this.sweepSide('operator', this.opts.operatorDelayMs);
      } catch (err) {
        this.desk.log.warn({ err }, 'desk email: sweep failed');
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
    this.transport.close();
  }

  private async sweepSide(side: EmailSide, delayMs: number): Promise<void> {
    const due = await this.desk.store.emailsDue(side, Date.now() - delayMs);
    for (const d of due) {
      try {
        await this.sendDue(side, d);
      } catch (err) {
        this.desk.log.warn({ err, conversation: d.conversation.id, side }, 'desk email: send failed');
      }
    }
  }

  private async sendDue(side: EmailSide, { conversation: conv, emailedSeq }: DueEmail): Promise<void> {
    const { store } = this.desk;
    const read = side === 'visitor' ? conv.visitorReadSeq : conv.operatorReadSeq;
    const unseen = (await store.messagesAfter(conv.id, Math.max(read, emailedSeq))).filter((m) => (side === 'visitor' ? m.author.kind === 'operator' && !m.note : m.author.kind === 'visitor'));
    const last = unseen[unseen.length - 1];
    if (!last) return;
    if (!(await store.claimEmail(conv.id, side, last.seq))) return; // another node sends it
    const workspace = await this.desk.workspace(conv.workspaceId);
    if (!workspace) return;
    if (side === 'visitor') await this.emailVisitor(workspace, conv, unseen);
    else await this.emailOperators(workspace, conv, unseen);
  }

  /** Operator replies to the visitor, in the conversation's thread. */
  private async emailVisitor(workspace: Workspace, conv: Conversation, messages: Message[]): Promise<void> {
    const visitor = await this.desk.store.getVisitor(conv.visitorId);
    if (!visitor?.email) return;
    const footer = `Reply to this email to answer ${workspace.name}.`;
    const body = `${messages.map((m) => `${m.author.name} wrote:\n\n${emailText(m, this.opts.publicUrl)}`).join('\n\n')}\n\n--\n${footer}\n`;
    await this.sendInThread(workspace, conv, visitor.email, body, emailHtml({ title: workspace.name, blocks: blocksOf(messages, this.opts.publicUrl), footer }));
  }

  private async sendInThread(workspace: Workspace, conv: Conversation, to: string, text: string, html: string): Promise<void> {
    const { store } = this.desk;
    let subject = conv.emailSubject;
    if (subject === undefined) {
      subject = `Your conversation with ${workspace.name}`;
      await store.updateConversation(conv.id, { emailSubject: subject });
    }
    const thread = await store.emailThread(conv.id);
    const messageId = newMessageId(workspace.emailDomain);
    const address = replyAddress(conv.replyToken, workspace.emailDomain);
    // Recorded before sending, so a reply racing our own bookkeeping still routes.
    await store.addThreadEmail(conv.id, messageId);
    await this.transport.sendMail({
      from: { name: workspace.name, address },
      replyTo: address,
      to,
      subject: thread.length ? `Re: ${subject}` : subject,
      messageId,
      ...(thread.length ? { inReplyTo: thread[thread.length - 1], references: referencesFor(thread) } : {}),
      text,
      html,
    });
  }

  /**
   * Visitor messages to the assignee, or to every operator of the workspace when nobody has it:
   * one email each, from the operator's own signed reply address, so answering it writes as them.
   */
  private async emailOperators(workspace: Workspace, conv: Conversation, messages: Message[]): Promise<void> {
    const { store } = this.desk;
    const assignee = conv.assigneeId ? await store.getOperator(conv.assigneeId) : undefined;
    const operators = assignee ? [assignee] : await store.listOperators(conv.workspaceId);
    const visitor = await store.getVisitor(conv.visitorId);
    const who = visitor?.name ?? visitor?.email ?? 'A visitor';
    const footer = 'Reply to this email to answer as yourself, or open the inbox.';
    const text = `${messages.map((m) => `${m.author.name} wrote:\n\n${emailText(m, this.opts.publicUrl)}`).join('\n\n')}\n\n--\n${footer}\n`;
    const html = emailHtml({ title: `${who} is waiting for an answer`, blocks: blocksOf(messages, this.opts.publicUrl), footer });
    for (const operator of operators) {
      const address = replyAddress(conv.replyToken, workspace.emailDomain, operatorSignature(workspace.webhookSecret, conv.id, operator.id));
      await this.transport.sendMail({
        from: { name: `${workspace.name} Desk`, address },
        replyTo: address,
        to: operator.email,
        subject: `${who} is waiting for an answer (${conv.id})`,
        messageId: newMessageId(workspace.emailDomain),
        headers: { 'Auto-Submitted': 'auto-generated' },
        text,
        html,
      });
    }
  }

  /** A link that confirms the visitor's address (confirm.ts); not in the thread, and marked automatic (RFC 3834). */
  async sendConfirmation(conv: Conversation, visitor: Visitor): Promise<void> {
    const workspace = await this.desk.workspace(conv.workspaceId);
    if (!workspace || !visitor.email) return;
    const link = confirmationLink(this.opts.publicUrl, workspace.webhookSecret, {
      visitor: visitor.id,
      conversation: conv.id,
      email: visitor.email,
      expires: Date.now() + CONFIRM_TTL_MS,
    });
    await this.transport.sendMail({
      from: { name: workspace.name, address: `noreply@${workspace.emailDomain}` },
      to: visitor.email,
      subject: `Confirm your email address for ${workspace.name}`,
      messageId: newMessageId(workspace.emailDomain),
      headers: { 'Auto-Submitted': 'auto-generated' },
      text:
        `Someone asked ${workspace.name} to email a chat transcript to this address.\n\n` +
        `If it was you, open this link within a day to confirm the address; the transcript follows:\n\n${link}\n\n` +
        `If it was not you, ignore this email: nothing more will be sent.\n`,
      html: emailHtml({
        title: workspace.name,
        intro: `Someone asked ${workspace.name} to email a chat transcript to this address. If it was you, confirm the address within a day; the transcript follows.`,
        blocks: [],
        action: { href: link, label: 'Confirm my address' },
        footer: 'If it was not you, ignore this email: nothing more will be sent.',
      }),
    });
  }

  async sendTranscript(conv: Conversation, to: string): Promise<void> {
    const workspace = await this.desk.workspace(conv.workspaceId);
    if (!workspace) return;
    const messages: Message[] = [];
    for (let after = 0; ; ) {
      const page = await this.desk.store.messagesAfter(conv.id, after);
      messages.push(...page);
      if (page.length < 500) break;
      after = page[page.length - 1]!.seq;
    }
    const html = emailHtml({
      title: `Your conversation with ${workspace.name}`,
      blocks: blocksOf(
        messages.filter((m) => !m.note),
        this.opts.publicUrl,
      ),
      footer: `Reply to this email to write to ${workspace.name} again.`,
    });
    await this.sendInThread(workspace, conv, to, transcriptText(workspace.name, messages, this.opts.publicUrl), html);
  }
}

/** Messages as the HTML part shows them (never a note: callers pass what the reader may see). */
function blocksOf(messages: Message[], publicUrl: string): EmailBlock[] {
  return messages.map((m) => ({ author: m.author.name, body: m.body, at: m.createdAt, files: emailFiles(m, publicUrl) }));
}

/**
 * Email on a Desk node: outbound (the sweep and transcripts, outbound.ts) when `smtpUrl` is
 * given, the inbound SMTP listener (inbound.ts) when `inbound` is. Defaults here, in one place.
 */
import type { DeskContext } from '../server/desk-context.js';
import { startInbound, type EmailInbound } from './inbound.js';
import { EmailOutbound } from './outbound.js';

export interface EmailOptions {
  /** Outbound relay, `smtp://host:port`. */
  smtpUrl?: string;
  /** Where visitors reach this Desk (`https://desk.example.com`), for confirmation links; default the node's own address. */
  publicUrl?: string;
  /** Inbound listener for replies (port 0 = any free port). */
  inbound?: { port: number; host?: string };
  /** Operator replies unread by the visitor this long are emailed (default 2 minutes). */
  visitorDelayMs?: number;
  /** Visitor messages unread by the operators this long are emailed (default 5 minutes). */
  operatorDelayMs?: number;
  /** How often each node looks for emails due (default 5 s). */
  sweepMs?: number;
  /** Largest inbound email, bytes (default 10 MiB). */
  maxSize?: number;
  /** Inbound SMTP clients at once (default 20), and from one IP address (default 4). */
  maxClients?: number;
  maxClientsPerIp?: number;
}

export const emailDefaults = { visitorDelayMs: 120_000, operatorDelayMs: 300_000, sweepMs: 5_000, maxSize: 10 * 1024 * 1024, maxClients: 20, maxClientsPerIp: 4 };

export interface DeskEmail {
  /** The inbound listener's port, when there is one. */
  smtpPort: number | undefined;
  outbound: EmailOutbound | undefined;
  close(): Promise<void>;
}

export async function startEmail(desk: DeskContext, opts: EmailOptions): Promise<DeskEmail> {
  // `??`, not a spread: an option given as undefined (a CLI flag left out) keeps its default.
  const o = {
    smtpUrl: opts.smtpUrl,
    inbound: opts.inbound,
    visitorDelayMs: opts.visitorDelayMs ?? emailDefaults.visitorDelayMs,
    operatorDelayMs: opts.operatorDelayMs ?? emailDefaults.operatorDelayMs,
    sweepMs: opts.sweepMs ?? emailDefaults.sweepMs,
    maxSize: opts.maxSize ?? emailDefaults.maxSize,
    maxClients: opts.maxClients ?? emailDefaults.maxClients,
    maxClientsPerIp: opts.maxClientsPerIp ?? emailDefaults.maxClientsPerIp,
  };
  let outbound: EmailOutbound | undefined;
  if (o.smtpUrl) {
    outbound = new EmailOutbound(desk, {
      smtpUrl: o.smtpUrl,
      publicUrl: opts.publicUrl ?? 'http://127.0.0.1',
      visitorDelayMs: o.visitorDelayMs,
      operatorDelayMs: o.operatorDelayMs,
      sweepMs: o.sweepMs,
    });
    desk.mailer = outbound;
    outbound.start();
  }
  const inbound: EmailInbound | undefined = o.inbound ? await startInbound(desk, { ...o.inbound, maxSize: o.maxSize, maxClients: o.maxClients, maxClientsPerIp: o.maxClientsPerIp }) : undefined;
  return {
    smtpPort: inbound?.port,
    outbound,
    async close() {
      await inbound?.close();
      await outbound?.close();
    },
  };
}

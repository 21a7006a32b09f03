/**
 * Sends again what the journal still holds and no live relay is carrying: sends of clients that
 * left before the core acknowledged them, of a core link that dropped, and everything a node
 * that died had accepted (on start, every row is such). For each client, one socket to the core:
 * attach, hello with the client's session or token, the sends in the order they were accepted,
 * then the acks. The core stores each clientId once, so a send that did arrive before is only
 * acknowledged again.
 *
 * A row the core refuses (an error naming it, or a hello refused: the session expired, the
 * workspace gone) is dropped and logged; one the core does not answer stays for the next round.
 */
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import type { CoreLink } from './core-link.js';
import type { Journal, JournalRow } from './journal.js';

export interface ReplayOptions {
  journal: Journal;
  link: CoreLink;
  inFlight: Set<string>;
  log: Logger;
  /** A row is replayed once it is this old (a live relay normally settles it long before). */
  graceMs: number;
  /** How long one client's replay may take before the rest waits for the next round. */
  timeoutMs?: number;
}

/** One round over the journal; resolves with how many rows were settled. */
export async function replayJournal(opts: ReplayOptions): Promise<number> {
  const rows = opts.journal.acceptedBefore(Date.now() - opts.graceMs).filter((r) => !opts.inFlight.has(r.key));
  const byClient = new Map<string, JournalRow[]>();
  for (const row of rows) {
    const id = `${row.attach}\n${row.hello}`;
    const list = byClient.get(id);
    if (list) list.push(row);
    else byClient.set(id, [row]);
  }
  let settled = 0;
  for (const group of byClient.values()) {
    for (const r of group) opts.inFlight.add(r.key);
    try {
      settled += await replayClient(opts, group);
    } catch (err) {
      opts.log.warn({ err: (err as Error).message, rows: group.length }, 'regional: replay failed; will try again');
    } finally {
      for (const r of group) opts.inFlight.delete(r.key);
    }
  }
  return settled;
}

async function replayClient(opts: ReplayOptions, rows: JournalRow[]): Promise<number> {
  const ws = await opts.link.take();
  const keyOf = new Map<string, string>();
  for (const r of rows) {
    const clientId = (JSON.parse(r.frame) as { clientId: string }).clientId;
    keyOf.set(clientId, r.key);
  }
  let settled = 0;
  return new Promise<number>((resolve, reject) => {
    const finish = (err?: Error) => {
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.close(1000);
      if (err) reject(err);
      else resolve(settled);
    };
    const timer = setTimeout(() => finish(new Error('the core did not answer in time')), opts.timeoutMs ?? 15_000);
    const done = (clientId: string, refused?: string) => {
      const key = keyOf.get(clientId);
      if (!key) return;
      keyOf.delete(clientId);
      opts.journal.done(key);
      settled++;
      if (refused) opts.log.warn({ key, code: refused }, 'regional: the core refused a journaled send; dropped');
      if (keyOf.size === 0) finish();
    };
    ws.on('message', (data: WebSocket.RawData) => {
      const ev = JSON.parse(data.toString()) as { type?: string; clientId?: string; ref?: string; code?: string };
      if (ev.type === 'visitor.welcome' || ev.type === 'operator.welcome') {
        for (const r of rows) ws.send(r.frame);
      } else if (ev.type === 'message.ack' && ev.clientId) done(ev.clientId);
      else if (ev.type === 'error' && ev.ref) done(ev.ref, ev.code);
      else if (ev.type === 'error' && (ev.code === 'unauthorized' || ev.code === 'forbidden')) {
        // The hello was refused (the session or token is no more, the site no longer allowed):
        // nobody can send these now.
        for (const clientId of [...keyOf.keys()]) done(clientId, ev.code);
      }
    });
    ws.once('close', () => finish(keyOf.size ? new Error('the core closed the socket') : undefined));
    ws.send(rows[0]!.attach);
    ws.send(rows[0]!.hello);
  });
}

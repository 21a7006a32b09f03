/**
 * The outbox (desk/PROTOCOL.md): every send carries a random clientId and stays in localStorage
 * until its message.ack, and the whole outbox is sent again after every welcome (the server stores
 * a clientId once), so nothing typed is lost to a drop, a reload or an offline phone. An item
 * keeps its files (already uploaded: PROTOCOL.md, Attachments), so every resend names them.
 */
import type { AttachmentView } from '../../src/protocol.js';
import type { Widget } from './context.js';
import { MAX_BODY } from './messages.js';
import type { OutboxItem } from './state.js';

/** Queues what the visitor wrote (and the files they uploaded for it) and sends it now if the link is up. */
export function queueMessage(w: Widget, body: string, attachments: AttachmentView[] = []): void {
  const item: OutboxItem = { clientId: `k_${randomId()}`, body: body.slice(0, MAX_BODY), createdAt: Date.now() };
  if (attachments.length) item.attachments = attachments;
  w.state.outbox.push(item);
  saveOutbox(w);
  w.render(true);
  sendItem(w, item);
}

/** Sends every item not refused, oldest first, while the link takes them. */
export function flushOutbox(w: Widget): void {
  for (const item of w.state.outbox) {
    if (item.failed) continue;
    if (!sendItem(w, item)) return;
  }
}

function sendItem(w: Widget, item: OutboxItem): boolean {
  const files = item.attachments?.map((a) => a.id);
  return w.send({ type: 'message.send', clientId: item.clientId, body: item.body, ...(files ? { attachments: files } : {}) });
}

export function findInOutbox(w: Widget, clientId: string): OutboxItem | undefined {
  return w.state.outbox.find((o) => o.clientId === clientId);
}

export function removeFromOutbox(w: Widget, clientId: string): void {
  const before = w.state.outbox.length;
  w.state.outbox = w.state.outbox.filter((o) => o.clientId !== clientId);
  if (w.state.outbox.length !== before) saveOutbox(w);
}

/** Retry on a message "Not delivered": it goes back in line. */
export function retry(w: Widget, clientId: string): void {
  const item = findInOutbox(w, clientId);
  if (!item) return;
  item.failed = false;
  saveOutbox(w);
  w.render();
  flushOutbox(w);
}

export function saveOutbox(w: Widget): void {
  w.storage.setJSON('outbox', w.state.outbox.length ? w.state.outbox : undefined);
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Outgoing webhooks: each `message.new` and `conversation.update` a node originates is POSTed as
 * JSON to every configured URL, signed with the workspace's secret:
 * `X-Desk-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. Fire and forget with a timeout;
 * each delivery carries an id (`X-Desk-Delivery`, also in the body) so a receiver can drop
 * repeats. Only the node where the event happened sends it, so a cluster sends each event once.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';

export interface WebhookEvent {
  id: string;
  type: string;
  workspace: string;
  createdAt: number;
  data: unknown;
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookSender {
  send(workspace: { id: string; webhookSecret: string }, type: string, data: unknown): void;
  /** Deliveries under way (tests wait for zero; close() does not wait for them). */
  readonly inFlight: number;
}

/** At most this many deliveries at once per node; beyond it an event is dropped and logged. */
const MAX_IN_FLIGHT = 200;

export function webhookSender(urls: string[], log: Logger, timeoutMs = 5000): WebhookSender {
  let inFlight = 0;
  return {
    get inFlight() {
      return inFlight;
    },
    send(workspace, type, data) {
      if (urls.length === 0) return;
      const event: WebhookEvent = { id: `evt_${randomUUID()}`, type, workspace: workspace.id, createdAt: Date.now(), data };
      const body = JSON.stringify(event);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Outpost-Desk-Webhook/1',
        'x-desk-event': type,
        'x-desk-delivery': event.id,
        'x-desk-signature': signature(workspace.webhookSecret, body),
      };
      for (const url of urls) {
        if (inFlight >= MAX_IN_FLIGHT) {
          log.warn({ url, type }, 'desk webhook dropped: too many deliveries under way');
          continue;
        }
        inFlight++;
        fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' })
          .then(async (res) => {
            await res.body?.cancel();
            if (!res.ok) log.warn({ url, type, status: res.status }, 'desk webhook refused');
          })
          .catch((err: Error) => log.warn({ url, type, err: err.message }, 'desk webhook failed'))
          .finally(() => inFlight--);
      }
    },
  };
}

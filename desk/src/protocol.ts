/**
 * desk/PROTOCOL.md as types, shared by the server and the front end (desk/web): what a client
 * sends (`ClientEvent`, validated by server/client-events.ts) and what the server sends
 * (`ServerEvent`). Types only: the front end's bundle takes nothing from here at run time.
 */
import type { ClientEvent, ClientEventOf, ClientEventType } from './server/client-events.js';
import type { AttachmentView, MessageView, OperatorConversationView, VisitorConversationView } from './server/views.js';
import type { AttachmentPolicy } from './attachments/policy.js';
import type { Author } from './store/types.js';

export type { AttachmentPolicy, AttachmentView, Author, ClientEvent, ClientEventOf, ClientEventType, MessageView, OperatorConversationView, VisitorConversationView };

/** A client event as a client writes it (the server fills nothing in). */
export type Outgoing = ClientEvent;

export interface PublicOperator {
  name: string;
  status: string;
}

export interface PresenceOperator extends PublicOperator {
  id: string;
}

export interface Availability {
  available: boolean;
  operators: PublicOperator[];
}

export interface EarlierConversation {
  conversation: VisitorConversationView;
  messages: MessageView[];
}

export type ErrorCode = 'bad_event' | 'too_large' | 'unknown_conversation' | 'forbidden' | 'unauthorized' | 'rate_limited';

export type ServerEvent =
  | {
      type: 'visitor.welcome';
      session: string;
      workspace: { id: string; name: string };
      conversation: VisitorConversationView;
      messages: MessageView[];
      earlier: EarlierConversation[];
      /** Whether this Desk sends email (absent from a regional node's own welcome). */
      email?: boolean;
      /** What files may be attached (null: none; absent from a regional node's own welcome). */
      attachments?: AttachmentPolicy | null;
      availability: Availability;
    }
  | {
      type: 'operator.welcome';
      operator: { id: string; name: string; email: string };
      conversations: OperatorConversationView[];
      presence: PresenceOperator[];
      attachments: AttachmentPolicy | null;
    }
  | { type: 'message.ack'; clientId: string; id: string; seq: number; conversation: string }
  | { type: 'message.accepted'; clientId: string }
  | { type: 'message.new'; message: MessageView }
  | { type: 'typing'; conversation: string; author: Author; state: 'start' | 'stop' }
  | { type: 'read'; conversation: string; by: 'visitor' | 'operator'; upToSeq: number }
  | { type: 'sync'; conversation: string; messages: MessageView[] }
  /** Operators get the whole view, visitors the reduced one. */
  | { type: 'conversation.update'; conversation: OperatorConversationView | VisitorConversationView }
  /** Operators get ids too. */
  | { type: 'presence'; operators: (PublicOperator | PresenceOperator)[]; available: boolean }
  | { type: 'visitor.identified'; email: string; name: string | null }
  | { type: 'transcript.sent'; conversation: string; to: string; confirmation: boolean }
  | { type: 'pong'; t?: unknown }
  | { type: 'error'; code: ErrorCode; message: string; ref?: string };

export type ServerEventType = ServerEvent['type'];
export type ServerEventOf<K extends ServerEventType> = Extract<ServerEvent, { type: K }>;

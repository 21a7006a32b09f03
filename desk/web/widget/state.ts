/**
 * The widget's state: one plain object the event handlers change and render.ts shows
 * (initial-state.ts makes it from what the last page left in storage).
 */
import type { AttachmentPolicy, AttachmentView, Author, Availability, ClientEventOf, EarlierConversation, ErrorCode, MessageView, VisitorConversationView } from '../../src/protocol.js';
import type { LinkState } from '../shared/connection.js';

/** A message as the thread keeps it (and caches it): no note flag, the author without its id. */
export interface ThreadMessage extends Pick<MessageView, 'id' | 'seq' | 'clientId' | 'body' | 'createdAt'> {
  via?: MessageView['via'];
  author: Pick<Author, 'kind' | 'name'>;
  /** Its files; absent when none (most messages: the cache stays small). */
  attachments?: AttachmentView[];
}

/** A send not yet acknowledged, kept in localStorage until its `message.ack` (PROTOCOL.md). */
export interface OutboxItem {
  clientId: string;
  body: string;
  /** Files uploaded for it (whole, so a pending message shows them; the send names their ids). */
  attachments?: AttachmentView[];
  createdAt: number;
  /** A regional node has it on disk (`message.accepted`): "Sent", still kept until the ack. */
  accepted?: boolean;
  /** Refused (the error's code): shown "Not delivered" with Retry, not re-sent by itself. */
  failed?: ErrorCode | boolean;
}

/** What the page shows of the link: `conn` once its grace is over (link-grace.ts); 'starting' before anything happened. */
export type ShownLink = LinkState | 'starting';

export interface WidgetState {
  open: boolean;
  session: string | undefined;
  conversation: VisitorConversationView | null;
  /** The open conversation's messages, by seq. */
  messages: ThreadMessage[];
  /** The conversations before this one (welcome), oldest first, each with messages. */
  earlier: EarlierConversation[];
  /** This Desk sends email (welcome): only then is email offered. */
  emailOn: boolean;
  /** What may be attached (welcome), null when this Desk takes no files: then no paperclip. */
  attachments: AttachmentPolicy | null;
  /** The visitor asked to leave an address while someone is online. */
  emailAsked: boolean;
  /** Oldest first. */
  outbox: OutboxItem[];
  /** The last seq of `conversation` the thread has. */
  lastSeq: number;
  /** The last read mark sent for `conversation`. */
  readSent: number;
  availability: Availability;
  title: string;
  email: string | undefined;
  /** The visitor.identify of Desk.identify, sent again after every welcome. */
  identity: ClientEventOf<'visitor.identify'> | null;
  /** An operator writing, shown until `until`. */
  typing: { name: string; until: number } | null;
  conn: LinkState;
  shownConn: ShownLink;
  /** Welcomed at least once on this page. */
  connected: boolean;
}

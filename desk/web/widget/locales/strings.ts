/**
 * Every text a visitor reads or hears (labels for screen readers too) in the widget, by key. Each
 * locale (en.ts, fr.ts, de.ts) is a `Strings`: a key missing or misspelt there does not compile.
 * Texts with a value in them are functions, so each language places it and makes its plurals.
 */
export interface Strings {
  /** The header's title until the server names the workspace (data-title overrides). */
  title: string;
  /** The first line the visitor reads, while someone is online (data-greeting overrides). */
  greeting: string;
  /** …while nobody is, on a Desk that sends email (data-away-greeting overrides). */
  awayGreeting: string;
  /** …while nobody is, on a Desk that sends no email. */
  awayNoEmail: string;

  /** The launcher's label, closed: with the number of unread answers when there are some. */
  openChat: (unread: number) => string;
  /** The launcher's label when open, and the header's close button. */
  closeChat: string;
  /** The live region around the thread. */
  messages: string;

  /** Header status: someone is at the desk. */
  online: string;
  /** Header status: nobody is, and answers go by email. */
  replyByEmail: string;
  /** Header status: nobody is, and this Desk sends no email. */
  away: string;
  /** Header status while the network is gone. */
  offline: string;
  /** Header status and strip before the first welcome. */
  connecting: string;
  /** The strip under the header after a drop. */
  reconnecting: string;
  /** The strip while the network is gone. */
  offlineStrip: string;

  /** Day lines in the thread (older days are the browser's date). */
  today: string;
  yesterday: string;
  /** The author shown over an operator's answer that has no name. */
  team: string;
  /** The line under a resolved conversation. */
  resolved: string;
  /** The line under an earlier conversation still open. */
  earlier: string;
  /** The rating row under a resolved conversation, its 👍 and 👎 buttons, and once rated. */
  rateQuestion: string;
  rateGood: string;
  rateBad: string;
  rated: string;

  /** Receipts under the visitor's own messages. */
  read: string;
  sent: string;
  sending: string;
  waitingForConnection: string;
  notDelivered: string;
  retry: string;

  /** Over the thread while an operator writes; `someone` when they have no name. */
  typing: (name: string) => string;
  someone: string;

  /** The composer: placeholder, the textarea's label, the send button's label. */
  placeholder: string;
  messageLabel: string;
  send: string;
  /** The emoji button's label, and its grid's. */
  emoji: string;
  emojiGrid: string;

  /** Files: the paperclip's label, a file's × in the tray, a file on its way up. */
  attach: string;
  removeFile: (name: string) => string;
  uploading: string;
  /** Why a file was not attached: its type, its size (with the limit, as "10.0 MB"), too many uploads at once, an upload that failed, more than a message carries. */
  fileType: (name: string) => string;
  fileSize: (name: string, max: string) => string;
  fileRate: string;
  fileFailed: (name: string) => string;
  tooManyFiles: string;

  /** The email form's label while nobody is online, and while someone is. */
  emailAway: string;
  emailOnline: string;
  emailPlaceholder: string;
  save: string;
  /** Once the address is given, with its two buttons. */
  emailDone: (email: string) => string;
  change: string;
  emailTranscript: string;
  /** The answer to the transcript button: a confirmation link went out, or the transcript itself. */
  transcriptConfirm: (to: string) => string;
  transcriptSent: (to: string) => string;
  /** The offer below the composer while someone is online. */
  emailAsk: string;
  /** Before the brand's name, at the bottom. */
  poweredBy: string;
}

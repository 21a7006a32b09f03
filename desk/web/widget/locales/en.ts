/** The widget in English: the default, and the texts the browser tests read. */
import type { Strings } from './strings.js';

export const en: Strings = {
  title: 'Support',
  greeting: 'Hi there! Ask us anything, we usually answer within a few minutes.',
  awayGreeting: "Hi there! We're not around right now, but leave us a message and we'll get back to you by email.",
  awayNoEmail: "Hi there! We're not around right now. Leave us a message and we'll answer here when we're back.",

  openChat: (unread) => (unread ? `Open chat, ${unread} unread message${unread === 1 ? '' : 's'}` : 'Open chat'),
  closeChat: 'Close chat',
  messages: 'Messages',

  online: "We're online",
  replyByEmail: "We'll reply by email",
  away: "We're away",
  offline: "You're offline",
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  offlineStrip: "You're offline. Messages will be sent when you're back.",

  today: 'Today',
  yesterday: 'Yesterday',
  team: 'Support',
  resolved: 'Conversation resolved',
  earlier: 'Earlier conversation',
  rateQuestion: 'How did we do?',
  rateGood: 'Good',
  rateBad: 'Bad',
  rated: 'Thanks for your rating.',

  read: 'Read',
  sent: 'Sent',
  sending: 'Sending…',
  waitingForConnection: 'Waiting for connection…',
  notDelivered: 'Not delivered',
  retry: 'Retry',

  typing: (name) => `${name} is typing…`,
  someone: 'Someone',

  placeholder: 'Write a message…',
  messageLabel: 'Message',
  send: 'Send message',
  emoji: 'Insert an emoji',
  emojiGrid: 'Emoji',

  attach: 'Attach a file',
  removeFile: (name) => `Remove ${name}`,
  uploading: 'Uploading…',
  fileType: (name) => `${name} can't be attached: files of this type aren't accepted.`,
  fileSize: (name, max) => `${name} is too large to attach (${max} at most).`,
  fileRate: 'Too many files at once. Wait a few seconds, then try again.',
  fileFailed: (name) => `${name} couldn't be uploaded. Check your connection and try again.`,
  tooManyFiles: 'A message can carry up to 10 files.',

  emailAway: "We're away right now. Leave your email and we'll reply there.",
  emailOnline: "Leave your email and we'll send the replies there too.",
  emailPlaceholder: 'you@example.com',
  save: 'Save',
  emailDone: (email) => `We'll email you at ${email}`,
  change: 'Change',
  emailTranscript: 'Email me this chat',
  transcriptConfirm: (to) => `We emailed a link to ${to}: open it to confirm the address, and this chat follows`,
  transcriptSent: (to) => `We emailed this chat to ${to}`,
  emailAsk: 'Get the replies by email',
  poweredBy: 'Powered by',
};

/** The widget in German (Sie, as a shop speaks to its customers). */
import type { Strings } from './strings.js';

export const de: Strings = {
  title: 'Kundenservice',
  greeting: 'Hallo! Fragen Sie uns gern alles – wir antworten meist innerhalb weniger Minuten.',
  awayGreeting: 'Hallo! Gerade ist niemand von uns da. Hinterlassen Sie uns eine Nachricht, wir melden uns per E-Mail bei Ihnen.',
  awayNoEmail: 'Hallo! Gerade ist niemand von uns da. Hinterlassen Sie uns eine Nachricht, wir antworten hier, sobald wir zurück sind.',

  openChat: (unread) => (unread ? `Chat öffnen, ${unread} ungelesene Nachricht${unread === 1 ? '' : 'en'}` : 'Chat öffnen'),
  closeChat: 'Chat schließen',
  messages: 'Nachrichten',

  online: 'Wir sind online',
  replyByEmail: 'Wir antworten per E-Mail',
  away: 'Wir sind gerade nicht da',
  offline: 'Sie sind offline',
  connecting: 'Verbindung wird hergestellt…',
  reconnecting: 'Verbindung wird wiederhergestellt…',
  offlineStrip: 'Sie sind offline. Ihre Nachrichten werden gesendet, sobald Sie wieder online sind.',

  today: 'Heute',
  yesterday: 'Gestern',
  team: 'Kundenservice',
  resolved: 'Unterhaltung abgeschlossen',
  earlier: 'Frühere Unterhaltung',
  rateQuestion: 'Wie zufrieden waren Sie?',
  rateGood: 'Zufrieden',
  rateBad: 'Unzufrieden',
  rated: 'Danke für Ihre Bewertung.',

  read: 'Gelesen',
  sent: 'Gesendet',
  sending: 'Wird gesendet…',
  waitingForConnection: 'Warte auf Verbindung…',
  notDelivered: 'Nicht zugestellt',
  retry: 'Erneut senden',

  typing: (name) => `${name} schreibt…`,
  someone: 'Jemand',

  placeholder: 'Nachricht schreiben…',
  messageLabel: 'Nachricht',
  send: 'Nachricht senden',
  emoji: 'Emoji einfügen',
  emojiGrid: 'Emojis',

  attach: 'Datei anhängen',
  removeFile: (name) => `${name} entfernen`,
  uploading: 'Wird hochgeladen…',
  fileType: (name) => `${name} kann nicht angehängt werden: Dateien dieses Typs werden nicht angenommen.`,
  fileSize: (name, max) => `${name} ist zu groß zum Anhängen (höchstens ${max}).`,
  fileRate: 'Zu viele Dateien auf einmal. Bitte warten Sie ein paar Sekunden und versuchen Sie es dann erneut.',
  fileFailed: (name) => `${name} konnte nicht hochgeladen werden. Bitte prüfen Sie Ihre Verbindung und versuchen Sie es erneut.`,
  tooManyFiles: 'Eine Nachricht kann bis zu 10 Dateien enthalten.',

  emailAway: 'Wir sind gerade nicht da. Hinterlassen Sie Ihre E-Mail-Adresse, dann antworten wir Ihnen per E-Mail.',
  emailOnline: 'Hinterlassen Sie Ihre E-Mail-Adresse, dann schicken wir Ihnen unsere Antworten auch dorthin.',
  emailPlaceholder: 'sie@beispiel.de',
  save: 'Speichern',
  emailDone: (email) => `Wir schreiben Ihnen an ${email}`,
  change: 'Ändern',
  emailTranscript: 'Chatverlauf per E-Mail erhalten',
  transcriptConfirm: (to) => `Wir haben einen Link an ${to} geschickt: Öffnen Sie ihn, um die Adresse zu bestätigen, dann folgt der Chatverlauf`,
  transcriptSent: (to) => `Wir haben den Chatverlauf an ${to} geschickt`,
  emailAsk: 'Antworten per E-Mail erhalten',
  poweredBy: 'Bereitgestellt von',
};

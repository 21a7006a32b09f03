/** The widget in French (vous, French typography: ’ and a narrow no-break space before ? ! :). */
import type { Strings } from './strings.js';

const nb = '\u202f';

export const fr: Strings = {
  title: 'Assistance',
  greeting: `Bonjour${nb}! Posez-nous toutes vos questions, nous répondons généralement en quelques minutes.`,
  awayGreeting: `Bonjour${nb}! Nous ne sommes pas disponibles pour le moment, mais laissez-nous un message et nous vous répondrons par e-mail.`,
  awayNoEmail: `Bonjour${nb}! Nous ne sommes pas disponibles pour le moment. Laissez-nous un message, nous vous répondrons ici dès notre retour.`,

  openChat: (unread) => (unread ? `Ouvrir la discussion, ${unread} message${unread > 1 ? 's' : ''} non lu${unread > 1 ? 's' : ''}` : 'Ouvrir la discussion'),
  closeChat: 'Fermer la discussion',
  messages: 'Messages',

  online: 'Nous sommes en ligne',
  replyByEmail: 'Nous répondrons par e-mail',
  away: 'Nous sommes absents',
  offline: 'Vous êtes hors ligne',
  connecting: 'Connexion…',
  reconnecting: 'Reconnexion…',
  offlineStrip: 'Vous êtes hors ligne. Vos messages seront envoyés dès votre retour.',

  today: 'Aujourd’hui',
  yesterday: 'Hier',
  team: 'Assistance',
  resolved: 'Conversation résolue',
  earlier: 'Conversation précédente',
  rateQuestion: `Comment s’est passée la conversation${nb}?`,
  rateGood: 'Satisfaisant',
  rateBad: 'Pas satisfaisant',
  rated: 'Merci pour votre avis.',

  read: 'Lu',
  sent: 'Envoyé',
  sending: 'Envoi…',
  waitingForConnection: 'En attente de connexion…',
  notDelivered: 'Non remis',
  retry: 'Réessayer',

  typing: (name) => `${name} écrit…`,
  someone: 'Quelqu’un',

  placeholder: 'Écrivez un message…',
  messageLabel: 'Message',
  send: 'Envoyer le message',
  emoji: 'Insérer un émoji',
  emojiGrid: 'Émojis',

  attach: 'Joindre un fichier',
  removeFile: (name) => `Retirer ${name}`,
  uploading: 'Envoi en cours…',
  fileType: (name) => `Impossible de joindre ${name}${nb}: ce type de fichier n’est pas accepté.`,
  fileSize: (name, max) => `${name} est trop volumineux pour être joint (${max} au maximum).`,
  fileRate: 'Trop de fichiers d’un coup. Patientez quelques secondes, puis réessayez.',
  fileFailed: (name) => `${name} n’a pas pu être envoyé. Vérifiez votre connexion et réessayez.`,
  tooManyFiles: 'Un message peut contenir jusqu’à 10 fichiers.',

  emailAway: 'Nous sommes absents pour le moment. Laissez votre adresse e-mail, nous vous y répondrons.',
  emailOnline: 'Laissez votre adresse e-mail et nous vous y enverrons aussi nos réponses.',
  emailPlaceholder: 'vous@exemple.fr',
  save: 'Enregistrer',
  emailDone: (email) => `Nous vous écrirons à ${email}`,
  change: 'Modifier',
  emailTranscript: 'M’envoyer cette discussion par e-mail',
  transcriptConfirm: (to) => `Nous avons envoyé un lien à ${to}${nb}: ouvrez-le pour confirmer l’adresse, et la discussion suivra`,
  transcriptSent: (to) => `Cette discussion a été envoyée à ${to}`,
  emailAsk: 'Recevoir les réponses par e-mail',
  poweredBy: 'Propulsé par',
};

/**
 * The demo's mail catcher as a process (desk/src/email/mail-catcher.ts):
 *
 *   node desk/dist/mail-catcher-main.js --smtp 1025 --http 8025 [--reply-relay smtp://127.0.0.1:2525]
 *
 * Desk sends through smtp://127.0.0.1:1025; the page at http://127.0.0.1:8025 lists what it sent,
 * and answers written there go to --reply-relay (Desk's inbound listener). Tells a parent process
 * "ready" once both listen; SIGTERM / SIGINT stop it.
 */
import { parseArgs } from 'node:util';
import { startMailCatcher } from './email/mail-catcher.js';

const { values } = parseArgs({
  options: {
    smtp: { type: 'string', default: '1025' },
    http: { type: 'string', default: '8025' },
    host: { type: 'string', default: '127.0.0.1' },
    'reply-relay': { type: 'string' },
  },
});

const relay = values['reply-relay'];
const catcher = await startMailCatcher({
  smtpPort: Number(values.smtp),
  httpPort: Number(values.http),
  host: values.host,
  replyRelay: relay ? () => relay : undefined,
});
process.send?.('ready');
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void catcher.close().then(() => process.exit(0)));

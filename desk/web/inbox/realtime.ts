/**
 * The operator's socket (desk/PROTOCOL.md): the one realtime client (shared/connection.ts) at /ws
 * next to the page (same origin: the inbox's CSP allows only its own), `operator.hello` with the
 * session token first, online once `operator.welcome` came.
 */
import { browserEnvironment } from '../shared/browser-env.js';
import { type Connection, type ConnectionOptions, openConnection } from '../shared/connection.js';

export function connectOperator(token: string, handlers: Pick<ConnectionOptions, 'onEvent' | 'onState' | 'onUnauthorized'>): Connection {
  return openConnection({
    url: new URL('ws', location.href).href.replace(/^http/, 'ws'),
    welcome: 'operator.welcome',
    hello: () => ({ type: 'operator.hello', token }),
    env: browserEnvironment(),
    ...handlers,
  });
}

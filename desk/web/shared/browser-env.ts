/** The page a realtime connection lives in (connection.ts `Environment`): the browser's window and document. */
import type { Environment, SocketLike } from './connection.js';

export function browserEnvironment(): Environment {
  return {
    open: (url) => new WebSocket(url) as unknown as SocketLike,
    network: window,
    page: document,
    isOffline: () => navigator.onLine === false,
    isVisible: () => document.visibilityState === 'visible',
  };
}

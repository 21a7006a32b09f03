/**
 * The REST API the inbox uses (desk/src/server/api.ts): what each answer holds, and one typed
 * helper per endpoint. Paths are relative to the page, like the socket's, so the inbox works under
 * any prefix. Errors are `{error: {code, message}}` with the matching status; a throttled sign-in
 * says when to retry in `Retry-After` (RFC 9110 §10.2.3).
 */
import type { MessageView, OperatorConversationView } from '../../src/protocol.js';

/** An operator as the API shows one (views.ts operatorView). */
export interface OperatorView {
  id: string;
  name: string;
  email: string;
}

export interface CannedResponse {
  id: string;
  shortcut: string;
  body: string;
}

/** POST /api/login */
export interface LoginAnswer {
  token: string;
  expiresAt: number;
  operator: OperatorView;
}

/** GET /api/me */
export interface MeAnswer {
  operator: OperatorView;
  workspace: { id: string; name: string } | null;
}

/** GET /api/search: per conversation, its newest message with every word. */
export interface SearchResult {
  conversation: OperatorConversationView;
  message: MessageView;
}

/** GET /api/conversations/:id/messages: at most MESSAGES_PAGE, ask again from the last seq. */
export interface MessagesAnswer {
  conversation: OperatorConversationView;
  messages: MessageView[];
}

export type ListFilter = 'open' | 'unassigned' | 'mine' | 'snoozed' | 'resolved' | 'all';

/** The most messages one GET (or one `sync`) returns. */
export const MESSAGES_PAGE = 500;

/** A refused request: its status, the server's message, and for 429 the seconds to wait. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** Signs in; throws ApiError when refused, TypeError when the server cannot be reached. */
export async function login(email: string, password: string): Promise<LoginAnswer> {
  const res = await fetch('api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  return answer<LoginAnswer>(res);
}

/** Ends the session on the server; nothing to wait for. */
export function logout(token: string): void {
  fetch('api/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => {});
}

/** The endpoints a signed-in operator reads. */
export interface OperatorApi {
  me(): Promise<MeAnswer>;
  operators(): Promise<OperatorView[]>;
  canned(): Promise<CannedResponse[]>;
  conversations(filter: ListFilter): Promise<OperatorConversationView[]>;
  messages(conversation: string, afterSeq: number): Promise<MessagesAnswer>;
  search(q: string): Promise<SearchResult[]>;
}

/** The API as `token`'s operator; a 401 (session gone) calls `onUnauthorized` before the ApiError is thrown. */
export function operatorApi(token: string, onUnauthorized: () => void): OperatorApi {
  async function get<T>(path: string): Promise<T> {
    const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 401) onUnauthorized();
    return answer<T>(res);
  }
  const q = encodeURIComponent;
  return {
    me: () => get<MeAnswer>('api/me'),
    operators: async () => (await get<{ operators: OperatorView[] }>('api/operators')).operators,
    canned: async () => (await get<{ canned: CannedResponse[] }>('api/canned')).canned,
    conversations: async (filter) => (await get<{ conversations: OperatorConversationView[] }>(`api/conversations?filter=${q(filter)}`)).conversations,
    messages: (conversation, afterSeq) => get<MessagesAnswer>(`api/conversations/${q(conversation)}/messages?afterSeq=${afterSeq}`),
    search: async (words) => (await get<{ results: SearchResult[] }>(`api/search?q=${q(words)}`)).results,
  };
}

/** The body of a 2xx as `T` (the server's declared answer), else an ApiError. */
async function answer<T>(res: Response): Promise<T> {
  if (!res.ok) {
    const wait = Number(res.headers.get('retry-after'));
    throw new ApiError(res.status, await errorText(res), Number.isFinite(wait) && wait > 0 ? wait : undefined);
  }
  return (await res.json()) as T;
}

async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } | string; message?: string } | null;
    const error = body?.error;
    return (typeof error === 'string' ? error : error?.message) || body?.message || res.statusText;
  } catch {
    return res.statusText || String(res.status);
  }
}

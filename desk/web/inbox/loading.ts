/**
 * What the inbox reads over REST (api.ts): the conversation list, a thread's whole history a page
 * at a time (REST works while the socket reconnects), and once per sign-in the workspace's name,
 * the canned responses and the teammates. A failed read leaves the state as it was.
 */
import { ApiError, type ListFilter, MESSAGES_PAGE, type OperatorApi } from './api.js';
import { byId } from './dom.js';
import type { Schedule } from './render.js';
import type { InboxState } from './state.js';
import { toast } from './toast.js';

export function loadConversations(api: OperatorApi, state: InboxState, schedule: Schedule, filter: ListFilter): Promise<void> {
  return api
    .conversations(filter)
    .then((list) => {
      for (const c of list) state.upsertConversation(c);
      schedule('list', 'thread', 'details');
    })
    .catch(() => {});
}

/** Once per thread (while it is not loaded or loading); then `done`, failed or not. */
export async function loadThread(api: OperatorApi, state: InboxState, id: string, done: () => void): Promise<void> {
  const t = state.thread(id);
  if (t.loaded || t.loading) return;
  t.loading = true;
  try {
    for (let after = 0; ; ) {
      const page = await api.messages(id, after);
      state.upsertConversation(page.conversation);
      state.addMessages(id, page.messages);
      if (page.messages.length < MESSAGES_PAGE) break;
      after = page.messages[page.messages.length - 1].seq;
    }
    t.loaded = true;
  } catch (err) {
    // A 401 signs out (api.ts); anything else is tried again at the next welcome (sync).
    if (!(err instanceof ApiError && err.status === 401)) toast('Could not load this conversation. Retrying when the connection is back.');
  } finally {
    t.loading = false;
  }
  done();
}

/** The workspace's name in the top bar, the canned responses, the teammates to assign to. */
export function loadWorkspace(api: OperatorApi, state: InboxState, schedule: Schedule): void {
  api
    .me()
    .then((me) => {
      if (me.workspace?.name) byId('workspace-name').textContent = me.workspace.name;
    })
    .catch(() => {});
  api
    .canned()
    .then((canned) => {
      state.canned = canned;
    })
    .catch(() => {});
  api
    .operators()
    .then((operators) => {
      state.operators = operators;
      schedule('details');
    })
    .catch(() => {});
}

/**
 * What the stores throw when a write names a record that does not exist (appendMessage to an
 * unknown conversation, updateConversation or updateVisitor of an unknown id). Callers that map
 * errors to responses test `code`, not the message.
 */
export class StoreNotFoundError extends Error {
  readonly code = 'not_found';
  constructor(
    readonly entity: 'conversation' | 'visitor',
    readonly id: string,
  ) {
    super(`unknown ${entity} ${id}`);
    this.name = 'StoreNotFoundError';
  }
}

/**
 * Desk's errors are classified values: a stable code (the protocol's `error.code` and the REST
 * error body's `code`), the HTTP status it maps to, and a public message. A WebSocket error keeps
 * the connection open unless its code is `unauthorized` (PROTOCOL.md, Events).
 */

export type DeskErrorCode = 'bad_event' | 'too_large' | 'unknown_conversation' | 'forbidden' | 'unauthorized' | 'rate_limited' | 'invalid_credentials' | 'not_found' | 'unsupported_type' | 'internal';

const STATUS: Record<DeskErrorCode, number> = {
  bad_event: 400,
  too_large: 413,
  unknown_conversation: 404,
  forbidden: 403,
  unauthorized: 401,
  rate_limited: 429,
  invalid_credentials: 401,
  not_found: 404,
  unsupported_type: 415,
  internal: 500,
};

export class DeskError extends Error {
  readonly status: number;
  constructor(
    readonly code: DeskErrorCode,
    message: string,
    /** The offending `clientId`, echoed as the error event's `ref`. */
    readonly ref?: string,
    /** For `rate_limited`: seconds until a retry can succeed (REST: `Retry-After`, RFC 9110 §10.2.3). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

/** The public form of any thrown value: DeskErrors as they are, anything else as `internal`. */
export function publicError(err: unknown, ref?: string): { code: DeskErrorCode; message: string; ref?: string } {
  if (err instanceof DeskError) return { code: err.code, message: err.message, ...((err.ref ?? ref) ? { ref: err.ref ?? ref } : {}) };
  return { code: 'internal', message: 'internal error', ...(ref ? { ref } : {}) };
}

export function statusOf(err: unknown): number {
  return err instanceof DeskError ? err.status : 500;
}

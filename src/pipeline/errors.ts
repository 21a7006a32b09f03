/**
 * Errors as classified values (STYLE habit 8): where it came from, a stable code, the HTTP status
 * the client sees, whether another origin may be tried, and a public message kept apart from the
 * private cause (which goes to the log only).
 */
export type ErrorSource = 'client' | 'origin' | 'internal';

export class EdgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly source: ErrorSource,
    readonly publicMessage: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${publicMessage}`, options);
  }
}

/**
 * An undici/socket error from talking to an origin → what the client is told.
 * Connect-phase failures (nothing was sent) are retryable; anything after is not.
 */
export function classifyUpstreamError(err: unknown): EdgeError {
  const e = err as NodeJS.ErrnoException & { code?: string };
  const code = e?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return new EdgeError(502, 'origin_refused', 'origin', 'The origin refused the connection.', true, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new EdgeError(502, 'origin_dns', 'origin', "The origin's name could not be resolved.", true, { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new EdgeError(502, 'origin_unreachable', 'origin', 'The origin could not be reached.', true, { cause: err });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new EdgeError(504, 'origin_connect_timeout', 'origin', 'The origin did not accept a connection in time.', true, { cause: err });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new EdgeError(504, 'origin_timeout', 'origin', 'The origin did not answer in time.', false, { cause: err });
    case 'UND_ERR_BODY_TIMEOUT':
      return new EdgeError(504, 'origin_body_timeout', 'origin', 'The origin stopped sending its response.', false, { cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return new EdgeError(502, 'origin_reset', 'origin', 'The origin closed the connection before answering.', false, { cause: err });
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return new EdgeError(400, 'client_aborted', 'client', 'The request was aborted.', false, { cause: err });
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
      // undici refused to send what the client gave (a method, path or header value it cannot
      // put on the wire): nothing reached the origin, so nothing counts against it.
      return new EdgeError(400, 'bad_request', 'client', 'The request cannot be forwarded as sent.', false, { cause: err });
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return new EdgeError(502, 'origin_bad_response', 'origin', 'The origin sent an invalid response.', false, { cause: err });
    default:
      if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || /parse|invalid|expected/i.test(e?.message ?? '')) {
        return new EdgeError(502, 'origin_bad_response', 'origin', 'The origin sent an invalid response.', false, { cause: err });
      }
      if (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL') || /certificate|ssl|tls/i.test(e?.message ?? '')) {
        return new EdgeError(502, 'origin_tls', 'origin', 'The TLS handshake with the origin failed.', true, { cause: err });
      }
      return new EdgeError(502, 'origin_error', 'origin', 'The origin could not be reached.', false, { cause: err });
  }
}

/** The metrics `kind` label for an upstream error code. */
export function errorKind(err: EdgeError): string {
  return err.code.replace(/^origin_/, '');
}

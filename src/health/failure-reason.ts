/**
 * Errors and aborts → the short, stable `reason` of a ProbeResult. Node's messages vary by
 * version and platform; codes do not, so reasons are built from codes.
 */

/** Why `signal` fired: `timeout` when its reason is a TimeoutError (AbortSignal.timeout, the scheduler), else `aborted`. */
export function abortReason(signal: AbortSignal): string {
  const r = signal.reason as { name?: string } | undefined;
  return r?.name === 'TimeoutError' ? 'timeout' : 'aborted';
}

export function failureReason(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return abortReason(signal);
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return 'dns';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'unreachable';
    case 'ETIMEDOUT':
      return 'timeout';
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH|IP_MISMATCH/.test(code)) return `tls: ${code}`;
  if (code.startsWith('HPE_')) return 'protocol error';
  return code || e?.message || String(err);
}

/**
 * The tap's error catalog. Codes are stable: they reach trace `error` events, the record summary
 * and docs/record.md, so never rename one.
 */
export const TAP_ERROR_CODES = {
  TAP_ERR_LISTEN: 'the tap cannot listen on its address (in use, not local, no permission)',
  TAP_ERR_ACCEPT: 'accepting a connection failed (out of file descriptors, ...); the tap keeps listening',
  TAP_ERR_UPSTREAM_CONNECT:
    "the upstream (Tomcat) refused, was unreachable or did not answer within the connect timeout; the web server's connection was reset, as a container that is down looks to it",
  TAP_ERR_CLIENT_RESET: 'the web server reset its connection; the reset was passed on to the upstream',
  TAP_ERR_UPSTREAM_RESET: 'the upstream reset its connection; the reset was passed on to the web server',
  TAP_ERR_SOCKET: 'another socket error on one side; the other side was reset',
  TAP_ERR_DECODER: 'the decoder failed on this connection and stopped tracing it; the bytes kept flowing',
  TAP_ERR_TRACE_BEHIND:
    'the trace could not keep up: events the output could not take were dropped (a `dropped` event), or a connection stopped being traced because the tracer fell behind (an `error` event); the traffic flowed on',
} as const;

export type TapErrorCode = keyof typeof TAP_ERROR_CODES;

/** A tap could not start listening. `cause` is the system error (its `code`: EADDRINUSE, EACCES, ...). */
export class TapListenError extends Error {
  override readonly name = 'TapListenError';
  readonly code: TapErrorCode = 'TAP_ERR_LISTEN';
  constructor(
    message: string,
    /** The system error code (EADDRINUSE, EADDRNOTAVAIL, EACCES, ...), when there is one. */
    readonly errno: string | undefined,
    readonly address: string,
  ) {
    super(message);
  }
}

/** Reset-like socket errors: the peer (or the path to it) dropped the connection abortively. */
export function isResetError(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ECONNABORTED';
}

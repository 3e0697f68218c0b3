/**
 * The stable kinds a failed (or 5xx) request is counted under, in the results and in every table
 * after them (docs/replay.md). Load's clients classify a failure into one of these
 * (load/request-result.ts); the order here is the order the results list them in.
 */
export const ERROR_KINDS = {
  'connect-refused': 'the connection was refused (nothing listens there)',
  'connect-timeout': 'the connection did not open within --connect-timeout',
  'connect-failed': 'the connection failed otherwise (unreachable, no address...)',
  timeout: 'no complete response within --timeout',
  reset: 'the connection was reset (RST) during the request',
  closed: 'the peer closed the connection before the response ended',
  protocol: 'the peer sent bytes that are not a valid response (bad frame, unexpected message)',
  'cping-failed': 'no CPong came back for the CPing before the request (--ping), on each of its two tries',
  'status-5xx': 'the response had a 5xx status (timed and counted like any response, and also as an error)',
  dropped: 'never sent: the open-loop backlog (1,000,000 requests) was full; the target cannot keep up with --rate',
  other: 'any other failure (the message says which)',
} as const;

export type ErrorKind = keyof typeof ERROR_KINDS;

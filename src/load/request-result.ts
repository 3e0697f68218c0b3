/**
 * The one flat record the load engine produces per request (vegeta's Result). Clients fill it,
 * schedulers stamp the times, and reports (ReplayResults) only read it. Times are milliseconds on
 * the run's monotonic clock (performance.now() by default); latencies are derived from them.
 *
 * Records are reused: a scheduler owns a small pool of them, and a sink's `add(record)` must copy
 * what it keeps before returning. That keeps the hot path free of per-request allocation.
 */
import type { ErrorKind } from '../results/error-kinds.js';
import type { BodyAccumulator, HeaderPair } from '../trace/index.js';

/** A response as received, kept for a comparison (AjpConnectionOptions.keepResponseBytes). */
export interface KeptResponse {
  /** [name, value] wire strings in the order received. */
  headers: HeaderPair[];
  /** Length and SHA-256 of the whole body; its bytes up to the bound (`retained()`). */
  body: BodyAccumulator;
}

export interface Mismatch {
  /** `status`, `body`, or `header:<name>` (lowercase). */
  kind: string;
  expected: string | number | null;
  actual: string | number | null;
}

/**
 * One replayed session (`--sessions`): a recorded session (its JSESSIONID without the route) in one
 * pass over the trace. One object per session, shared by its requests and their records.
 */
export interface SessionTag {
  /** Numbered in the order sessions start in this thread (0-based). */
  instance: number;
  /** The recorded session (JSESSIONID without its route). */
  key: string;
  /** The pass over the trace (0 = first). */
  pass: number;
  /** Exchanges the session has in the trace. */
  steps: number;
}

export interface RequestResult {
  /** Order in which the scheduler took the request (0-based, warmup included). */
  seq: number;
  /** The trace exchange id it replays, and its URI (for mismatch examples). */
  exchangeId: number;
  uri: string;
  /** Index of the target that served it (ReplayOptions.targets). */
  target: number;
  /** When it was due: the schedule's time in open loop, the send time in closed loop. */
  intendedMs: number;
  /** When the client started on it (connection acquisition included). */
  sentMs: number;
  /** Response headers arrived; -1 when none. */
  headersMs: number;
  /** The response ended or the request failed. */
  endMs: number;
  /** 0 when no response headers came. */
  status: number;
  /** The failure, or status-5xx, or null. */
  error: ErrorKind | null;
  errorMessage: string | null;
  /** Bytes written and read on the wire (AJP: frames; HTTP: body bytes only). */
  bytesSent: number;
  bytesReceived: number;
  /** Response body bytes. */
  bodyBytes: number;
  /** Backend route: JSESSIONID suffix in Set-Cookie, else the --route-header value; null otherwise. */
  route: string | null;
  /** The JSESSIONID value a Set-Cookie of the response set ('' when it cleared it); null when none did. */
  sessionCookie: string | null;
  /** `--sessions`: the replayed session this request belongs to, and its place in it; null outside sessions. */
  session: SessionTag | null;
  sessionStep: number;
  /** With --verify: the response body's SHA-256 (hex) and the values of --verify-headers. */
  bodySha256: string | null;
  verifyHeaders: (string | null)[] | null;
  /** Set by the verifier; null when it matched or was not verified. */
  mismatches: Mismatch[] | null;
  /** Sent during --warmup: counted apart, kept out of the results. */
  warmup: boolean;
  /** Only when the client was asked to keep responses (a mirror): headers and body as received. */
  response?: KeptResponse | undefined;
}

export function newResult(): RequestResult {
  return {
    seq: 0,
    exchangeId: 0,
    uri: '',
    target: 0,
    intendedMs: 0,
    sentMs: 0,
    headersMs: -1,
    endMs: 0,
    status: 0,
    error: null,
    errorMessage: null,
    bytesSent: 0,
    bytesReceived: 0,
    bodyBytes: 0,
    route: null,
    sessionCookie: null,
    session: null,
    sessionStep: 0,
    bodySha256: null,
    verifyHeaders: null,
    mismatches: null,
    warmup: false,
  };
}

export function resetResult(r: RequestResult): void {
  r.headersMs = -1;
  r.endMs = 0;
  r.status = 0;
  r.error = null;
  r.errorMessage = null;
  r.bytesSent = 0;
  r.bytesReceived = 0;
  r.bodyBytes = 0;
  r.route = null;
  r.sessionCookie = null;
  r.session = null;
  r.sessionStep = 0;
  r.bodySha256 = null;
  r.verifyHeaders = null;
  r.mismatches = null;
  r.warmup = false;
  r.response = undefined;
}

/**
 * Ends a request in failure. A failure is an error only, never a response: a reply cut short after
 * its headers (reset, closed, timed out mid-body) loses its status here, so that no report counts
 * it as a response, times it or adds it to throughput; the message keeps how far it got.
 */
export function failResult(rec: RequestResult, kind: ErrorKind, message: string, endMs: number): void {
  rec.errorMessage = rec.status > 0 ? `${message} (after the response headers, status ${rec.status})` : message;
  rec.error = kind;
  rec.status = 0;
  rec.headersMs = -1;
  rec.endMs = endMs;
}

/** Whether the record is a response: headers and the end came (a 5xx too, which is also an error). */
export function isResponse(r: RequestResult): boolean {
  return r.status > 0 && (r.error === null || r.error === 'status-5xx');
}

/** A Node/undici socket error mapped to an error kind. */
export function errorKindOf(e: unknown, connecting: boolean): ErrorKind {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connect-refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case 'ECONNRESET':
    case 'EPIPE':
      return connecting ? 'connect-failed' : 'reset';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return connecting ? 'connect-timeout' : 'timeout';
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'closed';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'connect-failed';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'UND_ERR_INFO':
      return 'protocol';
    default:
      return connecting ? 'connect-failed' : 'other';
  }
}

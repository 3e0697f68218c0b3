/** What the schedulers need from a client (AjpClient, HttpClient). */
import { UsageError } from '../errors.js';
import { MAX_TIMER_MS, checkConcurrency } from './limits.js';
import type { ReplayRequest } from './replay-request.js';
import type { RequestResult } from './request-result.js';
import type { ConnectionStats } from '../results/replay-report.js';

export interface LoadClient {
  readonly label: string;
  /**
   * Sends one request and calls `done` exactly once, after filling `result` (status, times,
   * bytes, route, error). `result.sentMs` and `intendedMs` are set by the caller. Never throws.
   */
  send(req: ReplayRequest, result: RequestResult, done: () => void): void;
  connectionStats(): ConnectionStats;
  /** Closes every connection (in-flight requests end with an error). */
  close(): Promise<void>;
}

export function emptyConnectionStats(): ConnectionStats {
  return { opened: 0, failed: 0, reused: 0, closedNoReuse: 0, closedOnError: 0, cpings: 0, cpingFailures: 0 };
}

/** Options common to both clients. */
export interface ClientOptions {
  /** Most connections open at once. */
  connections: number;
  connectTimeoutMs: number;
  /** From sending to the end of the response. */
  requestTimeoutMs: number;
  /** Header whose value names the backend (e.g. X-Served-By), lowercase; used when Set-Cookie names none. */
  routeHeader?: string;
  /** Keep the body SHA-256 and these response headers (lowercase) for --verify. */
  verify?: { headers: string[] };
  now?: () => number;
}

/**
 * The options a client cannot run with, as usage errors when it is made: a timeout that is NaN,
 * not above zero or past the timer limit would never expire (or expire at once).
 */
export function checkClientOptions(o: ClientOptions): void {
  checkConcurrency(o.connections, 'connections');
  for (const [name, ms] of [
    ['connect timeout', o.connectTimeoutMs],
    ['request timeout', o.requestTimeoutMs],
  ] as const) {
    if (!(ms > 0 && ms <= MAX_TIMER_MS))
      throw new UsageError(`the ${name} takes above 0 to ${MAX_TIMER_MS} ms, got ${ms}`);
  }
}

/**
 * Fetching whole responses, for comparisons (`ajpbench diff`): correctness over speed. Unlike the
 * load clients, which keep only a body hash and time everything, a fetcher returns what came back
 * (status, headers in wire strings, the body's SHA-256 and length, and its bytes up to a bound)
 * as an ObservedResponse, or an ObservedFailure saying why there was none. It never rejects.
 */
import type { Observed } from '../trace/observed-response.js';
import { AjpFetcher } from './ajp-fetcher.js';
import { HttpFetcher } from './http-fetcher.js';
import type { ReplayRequest } from './replay-request.js';
import type { Target } from './target.js';

export interface FetchOptions {
  connectTimeoutMs: number;
  /** From the send to the end of the response. */
  requestTimeoutMs: number;
  /** Body bytes kept for a field-level comparison; a longer body is compared by hash. */
  maxBodyBytes: number;
  /** Connections kept open per target (requests in flight at most). */
  connections: number;
  /** AJP: the secret attribute, and the packet size of the target. */
  secret?: string;
  maxPacketSize?: number;
  /** HTTP: remote_addr, is_ssl, Host and server_port as X-Forwarded-*. */
  forwarded?: boolean;
}

export interface ResponseFetcher {
  readonly label: string;
  fetch(req: ReplayRequest): Promise<Observed>;
  close(): Promise<void>;
}

export function responseFetcher(target: Target, opts: FetchOptions): ResponseFetcher {
  return target.protocol === 'ajp' ? new AjpFetcher(target, opts) : new HttpFetcher(target, opts);
}

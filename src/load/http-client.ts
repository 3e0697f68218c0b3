/**
 * HttpClient: replays exchanges as HTTP/1.1 requests with undici (keep-alive, pipelining off by
 * default). The request is the recorded one: method, path (+ the target's prefix) and query,
 * headers in order, body. Hop-by-hop headers and Content-Length are left to undici (it sets the
 * length from the body). AJP-only facts (remote_addr, is_ssl, server port) become
 * X-Forwarded-For/-Proto/-Host/-Port only with `forwarded` (--forwarded).
 *
 * undici's dispatch() with a handler object is used rather than request(): no stream per
 * response, and the handler sees headers and body chunks as they arrive (time to headers).
 */
import { createHash, type Hash } from 'node:crypto';
import { Pool, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import { checkPort, formatHostPortUrl, type HostPort } from '../host-port.js';
import { checkClientOptions, emptyConnectionStats, type ClientOptions, type LoadClient } from './load-client.js';
import { httpHeaderList, httpPath } from './http-request-parts.js';
import type { ReplayRequest } from './replay-request.js';
import { errorKindOf, failResult, type RequestResult } from './request-result.js';
import type { ConnectionStats } from '../results/replay-report.js';
import { finishResponseHeaders, noteResponseHeader } from './response-headers.js';

export interface HttpClientOptions extends ClientOptions, HostPort {
  /** Path prefix put before every URI ('' for none). */
  prefix: string;
  label?: string;
  /** Requests in flight per connection (1 = no pipelining, the default). */
  pipelining?: number;
  forwarded?: boolean;
}

export class HttpClient implements LoadClient {
  readonly label: string;
  private readonly pool: Pool;
  private readonly now: () => number;
  private readonly stats: ConnectionStats = emptyConnectionStats();
  private readonly origin: string;

  constructor(private readonly opts: HttpClientOptions) {
    this.origin = formatHostPortUrl('http', opts);
    checkPort(opts.port, this.origin);
    checkClientOptions(opts);
    this.now = opts.now ?? (() => performance.now());
    this.label = opts.label ?? `${this.origin}${opts.prefix}`;
    this.pool = new Pool(this.origin, {
      connections: opts.connections,
      pipelining: opts.pipelining ?? 1,
      connectTimeout: opts.connectTimeoutMs,
      headersTimeout: opts.requestTimeoutMs,
      bodyTimeout: opts.requestTimeoutMs,
      keepAliveTimeout: 4_000,
    });
    this.pool.on('connect', () => this.stats.opened++);
    this.pool.on('connectionError', () => this.stats.failed++);
  }

  send(req: ReplayRequest, rec: RequestResult, done: () => void): void {
    const handler = new ResponseHandler(
      rec,
      this.opts,
      this.now,
      done,
      this.opts.verify === undefined ? undefined : createHash('sha256'),
      req.body.length,
    );
    try {
      this.pool.dispatch(
        {
          path: this.path(req),
          method: req.method,
          headers: this.headers(req),
          body: req.body.length > 0 ? req.body : null,
          headersTimeout: this.opts.requestTimeoutMs,
          bodyTimeout: this.opts.requestTimeoutMs,
          // undici closes the connection after every HEAD (for servers that wrongly send a body);
          // a replay keeps it, as the browsers and proxies that made the traffic did.
          reset: false,
        },
        handler,
      );
    } catch (e) {
      handler.onResponseError(undefined, e as Error);
    }
  }

  connectionStats(): ConnectionStats {
    return { ...this.stats };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private path(req: ReplayRequest): string {
    return httpPath(this.opts.prefix, req);
  }

  private headers(req: ReplayRequest): string[] {
    const fwd = this.opts.forwarded === true;
    if (req.httpHeaders !== undefined && req.httpHeadersForwarded === fwd) return req.httpHeaders;
    const out = httpHeaderList(req, fwd);
    req.httpHeaders = out;
    req.httpHeadersForwarded = fwd;
    return out;
  }
}

/** undici's handler interface, one object per request. */
class ResponseHandler implements Dispatcher.DispatchHandler {
  private settled = false;

  constructor(
    private readonly rec: RequestResult,
    private readonly opts: HttpClientOptions,
    private readonly now: () => number,
    private readonly done: () => void,
    private readonly hash: Hash | undefined,
    private readonly bodyLength: number,
  ) {}

  /** undici calls this as it writes the request on a connected socket: only then was the body sent. */
  onRequestStart(): void {
    this.rec.bytesSent += this.bodyLength;
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx informational: the real response follows
    const rec = this.rec;
    rec.headersMs = this.now();
    rec.status = statusCode;
    for (const name in headers) {
      const v = headers[name];
      if (v === undefined) continue;
      if (typeof v === 'string') noteResponseHeader(rec, name, v, this.opts);
      else for (const one of v) noteResponseHeader(rec, name, one, this.opts);
    }
    finishResponseHeaders(rec, this.opts);
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.rec.bodyBytes += chunk.length;
    this.rec.bytesReceived += chunk.length;
    this.hash?.update(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    const rec = this.rec;
    rec.endMs = this.now();
    if (this.hash !== undefined) rec.bodySha256 = this.hash.digest('hex');
    if (rec.status >= 500) rec.error = 'status-5xx';
    this.done();
  }

  /** The request failed, before or after the response head: an error only (failResult). */
  onResponseError(_c: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.settled) return;
    this.settled = true;
    const rec = this.rec;
    failResult(rec, errorKindOf(err.cause ?? err, rec.headersMs < 0 && isConnectError(err)), err.message, this.now());
    this.done();
  }
}

function isConnectError(err: Error): boolean {
  const code = (err as { code?: string }).code ?? (err.cause as { code?: string } | undefined)?.code;
  return (
    code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND'
  );
}

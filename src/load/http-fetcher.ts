/**
 * Whole HTTP responses for comparisons (response-fetcher.ts), through undici's request(): the
 * exchange sent as replay sends it to an http:// target (the target's prefix before the URI, the
 * query, the headers in order but the hop-by-hop ones, the body), the answer read to its end.
 * Node hands header values over as ISO-8859-1 strings, one char per byte: the same wire strings
 * the AJP fetcher reads.
 */
import { Pool } from 'undici';
import { formatHostPortUrl } from '../host-port.js';
import { ObservedBodyCollector, type Observed } from '../trace/observed-response.js';
import type { HeaderPair } from '../trace/trace-types.js';
import { httpHeaderList, httpPath } from './http-request-parts.js';
import type { ReplayRequest } from './replay-request.js';
import type { FetchOptions, ResponseFetcher } from './response-fetcher.js';
import type { Target } from './target.js';

export class HttpFetcher implements ResponseFetcher {
  readonly label: string;
  private readonly pool: Pool;

  constructor(
    private readonly target: Target,
    private readonly opts: FetchOptions,
  ) {
    this.label = target.label;
    this.pool = new Pool(formatHostPortUrl('http', target), {
      connections: opts.connections,
      connectTimeout: opts.connectTimeoutMs,
      headersTimeout: opts.requestTimeoutMs,
      bodyTimeout: opts.requestTimeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  async fetch(req: ReplayRequest): Promise<Observed> {
    const signal = AbortSignal.timeout(this.opts.requestTimeoutMs);
    try {
      const res = await this.pool.request({
        path: httpPath(this.target.prefix, req),
        method: req.method,
        headers: httpHeaderList(req, this.opts.forwarded === true),
        body: req.body.length > 0 ? req.body : null,
        // A HEAD keeps its connection, as the browsers and proxies that made the traffic did.
        reset: false,
        signal,
      });
      const body = new ObservedBodyCollector(this.opts.maxBodyBytes);
      for await (const chunk of res.body) body.add(chunk as Buffer);
      const headers: HeaderPair[] = [];
      for (const [name, v] of Object.entries(res.headers)) {
        if (v === undefined) continue;
        for (const one of typeof v === 'string' ? [v] : v) headers.push([name, one]);
      }
      return { status: res.statusCode, headers, body: body.finish() };
    } catch (e) {
      return { error: httpError(e, signal, this.opts.requestTimeoutMs) };
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

function httpError(e: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `no complete response within ${timeoutMs} ms of the send`;
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.cause?.code ?? err.code;
  if (code === 'ECONNREFUSED') return 'connect: connection refused';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect: timed out';
  return code !== undefined ? `${code}: ${err.message ?? ''}`.trim() : String(err.message ?? e);
}

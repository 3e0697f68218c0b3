/**
 * For the load benchmark only: the replay sent with undici's high-level `Pool.request()` (a
 * promise and a body stream per response), the way most Node load scripts use undici, to measure
 * it beside its lower-level dispatch() (HttpClient, `--http-client undici`) and ajpbench's own
 * client (Http1Client, `--http-client net`). It fills status, times, body bytes and the route as
 * the real clients do, so that the three do the same work per request.
 */
import { Pool } from 'undici';
import { emptyConnectionStats, type LoadClient } from '../../src/load/load-client.js';
import type { ReplayRequest } from '../../src/load/replay-request.js';
import { errorKindOf, failResult, type RequestResult } from '../../src/load/request-result.js';
import { noteResponseHeader } from '../../src/load/response-headers.js';
import type { ConnectionStats } from '../../src/results/replay-report.js';

const SKIPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'expect', 'te']);

export class UndiciRequestClient implements LoadClient {
  readonly label: string;
  private readonly pool: Pool;
  private readonly stats: ConnectionStats = emptyConnectionStats();
  private readonly opts = { connections: 1, connectTimeoutMs: 5000, requestTimeoutMs: 30_000 };

  constructor(origin: string, connections: number) {
    this.label = `${origin} (undici request)`;
    this.pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 4_000 });
    this.pool.on('connect', () => this.stats.opened++);
  }

  send(req: ReplayRequest, rec: RequestResult, done: () => void): void {
    const now = performance.now.bind(performance);
    this.pool
      .request({
        path: `${req.uri ?? '/'}${req.query === null ? '' : `?${req.query}`}`,
        method: req.method,
        headers: this.headers(req),
        body: req.body.length > 0 ? req.body : null,
        reset: false,
      })
      .then(async (res) => {
        rec.headersMs = now();
        rec.status = res.statusCode;
        for (const name in res.headers) {
          const v = res.headers[name];
          if (typeof v === 'string') noteResponseHeader(rec, name, v, this.opts);
          else if (v !== undefined) for (const one of v) noteResponseHeader(rec, name, one, this.opts);
        }
        for await (const chunk of res.body) {
          rec.bodyBytes += (chunk as Buffer).length;
          rec.bytesReceived += (chunk as Buffer).length;
        }
        rec.endMs = now();
        if (rec.status >= 500) rec.error = 'status-5xx';
        done();
      })
      .catch((e: Error) => {
        failResult(rec, errorKindOf(e.cause ?? e, rec.headersMs < 0), e.message, now());
        done();
      });
  }

  connectionStats(): ConnectionStats {
    return { ...this.stats };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private headers(req: ReplayRequest): string[] {
    if (req.httpHeaders !== undefined) return req.httpHeaders;
    const out: string[] = [];
    for (const h of req.headers) if (h.value !== null && !SKIPPED.has(h.name.toLowerCase())) out.push(h.name, h.value);
    req.httpHeaders = out;
    return out;
  }
}

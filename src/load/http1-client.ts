/**
 * Http1Client: the lean HTTP/1.1 client, the default for http:// targets (`--http-client net`).
 * The replayed request is the same as with undici (HttpClient): method, prefix + URI + query,
 * recorded headers in order, body; it differs in how: the request's bytes are encoded once per
 * trace exchange (Http1RequestEncoder), responses are parsed from one reused read buffer
 * (Http1ResponseParser), and a pool of at most `connections` keep-alive connections (most recently
 * used first, as the AJP pool) with one sweep for every deadline. Why it replaced undici as the
 * default: undici's own JavaScript cost ~11 µs per request against ~5 µs for the AJP client (CPU
 * profile), and this client's requests per CPU-second are in test/bench/load-bench.ts.
 */
import { checkPort, formatHostPort, formatHostPortUrl, type HostPort } from '../host-port.js';
import { Http1Connection, type Http1ConnectionEvents } from './http1-connection.js';
import { Http1RequestEncoder } from './http1-request-encoder.js';
import { checkClientOptions, emptyConnectionStats, type ClientOptions, type LoadClient } from './load-client.js';
import type { ReplayRequest } from './replay-request.js';
import { failResult, type RequestResult } from './request-result.js';
import type { ConnectionStats } from '../results/replay-report.js';

export interface Http1ClientOptions extends ClientOptions, HostPort {
  /** Path prefix put before every URI ('' for none). */
  prefix: string;
  label?: string;
  /** Requests in flight per connection (1 = no pipelining, the default). */
  pipelining?: number;
  forwarded?: boolean;
}

/** The read buffer shared by a client's connections: one socket read at most (net reads 64 KiB). */
const READ_BUFFER_BYTES = 64 * 1024;

export class Http1Client implements LoadClient, Http1ConnectionEvents {
  readonly label: string;
  private readonly now: () => number;
  private readonly stats: ConnectionStats = emptyConnectionStats();
  private readonly encoder: Http1RequestEncoder;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** Open and idle, most recently used last (taken from the end). */
  private readonly idleConns: Http1Connection[] = [];
  private readonly all = new Set<Http1Connection>();
  private readonly pipelining: number;
  private readonly sweep: NodeJS.Timeout;
  private closingAll = false;

  constructor(private readonly opts: Http1ClientOptions) {
    const origin = formatHostPortUrl('http', opts);
    checkPort(opts.port, origin);
    checkClientOptions(opts);
    this.now = opts.now ?? (() => performance.now());
    this.label = opts.label ?? `${origin}${opts.prefix}`;
    this.pipelining = opts.pipelining ?? 1;
    this.encoder = new Http1RequestEncoder({
      prefix: opts.prefix,
      forwarded: opts.forwarded === true,
      host: formatHostPort(opts),
    });
    const every = Math.max(5, Math.min(250, opts.requestTimeoutMs / 4, opts.connectTimeoutMs / 4));
    this.sweep = setInterval(() => this.expire(), every);
    this.sweep.unref();
  }

  send(req: ReplayRequest, rec: RequestResult, done: () => void): void {
    const conn = this.acquire();
    if (conn === null) {
      // The schedulers never have more requests in flight than connections times pipelining, and
      // a failed connection leaves the pool at once: a safety net, as in the AJP pool.
      failResult(rec, 'other', `all ${this.opts.connections} connections are busy`, this.now());
      return done();
    }
    conn.send(req, rec, done);
  }

  connectionStats(): ConnectionStats {
    return { ...this.stats };
  }

  async close(): Promise<void> {
    this.closingAll = true;
    clearInterval(this.sweep);
    for (const c of this.all) c.destroy();
    this.idleConns.length = 0;
    // Give the 'close' events a turn so callers see settled results.
    await new Promise((r) => setImmediate(r));
  }

  connected(conn: Http1Connection, ok: boolean): void {
    if (ok) this.stats.opened++;
    else {
      this.stats.failed++;
      this.forget(conn);
    }
  }

  idle(conn: Http1Connection): void {
    if (!this.closingAll) this.idleConns.push(conn);
  }

  closed(conn: Http1Connection, onError: boolean): void {
    if (onError) this.stats.closedOnError++;
    else this.stats.closedNoReuse++;
    this.forget(conn);
  }

  /** An idle connection still within its keep-alive time, a new one, or one to pipeline on. */
  private acquire(): Http1Connection | null {
    const t = this.now();
    for (let conn = this.idleConns.pop(); conn !== undefined; conn = this.idleConns.pop()) {
      if (t - conn.lastUsedMs <= conn.keepAliveMs) {
        this.stats.reused++;
        return conn;
      }
      // Idle too long: the server may be closing it right now (a request on it would be lost).
      this.stats.closedNoReuse++;
      this.forget(conn);
      conn.discard();
    }
    if (this.all.size < this.opts.connections) {
      const conn = new Http1Connection(
        this.opts.host,
        this.opts.port,
        this.readBuffer,
        this.encoder,
        this.opts,
        this,
        this.now,
      );
      this.all.add(conn);
      return conn;
    }
    if (this.pipelining > 1) {
      let best: Http1Connection | null = null;
      for (const c of this.all) {
        if (c.state !== 'closed' && c.inFlight < this.pipelining && (best === null || c.inFlight < best.inFlight))
          best = c;
      }
      if (best !== null) this.stats.reused++;
      return best;
    }
    return null;
  }

  private forget(conn: Http1Connection): void {
    this.all.delete(conn);
    const i = this.idleConns.indexOf(conn);
    if (i >= 0) this.idleConns.splice(i, 1);
  }

  private expire(): void {
    const t = this.now();
    for (const c of this.all) c.expire(t);
  }
}

/**
 * AjpClient: speaks to one AJP target as mod_jk does. A ConnectionPool of persistent connections
 * (most recently used first, as mod_jk's pool hands them out), reuse only after End Response with
 * reuse=1 (§5.3, §7.2), optional CPing with mod_jk's ping_mode letters (§7.1), the secret
 * attribute (§8), and connect/request timeouts checked by one periodic sweep.
 *
 * A failed CPing closes that connection and the request goes to a fresh one, as mod_jk's
 * ajp_service does (its `retries`, default 2: a request gets two tries in all).
 */
import { AjpConnection, AjpRequestEncoder, type AjpConnectionOptions } from './ajp-connection.js';
import { UsageError } from '../errors.js';
import { checkPort, formatHostPortUrl, type HostPort } from '../host-port.js';
import { MAX_TIMER_MS } from './limits.js';
import { checkClientOptions, emptyConnectionStats, type LoadClient } from './load-client.js';
import type { ReplayRequest } from './replay-request.js';
import { failResult, type RequestResult } from './request-result.js';
import type { ErrorKind } from '../results/error-kinds.js';
import type { ConnectionStats } from '../results/replay-report.js';

/** Tries a request gets when its CPing fails (mod_jk's worker.retries default). */
export const CPING_TRIES = 2;

/**
 * mod_jk ping_mode letters: C after connect, P before every request, I before reusing a
 * connection idle longer than `pingIntervalMs`, A all of them.
 */
export interface PingOptions {
  modes: string;
  timeoutMs: number;
  intervalMs: number;
}

export interface AjpClientOptions extends AjpConnectionOptions, HostPort {
  label?: string;
  /** Shared by every AJP target of a run (it caches encoded frames on the requests). */
  encoder: AjpRequestEncoder;
  ping?: PingOptions;
}

type Acquired = (conn: AjpConnection | null, kind: ErrorKind | null, message: string | null) => void;

export class ConnectionPool {
  /** Idle connections, most recently used last (taken from the end). */
  private readonly idle: AjpConnection[] = [];
  private readonly all = new Set<AjpConnection>();
  readonly stats: ConnectionStats = emptyConnectionStats();
  private readonly sweep: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly opts: AjpClientOptions,
    private readonly now: () => number,
  ) {
    const every = Math.max(
      5,
      Math.min(250, opts.requestTimeoutMs / 4, opts.connectTimeoutMs / 4, (opts.ping?.timeoutMs ?? Infinity) / 4),
    );
    this.sweep = setInterval(() => this.expire(), every);
    this.sweep.unref();
  }

  get size(): number {
    return this.all.size;
  }

  /**
   * An idle connection (CPinged first when the ping modes say so), or a new one. `tried`: CPings
   * that already failed for this request; after one, only a fresh connection will do.
   */
  acquire(cb: Acquired, tried = 0): void {
    const ping = this.opts.ping;
    const conn = tried === 0 ? this.idle.pop() : undefined;
    if (conn !== undefined) {
      this.stats.reused++;
      const idleFor = this.now() - conn.lastUsedMs;
      if (ping !== undefined && (has(ping, 'P') || (has(ping, 'I') && idleFor > ping.intervalMs)))
        return this.cping(conn, ping, cb, tried);
      return cb(conn, null, null);
    }
    if (this.all.size >= this.opts.connections) {
      // The schedulers never have more requests in flight than connections, and a failed connection
      // leaves the pool at once (AjpConnection.fail), so a retry finds room: this is a safety net.
      return cb(null, 'other', `all ${this.opts.connections} connections are busy`);
    }
    const fresh = new AjpConnection(
      this.opts.host,
      this.opts.port,
      this.opts.encoder,
      this.opts,
      this,
      this.now,
      (kind, message) => {
        if (kind !== null) {
          this.stats.failed++;
          return cb(null, kind, message);
        }
        this.stats.opened++;
        if (ping !== undefined && (has(ping, 'C') || has(ping, 'P'))) return this.cping(fresh, ping, cb, tried);
        cb(fresh, null, null);
      },
    );
    this.all.add(fresh);
  }

  /** Back to the pool after an exchange; `failed`: it ended in an error that closed the connection. */
  release(conn: AjpConnection, reusable: boolean, failed: boolean): void {
    if (reusable && conn.state === 'idle' && !this.closing) return void this.idle.push(conn);
    if (failed) this.stats.closedOnError++;
    else this.stats.closedNoReuse++;
    // Forget it now: its 'close' event comes later, and the next request must not count it.
    this.closed(conn);
    if (conn.state !== 'closed') conn.destroy();
  }

  /** ConnectionEvents: a connection closed. */
  closed(conn: AjpConnection): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweep);
    for (const c of this.all) c.destroy();
    this.idle.length = 0;
    // Give the 'close' events a turn so callers see settled results.
    await new Promise((r) => setImmediate(r));
  }

  /** CPing, and on failure (the connection is closed by then) the request's next try on a fresh connection. */
  private cping(conn: AjpConnection, ping: PingOptions, cb: Acquired, tried: number): void {
    this.stats.cpings++;
    conn.cping(ping.timeoutMs, (kind, message) => {
      if (kind === null) return cb(conn, null, null);
      this.stats.cpingFailures++;
      if (tried + 1 < CPING_TRIES && !this.closing) return this.acquire(cb, tried + 1);
      cb(null, 'cping-failed', `${message ?? 'CPing failed'} (${tried + 1} tries, each on its own connection)`);
    });
  }

  private expire(): void {
    const t = this.now();
    for (const c of this.all) if (c.deadline <= t) c.expire();
  }
}

function has(p: PingOptions, letter: string): boolean {
  return p.modes.includes(letter) || p.modes.includes('A');
}

export class AjpClient implements LoadClient {
  readonly label: string;
  private readonly pool: ConnectionPool;
  private readonly now: () => number;

  constructor(opts: AjpClientOptions) {
    // net.connect would throw this from inside a send, on the hot path; say it here, once.
    checkPort(opts.port, formatHostPortUrl('ajp', opts));
    checkClientOptions(opts);
    if (opts.ping !== undefined && !(opts.ping.timeoutMs > 0 && opts.ping.timeoutMs <= MAX_TIMER_MS))
      throw new UsageError(`the ping timeout takes above 0 to ${MAX_TIMER_MS} ms, got ${opts.ping.timeoutMs}`);
    this.now = opts.now ?? (() => performance.now());
    this.label = opts.label ?? formatHostPortUrl('ajp', opts);
    this.pool = new ConnectionPool(opts, this.now);
  }

  send(req: ReplayRequest, rec: RequestResult, done: () => void): void {
    this.pool.acquire((conn, kind, message) => {
      if (conn === null) {
        failResult(rec, kind ?? 'other', message ?? 'no connection', this.now());
        return done();
      }
      conn.exchange(req, rec, (reusable) => {
        this.pool.release(conn, reusable, rec.error !== null && rec.error !== 'status-5xx');
        done();
      });
    });
  }

  connectionStats(): ConnectionStats {
    return { ...this.pool.stats };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

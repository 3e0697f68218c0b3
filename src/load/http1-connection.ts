/**
 * One HTTP/1.1 connection of the lean client: a socket, the requests in flight on it in order
 * (more than one only with --pipelining), and the response parser. Requests are written as the
 * pre-encoded bytes of Http1RequestEncoder, responses read from one buffer shared by the client's
 * connections (net's `onread`: no Buffer allocated per read; every byte is consumed or copied
 * during the call). Measured against 'data' events, alternating, 6 rounds of 3 s, 16 connections
 * on 2 busy cores: 62.0/68.7/70.1/64.1/54.5/55.8k against 49.8/57.3/65.5/44.5/53.1/57.5k requests
 * per CPU-second (medians ~63k and ~55k: better in 5 rounds of 6).
 *
 * A request's `done` is called only after the chunk that ended its response is all parsed, so the
 * next request the scheduler sends on this connection never sees bytes that came before it (a
 * stale response on an idle connection is a protocol error, as mod_jk treats one on AJP, §7.2).
 * Timeouts are deadlines checked by the pool's sweep, as for AJP.
 */
import { createHash, type Hash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Http1ParseError, Http1ResponseParser, type Http1ResponseSink } from './http1-response-parser.js';
import { Http1RequestEncoder } from './http1-request-encoder.js';
import type { ClientOptions } from './load-client.js';
import type { ReplayRequest } from './replay-request.js';
import { errorKindOf, failResult, type RequestResult } from './request-result.js';
import type { ErrorKind } from '../results/error-kinds.js';
import { finishResponseHeaders, noteResponseHeader } from './response-headers.js';

export interface Http1ConnectionEvents {
  /** Connected (`ok`) or failed to connect. */
  connected(conn: Http1Connection, ok: boolean): void;
  /** Nothing in flight any more, and the connection may be reused. */
  idle(conn: Http1Connection): void;
  /** The connection closed; `onError`: because of a failure (else the server or the client ended it). */
  closed(conn: Http1Connection, onError: boolean): void;
}

/** A request in flight; the objects are reused (one ring per connection). */
interface Slot {
  req: ReplayRequest | null;
  rec: RequestResult | null;
  done: (() => void) | null;
  hash: Hash | undefined;
}

/** Idle time after which a connection is not reused when the server named none (Keep-Alive: timeout=): undici's default. */
export const DEFAULT_KEEP_ALIVE_MS = 4_000;

export class Http1Connection implements Http1ResponseSink {
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  lastUsedMs: number;
  /** How long it may stay idle and still be reused (the server's Keep-Alive timeout less a second). */
  keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  private readonly socket: Socket;
  private readonly parser: Http1ResponseParser;
  private readonly connectDeadline: number;
  private readonly ring: Slot[] = [];
  private first = 0;
  private count = 0;
  private lastError: Error | undefined;
  /** Dones of requests whose response ended in the chunk being parsed. */
  private readonly ended: (() => void)[] = [];
  /** The last response said the connection closes. */
  private closing = false;

  constructor(
    host: string,
    port: number,
    readBuffer: Buffer,
    private readonly encoder: Http1RequestEncoder,
    private readonly opts: ClientOptions,
    private readonly events: Http1ConnectionEvents,
    private readonly now: () => number,
  ) {
    this.lastUsedMs = now();
    this.connectDeadline = this.lastUsedMs + opts.connectTimeoutMs;
    this.parser = new Http1ResponseParser(this);
    const s = (this.socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          this.onData(buf as Buffer, n);
          return true;
        },
      },
    }));
    s.on('connect', () => this.onConnect());
    s.on('end', () => this.onEnd());
    s.on('error', (e) => (this.lastError = e));
    s.on('close', () => this.onClose());
  }

  get inFlight(): number {
    return this.count;
  }

  /** Queues a request; written now when connected, else on connect. */
  send(req: ReplayRequest, rec: RequestResult, done: () => void): void {
    if (this.count === this.ring.length) this.grow();
    const slot = this.ring[(this.first + this.count) % this.ring.length] as Slot;
    this.count++;
    slot.req = req;
    slot.rec = rec;
    slot.done = done;
    slot.hash = this.opts.verify === undefined ? undefined : createHash('sha256');
    if (this.state === 'open') this.write(req, rec);
  }

  /** Called by the pool's sweep: a connect or a request past its deadline fails. */
  expire(t: number): void {
    if (this.state === 'connecting') {
      if (t >= this.connectDeadline)
        this.fail('connect-timeout', `not connected within ${this.opts.connectTimeoutMs} ms`);
      return;
    }
    const oldest = this.count > 0 ? (this.ring[this.first] as Slot).rec : null;
    if (oldest !== null && t >= oldest.sentMs + this.opts.requestTimeoutMs)
      this.fail('timeout', `no complete response within ${this.opts.requestTimeoutMs} ms of the send`);
  }

  /** Closes the socket; what is in flight fails when its 'close' event comes (the client is closing). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Closes an idle connection the pool no longer wants: no event follows. */
  discard(): void {
    this.state = 'closed';
    this.socket.destroy();
  }

  // Http1ResponseSink: the parser reports the response of the oldest request in flight.

  onResponseStart(status: number): boolean {
    if (this.count === 0) throw new Http1ParseError(`a response (status ${status}) with no request in flight`);
    const slot = this.ring[this.first] as Slot;
    const rec = slot.rec as RequestResult;
    rec.headersMs = this.now();
    rec.status = status;
    return (slot.req as ReplayRequest).method === 'HEAD';
  }

  onHeader(lower: string, value: string): void {
    const rec = (this.ring[this.first] as Slot).rec as RequestResult;
    if (lower === 'keep-alive') {
      const m = /timeout\s*=\s*(\d+)/i.exec(value);
      // undici's rule: the server's timeout less a second, so that it never closes under a request.
      if (m !== null) this.keepAliveMs = Math.max(0, Number(m[1]) * 1000 - 1000);
    }
    noteResponseHeader(rec, lower, value, this.opts);
  }

  onHeadersComplete(): void {
    finishResponseHeaders((this.ring[this.first] as Slot).rec as RequestResult, this.opts);
  }

  onBody(chunk: Buffer, start: number, end: number): void {
    const slot = this.ring[this.first] as Slot;
    const rec = slot.rec as RequestResult;
    rec.bodyBytes += end - start;
    rec.bytesReceived += end - start;
    slot.hash?.update(chunk.subarray(start, end));
  }

  onResponseEnd(keepAlive: boolean): void {
    const slot = this.ring[this.first] as Slot;
    const rec = slot.rec as RequestResult;
    rec.endMs = this.now();
    if (slot.hash !== undefined) rec.bodySha256 = slot.hash.digest('hex');
    if (rec.status >= 500) rec.error = 'status-5xx';
    this.ended.push(slot.done as () => void);
    this.shift();
    this.lastUsedMs = rec.endMs;
    if (!keepAlive) {
      this.closing = true;
      this.parser.halt();
    }
  }

  private write(req: ReplayRequest, rec: RequestResult): void {
    const bytes = this.encoder.encode(req);
    this.socket.write(bytes);
    if (Http1RequestEncoder.bodyApart(req)) this.socket.write(req.body);
    // As undici counts it: body bytes, once they went on a connection.
    rec.bytesSent += req.body.length;
  }

  private onConnect(): void {
    this.state = 'open';
    this.lastUsedMs = this.now();
    this.events.connected(this, true);
    for (let k = 0; k < this.count; k++) {
      const slot = this.ring[(this.first + k) % this.ring.length] as Slot;
      this.write(slot.req as ReplayRequest, slot.rec as RequestResult);
    }
  }

  private onData(buf: Buffer, n: number): void {
    if (this.state === 'closed') return;
    try {
      this.parser.push(buf, n);
    } catch (e) {
      if (!(e instanceof Http1ParseError)) throw e;
      return this.fail('protocol', e.message);
    }
    this.settle();
  }

  /** After a chunk: the pool learns the connection's state, then the ended requests' dones run. */
  private settle(): void {
    if (this.closing) {
      this.closing = false;
      this.fail('closed', 'the server closed the connection after an earlier pipelined response', false);
      return;
    }
    if (this.ended.length === 0) return;
    // The start of a response nobody asked for: it would be taken for the next request's.
    if (this.count === 0 && this.parser.midResponse)
      return this.fail('protocol', 'bytes after the last response, with no request in flight', false);
    if (this.count === 0) this.events.idle(this);
    this.runEnded();
  }

  private runEnded(): void {
    const ended = this.ended;
    // A done may queue the next request here, but no response ends during the loop.
    for (let k = 0; k < ended.length; k++) (ended[k] as () => void)();
    ended.length = 0;
  }

  /** EOF from the server: a response read until close ends here; one cut short fails. */
  private onEnd(): void {
    if (this.state === 'closed') return;
    try {
      this.parser.close();
    } catch (e) {
      if (!(e instanceof Http1ParseError)) throw e;
      return this.fail('closed', `the peer closed the connection before the response ended (${e.message})`);
    }
    this.closing = false;
    if (this.count > 0)
      return this.fail('closed', 'the peer closed the connection before the response began', this.ended.length === 0);
    this.fail('closed', 'the peer closed the connection', false);
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    const connecting = this.state === 'connecting';
    const e = this.lastError;
    if (e !== undefined) return this.fail(errorKindOf(e, connecting), e.message);
    if (connecting) return this.fail('connect-failed', 'the connection closed while connecting');
    this.onEnd();
  }

  /**
   * Closes the connection; every request still in flight ends with `kind` (after those whose
   * response already ended, in order). `onError`: counted as a connection closed on an error.
   */
  private fail(kind: ErrorKind, message: string, onError = true): void {
    const wasConnecting = this.state === 'connecting';
    this.state = 'closed';
    this.parser.halt();
    this.socket.destroy();
    if (wasConnecting) this.events.connected(this, false);
    else this.events.closed(this, onError && this.count > 0);
    const t = this.now();
    while (this.count > 0) {
      const slot = this.ring[this.first] as Slot;
      failResult(slot.rec as RequestResult, kind, message, t);
      this.ended.push(slot.done as () => void);
      this.shift();
    }
    this.runEnded();
  }

  private shift(): void {
    const slot = this.ring[this.first] as Slot;
    slot.req = null;
    slot.rec = null;
    slot.done = null;
    slot.hash = undefined;
    this.first = (this.first + 1) % this.ring.length;
    this.count--;
  }

  /** Room for one more request in flight: the ring doubles, oldest first. */
  private grow(): void {
    const old = this.ring.splice(0);
    for (let k = 0; k < old.length; k++) this.ring.push(old[(this.first + k) % old.length] as Slot);
    const n = Math.max(1, old.length);
    for (let k = 0; k < n; k++) this.ring.push({ req: null, rec: null, done: null, hash: undefined });
    this.first = 0;
  }
}

/**
 * One AJP connection as mod_jk uses it (§7.2): one request at a time, no pipelining. It sends the
 * Forward Request and, when Content-Length > 0, the first body packet right after it (§6.2); it
 * answers each Get Body Chunk with one body packet of at most the requested size (chunked bodies:
 * as much as fits), and an empty packet `12 34 00 00` at the end of the body (§6.4). It reads
 * Send Headers, Send Body Chunk and End Response, and CPong for a CPing sent while idle (§7.1).
 *
 * The socket is owned here; the pool decides about reuse. Timeouts are deadlines checked by the
 * pool's sweep (one timer for all connections rather than one per request).
 */
import { createHash, type Hash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  AjpEncoder,
  AjpEncodeError,
  CPING_FRAME,
  EMPTY_BODY_FRAME,
  FrameDecoder,
  MessageCode,
  decodeToWebServer,
  type AjpProtocolError,
  type FrameSink,
  type SendHeaders,
} from '../protocol/index.js';
import { BodyAccumulator } from '../trace/index.js';
import type { ClientOptions } from './load-client.js';
import type { ReplayRequest } from './replay-request.js';
import { errorKindOf, failResult, type RequestResult } from './request-result.js';
import type { ErrorKind } from '../results/error-kinds.js';
import { finishResponseHeaders, noteResponseHeader } from './response-headers.js';

/** Encodes Forward Requests for one run: the secret goes first among the attributes (§8, mod_jk order). */
export class AjpRequestEncoder {
  readonly encoder: AjpEncoder;
  private readonly secret: string | undefined;

  constructor(opts: { secret?: string; maxPacketSize?: number } = {}) {
    this.encoder = new AjpEncoder(opts.maxPacketSize === undefined ? {} : { maxPacketSize: opts.maxPacketSize });
    this.secret = opts.secret;
  }

  /**
   * The bytes that start an exchange: the Forward Request, plus the first body packet when the
   * body has a Content-Length (§6.2). Cached on the request, so a looped trace is encoded once;
   * encoded frames are views into slabs never rewritten (src/protocol/encoder.ts).
   */
  firstFrames(req: ReplayRequest): Buffer {
    if (req.ajpFrameOwner === this && req.ajpFrame !== undefined) return req.ajpFrame;
    const e = this.encoder;
    // A ReplayRequest is a ForwardRequest: encoded as it is, or with the secret first (§8).
    const fr = e.forwardRequest(
      this.secret === undefined
        ? req
        : { ...req, attributes: [{ name: 'secret', value: this.secret }, ...req.attributes] },
    );
    const frame =
      req.body.length > 0 && !req.chunked
        ? Buffer.concat([fr, e.body(req.body.subarray(0, e.maxRequestBodyChunk))])
        : fr;
    req.ajpFrame = frame;
    req.ajpFrameOwner = this;
    return frame;
  }
}

export interface AjpConnectionOptions extends ClientOptions {
  /**
   * Keep every response's headers and body (the body's bytes up to this many; length and SHA-256
   * always) on its result (`RequestResult.response`): a mirror compares them. Unset: nothing kept.
   */
  keepResponseBytes?: number;
}

export type ConnectionState = 'connecting' | 'idle' | 'cping' | 'busy' | 'closed';

export interface ConnectionEvents {
  /** The connection closed (whatever the reason); the pool forgets it. */
  closed(conn: AjpConnection): void;
}

type ReadyCallback = (kind: ErrorKind | null, message: string | null) => void;
type ExchangeCallback = (reusable: boolean) => void;

export class AjpConnection implements FrameSink {
  state: ConnectionState = 'connecting';
  /** Monotonic ms after which the pending step times out; Infinity when nothing is pending. */
  deadline = Infinity;
  /** When the last exchange or CPing ended. */
  lastUsedMs = 0;
  /** Exchanges completed on this connection. */
  exchanges = 0;
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private lastError: Error | undefined;
  private ready: ReadyCallback | undefined;
  private req: ReplayRequest | undefined;
  private rec: RequestResult | undefined;
  private done: ExchangeCallback | undefined;
  private bodySent = 0;
  private hash: Hash | undefined;
  /** The timeout of the CPing in progress (for its message). */
  private pingTimeoutMs = 0;

  constructor(
    host: string,
    port: number,
    private readonly frames: AjpRequestEncoder,
    private readonly opts: AjpConnectionOptions,
    private readonly events: ConnectionEvents,
    private readonly now: () => number,
    onConnect: ReadyCallback,
  ) {
    this.ready = onConnect;
    this.deadline = now() + opts.connectTimeoutMs;
    this.decoder = new FrameDecoder({
      direction: 'to-web-server',
      maxPacketSize: frames.encoder.maxPacketSize,
      onInvalid: 'stop',
    });
    const s = (this.socket = connect({ host, port, noDelay: true }));
    s.on('connect', () => {
      this.state = 'idle';
      this.deadline = Infinity;
      this.lastUsedMs = this.now();
      this.settleReady(null, null);
    });
    s.on('data', (chunk: Buffer) => {
      if (this.rec !== undefined) this.rec.bytesReceived += chunk.length;
      this.decoder.push(chunk, this);
    });
    s.on('error', (e) => (this.lastError = e));
    s.on('close', () => this.onClose());
  }

  /** §7.1: CPing while idle; `cb` gets null on CPong. */
  cping(timeoutMs: number, cb: ReadyCallback): void {
    this.state = 'cping';
    this.ready = cb;
    this.pingTimeoutMs = timeoutMs;
    this.deadline = this.now() + timeoutMs;
    this.socket.write(CPING_FRAME);
  }

  /** Runs one exchange; `cb(reusable)` once the response ended or failed (the record says which). */
  exchange(req: ReplayRequest, rec: RequestResult, cb: ExchangeCallback): void {
    let first: Buffer;
    try {
      first = this.frames.firstFrames(req);
    } catch (e) {
      // mod_jk answers 413 for a request that does not fit one packet (§1); nothing was sent.
      failResult(
        rec,
        'other',
        e instanceof AjpEncodeError ? `cannot encode the Forward Request: ${e.message}` : String(e),
        this.now(),
      );
      cb(true);
      return;
    }
    this.state = 'busy';
    this.req = req;
    this.rec = rec;
    this.done = cb;
    this.hash = this.opts.verify === undefined ? undefined : createHash('sha256');
    const keep = this.opts.keepResponseBytes;
    rec.response = keep === undefined ? undefined : { headers: [], body: new BodyAccumulator(false, 0, keep) };
    this.bodySent =
      req.body.length > 0 && !req.chunked ? Math.min(req.body.length, this.frames.encoder.maxRequestBodyChunk) : 0;
    this.deadline = rec.sentMs + this.opts.requestTimeoutMs;
    rec.bytesSent += first.length;
    this.socket.write(first);
  }

  /** Called by the pool's sweep when the deadline has passed: the message says which deadline. */
  expire(): void {
    if (this.state === 'connecting')
      this.fail('connect-timeout', `not connected within ${this.opts.connectTimeoutMs} ms`);
    else if (this.state === 'cping') this.fail('cping-failed', `no CPong within ${this.pingTimeoutMs} ms`);
    else if (this.state === 'busy')
      this.fail('timeout', `no complete response within ${this.opts.requestTimeoutMs} ms of the send`);
  }

  destroy(): void {
    this.socket.destroy();
  }

  frame(payload: Buffer): void {
    const type = payload[0];
    if (this.state === 'cping') {
      if (type === MessageCode.CPong) {
        this.state = 'idle';
        this.deadline = Infinity;
        this.lastUsedMs = this.now();
        this.settleReady(null, null);
      } else this.fail('cping-failed', `the answer to the CPing was message type ${type}, not CPong`);
      return;
    }
    const rec = this.rec;
    if (this.state !== 'busy' || rec === undefined) {
      // Bytes while idle: a stale response; mod_jk closes such a connection (§7.2).
      this.fail('protocol', `unexpected message type ${type} on an idle connection`);
      return;
    }
    switch (type) {
      case MessageCode.SendBodyChunk: {
        const n = ((payload[1] as number) << 8) | (payload[2] as number);
        if (payload.length < 3 || n > payload.length - 3)
          return this.fail('protocol', `Send Body Chunk says ${n} bytes, packet holds ${payload.length - 3}`);
        rec.bodyBytes += n;
        if (this.hash !== undefined && n > 0) this.hash.update(payload.subarray(3, 3 + n));
        rec.response?.body.add(payload.subarray(3, 3 + n));
        return;
      }
      case MessageCode.SendHeaders:
        return this.headers(payload, rec);
      case MessageCode.EndResponse:
        if (payload.length < 2) return this.fail('protocol', 'End Response without its reuse byte');
        if (rec.headersMs < 0) return this.fail('protocol', 'End Response before Send Headers');
        // §5.3: httpd reuses on any non-zero byte.
        return this.finish(payload[1] !== 0);
      case MessageCode.GetBodyChunk:
        if (payload.length < 3) return this.fail('protocol', 'Get Body Chunk without its length');
        return this.sendBody(((payload[1] as number) << 8) | (payload[2] as number));
      default:
        return this.fail('protocol', `unexpected message type ${type} during a request`);
    }
  }

  error(err: AjpProtocolError): void {
    this.fail('protocol', `${err.code}: ${err.message}`);
  }

  private headers(payload: Buffer, rec: RequestResult): void {
    if (rec.headersMs >= 0) return this.fail('protocol', 'a second Send Headers'); // an error in mod_jk and httpd (§5.1)
    let msg: SendHeaders;
    try {
      msg = decodeToWebServer(payload) as SendHeaders;
    } catch (e) {
      return this.fail('protocol', `bad Send Headers: ${(e as Error).message}`);
    }
    rec.headersMs = this.now();
    rec.status = msg.status;
    for (const h of msg.headers) noteResponseHeader(rec, h.name.toLowerCase(), h.value, this.opts);
    if (rec.response !== undefined) for (const h of msg.headers) rec.response.headers.push([h.name, h.value]);
    finishResponseHeaders(rec, this.opts);
  }

  /** §6.3–6.5: one body packet per Get Body Chunk, an empty one once the body is all sent. */
  private sendBody(requested: number): void {
    const req = this.req as ReplayRequest;
    const rec = this.rec as RequestResult;
    const left = req.body.length - this.bodySent;
    if (left <= 0) {
      rec.bytesSent += EMPTY_BODY_FRAME.length;
      this.socket.write(EMPTY_BODY_FRAME);
      return;
    }
    const e = this.frames.encoder;
    // mod_jk fills chunked bodies to the packet maximum and honours the request otherwise (§5.4).
    const n = Math.min(left, e.maxRequestBodyChunk, req.chunked ? Infinity : Math.max(1, requested));
    const frame = e.body(req.body.subarray(this.bodySent, this.bodySent + n));
    this.bodySent += n;
    rec.bytesSent += frame.length;
    this.socket.write(frame);
  }

  private finish(reusable: boolean): void {
    const rec = this.rec as RequestResult;
    const done = this.done as ExchangeCallback;
    rec.endMs = this.now();
    if (this.hash !== undefined) rec.bodySha256 = this.hash.digest('hex');
    if (rec.status >= 500) rec.error = 'status-5xx';
    this.clearExchange();
    this.exchanges++;
    this.lastUsedMs = rec.endMs;
    this.deadline = Infinity;
    if (reusable) this.state = 'idle';
    else {
      this.state = 'closed';
      this.socket.destroy();
    }
    // Not synchronously: the decoder may still be inside the chunk that held End Response, and a
    // frame after it belongs to no request (stale: the connection is closed, §7.2), not to the
    // next request the pool would otherwise start on this connection right now.
    queueMicrotask(() => done(reusable));
  }

  private clearExchange(): void {
    this.req = undefined;
    this.rec = undefined;
    this.done = undefined;
    this.hash = undefined;
  }

  /** Ends whatever is pending with an error and closes the socket. */
  private fail(kind: ErrorKind, message: string): void {
    const prev = this.state;
    this.state = 'closed';
    this.deadline = Infinity;
    this.socket.destroy();
    // Out of the pool now, not at the 'close' event a turn later: the request the callbacks below
    // start (a retry, the scheduler's next one) must find this slot free, not "all busy".
    this.events.closed(this);
    if (prev === 'busy' && this.rec !== undefined) {
      const rec = this.rec;
      const done = this.done as ExchangeCallback;
      this.clearExchange();
      failResult(rec, kind, message, this.now());
      done(false);
    } else if (prev === 'connecting' || prev === 'cping') this.settleReady(kind, message);
  }

  private onClose(): void {
    const prev = this.state;
    this.events.closed(this);
    if (prev === 'busy' || prev === 'connecting' || prev === 'cping') {
      const e = this.lastError;
      if (prev === 'cping')
        this.fail(
          'cping-failed',
          `the connection ${e === undefined ? 'closed' : `failed (${e.message})`} during the CPing`,
        );
      else if (e === undefined)
        this.fail(
          prev === 'connecting' ? 'connect-failed' : 'closed',
          prev === 'connecting'
            ? 'the connection closed while connecting'
            : 'the peer closed the connection before the response ended',
        );
      else this.fail(errorKindOf(e, prev === 'connecting'), e.message);
    }
    this.state = 'closed';
  }

  private settleReady(kind: ErrorKind | null, message: string | null): void {
    const cb = this.ready;
    this.ready = undefined;
    cb?.(kind, message);
  }
}

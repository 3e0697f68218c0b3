/**
 * Whole AJP responses for comparisons (response-fetcher.ts). One request at a time per connection
 * (§7.2); connections are kept while End Response allows reuse, so a diff of thousands of exchanges
 * does not open thousands of connections. The request goes as the load engine sends it
 * (AjpRequestEncoder: the Forward Request, the secret first, the first body packet), and each Get
 * Body Chunk gets the next packet of at most the size asked, then the empty packet (§6.4).
 *
 * A kept connection the peer closed while it was idle fails its next request before any answer:
 * that request is tried once more on a fresh connection, as mod_jk does. A timeout or a protocol
 * error is the answer's own failure and is not tried again.
 */
import { connect, type Socket } from 'node:net';
import {
  EMPTY_BODY_FRAME,
  FrameDecoder,
  MAX_MAX_PACKET_SIZE,
  MessageCode,
  decodeToWebServer,
  type AjpProtocolError,
  type FrameSink,
  type SendHeaders,
} from '../protocol/index.js';
import { ObservedBodyCollector, type Observed, type ObservedResponse } from '../trace/observed-response.js';
import type { HeaderPair } from '../trace/trace-types.js';
import { AjpRequestEncoder } from './ajp-connection.js';
import type { ReplayRequest } from './replay-request.js';
import type { FetchOptions, ResponseFetcher } from './response-fetcher.js';
import type { Target } from './target.js';

type Outcome =
  | { kind: 'response'; response: ObservedResponse; reuse: boolean }
  /** `stale`: the connection was found closed before any answer: worth one more try on a fresh one. */
  | { kind: 'failed'; error: string; stale: boolean };

export class AjpFetcher implements ResponseFetcher {
  readonly label: string;
  private readonly frames: AjpRequestEncoder;
  private readonly idle: AjpFetchLink[] = [];

  constructor(
    private readonly target: Target,
    private readonly opts: FetchOptions,
  ) {
    this.label = target.label;
    this.frames = new AjpRequestEncoder({
      ...(opts.secret === undefined ? {} : { secret: opts.secret }),
      ...(opts.maxPacketSize === undefined ? {} : { maxPacketSize: opts.maxPacketSize }),
    });
  }

  async fetch(req: ReplayRequest): Promise<Observed> {
    let first: Buffer;
    try {
      first = this.frames.firstFrames(req);
    } catch (e) {
      return { error: `cannot encode the Forward Request: ${(e as Error).message}` };
    }
    const kept = this.idle.pop();
    if (kept !== undefined) {
      const o = await kept.exchange(req, first, this.frames, this.opts);
      if (o.kind === 'response' || !o.stale) return this.settle(kept, o);
      kept.destroy();
    }
    const link = await AjpFetchLink.open(this.target, this.opts.connectTimeoutMs);
    if (typeof link === 'string') return { error: link };
    return this.settle(link, await link.exchange(req, first, this.frames, this.opts));
  }

  async close(): Promise<void> {
    for (const l of this.idle.splice(0)) l.destroy();
    return Promise.resolve();
  }

  private settle(link: AjpFetchLink, o: Outcome): Observed {
    if (o.kind === 'failed') {
      link.destroy();
      return { error: o.error };
    }
    if (o.reuse && this.idle.length < this.opts.connections) this.idle.push(link);
    else link.destroy();
    return o.response;
  }
}

/** One AJP connection of a fetcher. */
class AjpFetchLink implements FrameSink {
  private readonly decoder: FrameDecoder;
  private current: ((o: Outcome) => void) | undefined;
  private status = -1;
  private headers: HeaderPair[] = [];
  private body: ObservedBodyCollector | undefined;
  private req: ReplayRequest | undefined;
  private frames: AjpRequestEncoder | undefined;
  private bodySent = 0;
  private closed = false;
  private lastError: string | undefined;

  private constructor(private readonly socket: Socket) {
    // The connector may use a larger packetSize than ours: read up to the protocol maximum.
    this.decoder = new FrameDecoder({
      direction: 'to-web-server',
      maxPacketSize: MAX_MAX_PACKET_SIZE,
      onInvalid: 'stop',
    });
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk, this));
    socket.on('error', (e: NodeJS.ErrnoException) => (this.lastError = e.code ?? e.message));
    socket.on('close', () => {
      this.closed = true;
      const why = this.lastError === undefined ? 'the peer closed the connection' : `connection ${this.lastError}`;
      this.end({ kind: 'failed', error: `${why} before the response ended`, stale: this.status < 0 });
    });
  }

  /** A connected link, or why there is none. */
  static open(target: Target, timeoutMs: number): Promise<AjpFetchLink | string> {
    return new Promise((resolve) => {
      const socket = connect({ host: target.host, port: target.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(`not connected within ${timeoutMs} ms`);
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new AjpFetchLink(socket));
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(`connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : (e.code ?? e.message)}`);
      });
    });
  }

  exchange(req: ReplayRequest, first: Buffer, frames: AjpRequestEncoder, opts: FetchOptions): Promise<Outcome> {
    if (this.closed) return Promise.resolve({ kind: 'failed', error: 'connection closed', stale: true });
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => this.fail(`no complete response within ${opts.requestTimeoutMs} ms of the send`),
        opts.requestTimeoutMs,
      );
      this.current = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
      this.status = -1;
      this.headers = [];
      this.body = new ObservedBodyCollector(opts.maxBodyBytes);
      this.req = req;
      this.frames = frames;
      this.bodySent =
        req.body.length > 0 && !req.chunked ? Math.min(req.body.length, frames.encoder.maxRequestBodyChunk) : 0;
      this.socket.write(first);
    });
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  frame(payload: Buffer): void {
    if (this.current === undefined) return this.fail(`message type ${payload[0]} on an idle connection`);
    switch (payload[0]) {
      case MessageCode.SendHeaders: {
        if (this.status >= 0) return this.fail('a second Send Headers');
        let msg: SendHeaders;
        try {
          msg = decodeToWebServer(payload) as SendHeaders;
        } catch (e) {
          return this.fail(`bad Send Headers: ${(e as Error).message}`);
        }
        this.status = msg.status;
        this.headers = msg.headers.map((h) => [h.name, h.value]);
        return;
      }
      case MessageCode.SendBodyChunk: {
        const n = ((payload[1] ?? 0) << 8) | (payload[2] ?? 0);
        if (payload.length < 3 || n > payload.length - 3) return this.fail('a Send Body Chunk longer than its packet');
        this.body?.add(payload.subarray(3, 3 + n));
        return;
      }
      case MessageCode.GetBodyChunk:
        return this.sendBody(((payload[1] ?? 0) << 8) | (payload[2] ?? 0));
      case MessageCode.EndResponse: {
        if (this.status < 0) return this.fail('End Response before Send Headers');
        const response: ObservedResponse = {
          status: this.status,
          headers: this.headers,
          body: (this.body as ObservedBodyCollector).finish(),
        };
        // §5.3: httpd reuses on any non-zero byte.
        return this.end({ kind: 'response', response, reuse: payload[1] !== 0 });
      }
      default:
        return this.fail(`unexpected message type ${payload[0]} during a request`);
    }
  }

  error(err: AjpProtocolError): void {
    this.fail(`${err.code}: ${err.message}`);
  }

  /** §6.3-6.5, as mod_jk: chunked bodies fill the packet, others honour the size asked. */
  private sendBody(requested: number): void {
    const req = this.req as ReplayRequest;
    const e = (this.frames as AjpRequestEncoder).encoder;
    const left = req.body.length - this.bodySent;
    if (left <= 0) {
      this.socket.write(EMPTY_BODY_FRAME);
      return;
    }
    const n = Math.min(left, e.maxRequestBodyChunk, req.chunked ? Infinity : Math.max(1, requested));
    this.socket.write(e.body(req.body.subarray(this.bodySent, this.bodySent + n)));
    this.bodySent += n;
  }

  /** A failure of this request itself (a timeout, a protocol error): not retried. */
  private fail(error: string): void {
    this.end({ kind: 'failed', error, stale: false });
    this.destroy();
  }

  private end(o: Outcome): void {
    const cb = this.current;
    this.current = undefined;
    this.req = undefined;
    this.body = undefined;
    cb?.(o);
  }
}

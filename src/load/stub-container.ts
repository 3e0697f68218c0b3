/**
 * StubContainer: a tiny Tomcat stand-in for tests, demos and balancer checks in CI without Java
 * (`ajpbench serve`, docs/serve.md). Over AJP it answers every Forward Request as Tomcat does:
 * reads the whole request body (§6: the first packet arrives unasked when Content-Length > 0, the
 * rest on Get Body Chunk, chunked bodies until an empty packet), replies with Send Headers, body
 * chunks and End Response reuse=1 (§5), answers CPing with CPong (§7.1), and rejects a wrong or
 * missing secret with 403, End Response reuse=0 and a closed connection (§8, §11). An `http://`
 * listener answers the same way over HTTP/1.1, so one stub serves both kinds of target.
 *
 * Speed matters (the load engine is benchmarked against it): the frames of a response without a
 * new session are encoded once and written as one buffer. A body above WHOLE_BODY_BYTES is not
 * held at all: its fill pattern repeats, so one block (one AJP chunk frame) is written again and
 * again, with back-pressure, and a 1 GiB body costs 64 KiB of memory.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { describeFileError, errnoCode, RuntimeError, UsageError } from '../errors.js';
import { formatHostPort, parseHostPort, type HostPort } from '../host-port.js';
import {
  AjpEncoder,
  CPONG_FRAME,
  DEFAULT_MAX_PACKET_SIZE,
  END_RESPONSE_CLOSE_FRAME,
  END_RESPONSE_REUSE_FRAME,
  FrameDecoder,
  MessageCode,
  decodeBody,
  decodeToContainer,
  findAttribute,
  findHeader,
  hasChunkedBody,
  type AjpHeader,
  type FrameSink,
  type ForwardRequest,
} from '../protocol/index.js';

export type StubProtocol = 'ajp' | 'http';

/** `port` 0 picks a free port (see `StubContainer.listeners` for the one chosen). */
export interface StubListen extends HostPort {
  /** The jvmRoute appended to new session ids (`JSESSIONID=<id>.<route>`). */
  route: string;
  protocol: StubProtocol;
}

/** What a failing request does (`--fail-rate`): a 500 response, a TCP reset, or a plain close. */
export type StubFailMode = 'status' | 'reset' | 'close';

export interface StubOptions {
  listen: StubListen[];
  /** Delay before answering, ms (after the request body has been read). */
  latencyMs?: number;
  /** The delay varies uniformly within ± jitter, ms. */
  jitterMs?: number;
  status?: number;
  /** Response body bytes (none for HEAD, 204 and 304). */
  bodySize?: number;
  /** Share of requests that fail, 0–1. */
  failRate?: number;
  failMode?: StubFailMode;
  /** AJP secret every Forward Request must carry (§8); none by default. */
  secret?: string;
  /**
   * As a fixed Tomcat (§8): a req_attribute whose name is not on Tomcat's known list and does not
   * fully match `allowedRequestAttributesPattern` gets 403 and a close. Off by default (unlike
   * Tomcat), so that traces carrying any attribute replay against the stub.
   */
  refuseUnknownAttributes?: boolean;
  allowedRequestAttributesPattern?: RegExp;
  maxPacketSize?: number;
  /** Injected for tests; Math.random by default. */
  random?: () => number;
}

export interface StubListener extends StubListen {
  /** host:port as connected to (IPv6 in brackets). */
  address: string;
}

export interface StubStats {
  connections: number;
  requests: number;
  cpings: number;
  /** Requests refused for a wrong or missing secret. */
  rejected: number;
  failed: number;
  /** Request body bytes read. */
  bodyBytes: number;
  /** Protocol errors (bad frames) that closed a connection. */
  protocolErrors: number;
}

const BODY_FILL = 'ajpbench stub container body. ';
/** The largest response body (`--body-size`): a stub streams it, but a bigger one is a mistake, not a test. */
export const MAX_STUB_BODY_BYTES = 1024 ** 3;
/** Bodies up to this size are encoded once, whole; larger ones are streamed from one repeated block. */
const WHOLE_BODY_BYTES = 1024 * 1024;
/** A block of the fill pattern, a whole number of patterns long (so that blocks follow one another seamlessly), about 64 KiB. */
const BLOCK = Buffer.alloc(BODY_FILL.length * Math.floor(65_536 / BODY_FILL.length), BODY_FILL);

/**
 * The response body: whole when small; otherwise only its length, written as repeats of BLOCK
 * (the pattern restarts at every block boundary, which is where it would be anyway).
 */
interface StubBody {
  length: number;
  whole: Buffer | undefined;
}

function stubBody(length: number): StubBody {
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_STUB_BODY_BYTES) {
    throw new RangeError(`the response body size must be a whole number of bytes, at most 1 GiB; got ${length}`);
  }
  return { length, whole: length <= WHOLE_BODY_BYTES ? Buffer.alloc(length, BODY_FILL) : undefined };
}

/** Writes `count` times `block`, then `last`, waiting for 'drain' whenever the stream is full; stops if it is gone. */
function writeRepeated(
  out: { write(b: Buffer): boolean; once(ev: 'drain', f: () => void): unknown; destroyed: boolean },
  block: Buffer,
  count: number,
  last: Buffer,
  done: () => void,
): void {
  let left = count;
  const pump = (): void => {
    while (left > 0) {
      if (out.destroyed) return;
      left--;
      if (!out.write(block)) {
        out.once('drain', pump);
        return;
      }
    }
    if (out.destroyed) return;
    out.write(last);
    done();
  };
  pump();
}

export class StubContainer {
  readonly stats: StubStats = {
    connections: 0,
    requests: 0,
    cpings: 0,
    rejected: 0,
    failed: 0,
    bodyBytes: 0,
    protocolErrors: 0,
  };
  readonly listeners: StubListener[] = [];
  private readonly servers: (NetServer | HttpServer)[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly opts: Required<Omit<StubOptions, 'secret' | 'allowedRequestAttributesPattern'>> & {
    secret: Buffer | undefined;
    allowedRequestAttributesPattern: RegExp | undefined;
  };
  private readonly body: StubBody;
  private stallUntil = 0;

  private constructor(opts: StubOptions) {
    this.opts = {
      listen: opts.listen,
      latencyMs: opts.latencyMs ?? 0,
      jitterMs: opts.jitterMs ?? 0,
      status: opts.status ?? 200,
      bodySize: opts.bodySize ?? 1024,
      failRate: opts.failRate ?? 0,
      failMode: opts.failMode ?? 'status',
      secret: opts.secret === undefined ? undefined : Buffer.from(opts.secret, 'latin1'),
      refuseUnknownAttributes: opts.refuseUnknownAttributes ?? false,
      allowedRequestAttributesPattern: opts.allowedRequestAttributesPattern,
      maxPacketSize: opts.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE,
      random: opts.random ?? Math.random,
    };
    this.body = stubBody(this.opts.bodySize);
  }

  /** Starts every listener; rejects (closing what started) when one cannot listen. */
  static async start(opts: StubOptions): Promise<StubContainer> {
    if (opts.listen.length === 0) throw new RangeError('StubContainer needs at least one listener');
    const stub = new StubContainer(opts);
    try {
      for (const l of opts.listen) await stub.listenOne(l);
    } catch (e) {
      await stub.close();
      throw e;
    }
    return stub;
  }

  /** Every response not yet sent waits until `ms` from now (a stall, for open-loop tests). */
  stall(ms: number): void {
    this.stallUntil = Math.max(this.stallUntil, performance.now() + ms);
  }

  /** Stops listening and closes every connection at once. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private async listenOne(l: StubListen): Promise<void> {
    const server = l.protocol === 'ajp' ? this.ajpServer(l.route) : this.httpServer(l.route);
    this.servers.push(server);
    const shown = formatHostPort(l);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) =>
        reject(new RuntimeError(`cannot listen on ${shown}: ${listenProblem(e)}`, 'AJPBENCH_ERR_LISTEN', { cause: e })),
      );
      server.listen({ host: l.host, port: l.port }, () => {
        server.off('error', reject);
        // An accept that fails (EMFILE under load) must not kill the process: count it and go on.
        server.on('error', () => this.stats.protocolErrors++);
        resolve();
      });
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : l.port;
    this.listeners.push({ ...l, port, address: formatHostPort({ host: l.host, port }) });
  }

  private track(socket: Socket): void {
    this.stats.connections++;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Delay before answering: latency ± jitter, and at least until the end of a stall. */
  private delay(): number {
    const { latencyMs, jitterMs, random } = this.opts;
    let d = latencyMs + (jitterMs > 0 ? (random() * 2 - 1) * jitterMs : 0);
    if (this.stallUntil > 0) {
      const left = this.stallUntil - performance.now();
      if (left > d) d = left;
    }
    return d > 0 ? d : 0;
  }

  private failing(): boolean {
    return this.opts.failRate > 0 && this.opts.random() < this.opts.failRate;
  }

  private ajpServer(route: string): NetServer {
    const responder = new AjpResponder(this.opts.status, this.body, this.opts.maxPacketSize);
    return createNetServer((socket) => {
      socket.setNoDelay(true);
      this.track(socket);
      new AjpStubConnection(this, socket, route, responder);
    });
  }

  /** @internal used by AjpStubConnection */
  get options(): StubContainer['opts'] {
    return this.opts;
  }

  /** @internal */
  schedule(fn: () => void): void {
    const d = this.delay();
    if (d === 0) fn();
    else setTimeout(fn, d);
  }

  /** @internal */
  fail(): boolean {
    return this.failing();
  }

  private httpServer(route: string): HttpServer {
    const server = createHttpServer({ keepAliveTimeout: 30_000 }, (req, res) => this.answerHttp(req, res, route));
    server.on('connection', (socket: Socket) => {
      socket.setNoDelay(true);
      this.track(socket);
    });
    return server;
  }

  private answerHttp(req: IncomingMessage, res: ServerResponse, route: string): void {
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.on('end', () => {
      this.stats.requests++;
      this.stats.bodyBytes += bodyBytes;
      this.schedule(() => {
        if (res.destroyed) return;
        if (this.failing()) {
          this.stats.failed++;
          if (this.opts.failMode === 'reset') return void req.socket.resetAndDestroy();
          if (this.opts.failMode === 'close') return void req.socket.destroy();
          res.writeHead(500, { 'Content-Type': 'text/plain', 'Content-Length': '13' }).end('stub failure\n');
          return;
        }
        const status = this.opts.status;
        const noBody = req.method === 'HEAD' || status === 204 || status === 304;
        const headers: Record<string, string> = {
          'Content-Type': 'text/plain',
          'Content-Length': String(noBody && req.method !== 'HEAD' ? 0 : this.body.length),
        };
        if (!hasSession(req.headers.cookie ?? null, req.url ?? null)) headers['Set-Cookie'] = newSessionCookie(route);
        res.writeHead(status, headers);
        const body = this.body;
        if (noBody || body.whole !== undefined) return void res.end(noBody ? undefined : body.whole);
        const rest = body.length % BLOCK.length;
        writeRepeated(res, BLOCK, Math.floor(body.length / BLOCK.length), BLOCK.subarray(0, rest), () => res.end());
      });
    });
  }
}

/**
 * A streamed body over AJP: `count` copies of one Send Body Chunk frame, then `last` (the rest
 * of the body and End Response). The chunk is a whole number of fill patterns, so the copies
 * read as one continuous body.
 */
interface StreamedAjpBody {
  chunk: Buffer;
  count: number;
  last: Buffer;
}

/** Response frames shared by every connection of one listener. */
class AjpResponder {
  readonly encoder: AjpEncoder;
  /** Send Headers (no new session) + body chunks + End Response reuse=1, as one buffer (a whole body only). */
  readonly whole: Buffer;
  /** Body chunks + End Response, to follow a Send Headers that sets a cookie (a whole body only). */
  readonly afterHeaders: Buffer;
  /** Send Headers without a new session (a streamed body: the chunks follow). */
  readonly plainHeaders: Buffer;
  /** A body above WHOLE_BODY_BYTES, when there is one (and the status has a body). */
  readonly streamed: StreamedAjpBody | undefined;
  /** HEAD / 204 / 304: headers and End Response only. */
  readonly wholeNoBody: Buffer;
  readonly failure: Buffer;
  readonly forbidden: Buffer;

  constructor(
    readonly status: number,
    body: StubBody,
    maxPacketSize: number,
  ) {
    const enc = (this.encoder = new AjpEncoder({ maxPacketSize }));
    const emptyStatus = status === 204 || status === 304;
    const chunks: Buffer[] = [];
    if (body.whole !== undefined) {
      for (let at = 0; at < body.length; at += enc.maxResponseBodyChunk) {
        chunks.push(Buffer.from(enc.sendBodyChunk(body.whole.subarray(at, at + enc.maxResponseBodyChunk))));
      }
    }
    const size = BODY_FILL.length * Math.floor(enc.maxResponseBodyChunk / BODY_FILL.length);
    this.streamed =
      body.whole !== undefined || emptyStatus
        ? undefined
        : {
            chunk: Buffer.from(enc.sendBodyChunk(BLOCK.subarray(0, size))),
            count: Math.floor(body.length / size),
            last: Buffer.concat([
              ...(body.length % size === 0 ? [] : [enc.sendBodyChunk(BLOCK.subarray(0, body.length % size))]),
              END_RESPONSE_REUSE_FRAME,
            ]),
          };
    this.afterHeaders = Buffer.concat([...(emptyStatus ? [] : chunks), END_RESPONSE_REUSE_FRAME]);
    this.plainHeaders = Buffer.from(enc.sendHeaders(this.headers(null, body.length, emptyStatus)));
    this.whole = Buffer.concat([this.plainHeaders, this.afterHeaders]);
    this.wholeNoBody = Buffer.concat([this.plainHeaders, END_RESPONSE_REUSE_FRAME]);
    const failBody = Buffer.from('stub failure\n');
    this.failure = Buffer.concat([
      enc.sendHeaders({
        status: 500,
        message: '500',
        headers: [
          { name: 'Content-Type', value: 'text/plain' },
          { name: 'Content-Length', value: String(failBody.length) },
        ],
      }),
      enc.sendBodyChunk(failBody),
      END_RESPONSE_REUSE_FRAME,
    ]);
    // §11: Tomcat answers a missing or wrong secret with 403 and End Response reuse=0, then closes.
    this.forbidden = Buffer.concat([
      enc.sendHeaders({ status: 403, message: '403', headers: [] }),
      END_RESPONSE_CLOSE_FRAME,
    ]);
  }

  headers(
    cookie: string | null,
    length: number,
    emptyStatus: boolean,
  ): { status: number; message: string; headers: AjpHeader[] } {
    // Tomcat 9+ sends the decimal status as the message (§5.1, §11).
    const headers: AjpHeader[] = [
      { name: 'Content-Type', value: 'text/plain' },
      { name: 'Content-Length', value: String(emptyStatus ? 0 : length) },
    ];
    if (cookie !== null) headers.push({ name: 'Set-Cookie', value: cookie });
    return { status: this.status, message: String(this.status), headers };
  }
}

type ConnState = 'idle' | 'body' | 'answering' | 'closed';

/** One AJP connection of the stub: a FrameDecoder and the per-request state of §6. */
class AjpStubConnection implements FrameSink {
  private readonly decoder: FrameDecoder;
  private state: ConnState = 'idle';
  private request: ForwardRequest | undefined;
  private bodyLeft = 0;
  private chunked = false;
  private readonly maxChunk: number;

  constructor(
    private readonly stub: StubContainer,
    private readonly socket: Socket,
    private readonly route: string,
    private readonly responder: AjpResponder,
  ) {
    const max = stub.options.maxPacketSize;
    this.maxChunk = max - 6;
    this.decoder = new FrameDecoder({ direction: 'to-container', maxPacketSize: max, onInvalid: 'stop' });
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk, this));
    socket.on('error', () => undefined);
    socket.on('close', () => (this.state = 'closed'));
  }

  error(): void {
    this.stub.stats.protocolErrors++;
    this.close();
  }

  frame(payload: Buffer): void {
    if (this.state === 'closed') return;
    if (this.state === 'body') return this.bodyPacket(payload);
    const type = payload.length > 0 ? payload[0] : -1;
    if (this.state === 'idle' && type === MessageCode.CPing) {
      this.stub.stats.cpings++;
      this.socket.write(CPONG_FRAME);
      return;
    }
    if (this.state !== 'idle' || type !== MessageCode.ForwardRequest) {
      // Shutdown, Ping, or anything while answering: Tomcat treats it as unexpected and closes (§3).
      this.stub.stats.protocolErrors++;
      this.close();
      return;
    }
    let req: ForwardRequest;
    try {
      req = decodeToContainer(payload) as ForwardRequest;
    } catch {
      this.stub.stats.protocolErrors++;
      this.close();
      return;
    }
    this.stub.stats.requests++;
    if (!this.secretOk(req) || !this.attributesOk(req)) {
      this.stub.stats.rejected++;
      this.state = 'closed';
      this.socket.end(this.responder.forbidden);
      return;
    }
    this.request = req;
    const cl = findHeader(req.headers, 'content-length');
    const length = cl === undefined || cl === null ? 0 : Number.parseInt(cl, 10) || 0;
    this.chunked = hasChunkedBody(req.headers);
    if (length > 0) {
      // §6.2: the first body packet follows unasked.
      this.state = 'body';
      this.bodyLeft = length;
    } else if (this.chunked) {
      // §6.5: nothing comes unasked for a chunked body; ask for it.
      this.state = 'body';
      this.socket.write(this.responder.encoder.getBodyChunk(this.maxChunk));
    } else this.answer();
  }

  private bodyPacket(payload: Buffer): void {
    let n: number;
    try {
      n = decodeBody(payload).data.length;
    } catch {
      this.stub.stats.protocolErrors++;
      this.close();
      return;
    }
    this.stub.stats.bodyBytes += n;
    if (n === 0) return this.answer(); // end of body, or a read past it
    if (!this.chunked) {
      this.bodyLeft -= n;
      if (this.bodyLeft <= 0) return this.answer();
    }
    this.socket.write(
      this.responder.encoder.getBodyChunk(this.chunked ? this.maxChunk : Math.min(this.maxChunk, this.bodyLeft)),
    );
  }

  private answer(): void {
    this.state = 'answering';
    this.stub.schedule(() => this.respond());
  }

  private respond(): void {
    if (this.state === 'closed') return;
    const req = this.request as ForwardRequest;
    this.request = undefined;
    this.state = 'idle';
    const r = this.responder;
    if (this.stub.fail()) {
      this.stub.stats.failed++;
      const mode = this.stub.options.failMode;
      if (mode === 'reset') return void this.socket.resetAndDestroy();
      if (mode === 'close') return this.close();
      this.socket.write(r.failure);
      return;
    }
    const noBody = req.method === 'HEAD';
    const session = hasSession(findHeader(req.headers, 'cookie') ?? null, req.uri);
    if (session && (noBody || r.streamed === undefined)) {
      this.socket.write(noBody ? r.wholeNoBody : r.whole);
      return;
    }
    const emptyStatus = r.status === 204 || r.status === 304;
    const headers = session
      ? r.plainHeaders
      : r.encoder.sendHeaders(r.headers(newSessionCookie(this.route), this.stub.options.bodySize, emptyStatus));
    if (noBody || r.streamed === undefined) {
      this.socket.cork();
      this.socket.write(headers);
      this.socket.write(noBody ? END_RESPONSE_REUSE_FRAME : r.afterHeaders);
      this.socket.uncork();
      return;
    }
    // A large body: the next request may come only after End Response (§3); until then it is answering.
    this.state = 'answering';
    this.socket.write(headers);
    const { chunk, count, last } = r.streamed;
    writeRepeated(this.socket, chunk, count, last, () => {
      if (this.state === 'answering') this.state = 'idle';
    });
  }

  private secretOk(req: ForwardRequest): boolean {
    const want = this.stub.options.secret;
    if (want === undefined) return true;
    const got = findAttribute(req, 'secret');
    if (got === undefined || got === null) return false;
    const have = Buffer.from(got, 'latin1');
    // §8: Tomcat compares in constant time.
    return have.length === want.length && timingSafeEqual(have, want);
  }

  /** §8: Tomcat's AjpProcessor refuses an unrecognised req_attribute unless the pattern matches all of its name. */
  private attributesOk(req: ForwardRequest): boolean {
    const o = this.stub.options;
    if (!o.refuseUnknownAttributes) return true;
    for (const a of req.attributes) {
      if (a.name !== 'req_attribute' || a.key === null || KNOWN_REQUEST_ATTRIBUTES.has(a.key)) continue;
      const p = o.allowedRequestAttributesPattern;
      const m = p === undefined ? null : p.exec(a.key);
      if (m === null || m.index !== 0 || m[0].length !== a.key.length) return false;
    }
    return true;
  }

  private close(): void {
    this.state = 'closed';
    this.socket.destroy();
  }
}

/** Whether a request carries a session: a JSESSIONID cookie or a `;jsessionid=` path parameter (§7.3). */
function hasSession(cookie: string | null, uri: string | null): boolean {
  return (cookie !== null && cookie.includes('JSESSIONID=')) || (uri !== null && /;jsessionid=/i.test(uri));
}

/** Request attribute names Tomcat's AjpProcessor recognises (set, never refused). */
const KNOWN_REQUEST_ATTRIBUTES: ReadonlySet<string> = new Set([
  'AJP_LOCAL_ADDR',
  'AJP_REMOTE_PORT',
  'AJP_SSL_PROTOCOL',
  'JK_LB_ACTIVATION',
  'javax.servlet.request.cipher_suite',
  'javax.servlet.request.key_size',
  'javax.servlet.request.ssl_session',
  'javax.servlet.request.X509Certificate',
]);

/** A new session id with `.route` appended, as Tomcat does with a jvmRoute; an empty route appends nothing. */
function newSessionCookie(route: string): string {
  const id = randomBytes(16).toString('hex').toUpperCase();
  return `JSESSIONID=${route === '' ? id : `${id}.${route}`}; Path=/; HttpOnly`;
}

/**
 * Parses a listen address: `127.0.0.1:18009`, `[::1]:18009`, `18009` (loopback), and the same
 * with `ajp://` or `http://` (an HTTP listener); port 0 picks a free one. Anything else is a
 * UsageError (AJPBENCH_ERR_TARGET) that says what is wrong, before anything listens; the address
 * after the scheme is read by parseHostPort.
 */
export function parseListenAddress(text: string): HostPort & { protocol: StubProtocol } {
  const bad = (why: string): UsageError =>
    new UsageError(`--listen ${JSON.stringify(text)}: ${why}`, 'AJPBENCH_ERR_TARGET');
  let rest = text.trim();
  let protocol: StubProtocol = 'ajp';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme !== null) {
    const name = (scheme[1] as string).toLowerCase();
    if (name !== 'ajp' && name !== 'http')
      throw bad(`${name}:// is not a listen scheme: use host:port for AJP or http://host:port for HTTP`);
    protocol = name;
    rest = rest.slice(scheme[0].length);
    const slash = rest.indexOf('/');
    if (slash >= 0) {
      if (rest.slice(slash) !== '/') throw bad('a listen address takes no path');
      rest = rest.slice(0, slash);
    }
  }
  return { ...parseHostPort(rest, '--listen', { allowZeroPort: true }), protocol };
}

/** Why a listen failed, in words. */
function listenProblem(e: unknown): string {
  switch (errnoCode(e)) {
    case 'EADDRINUSE':
      return 'the address is in use';
    case 'EADDRNOTAVAIL':
      return 'not an address of this machine';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (ports below 1024 need privileges)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    default:
      return describeFileError(e);
  }
}

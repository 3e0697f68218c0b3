/**
 * A transparent tap for one AJP connector: listens where the web server connects, opens one
 * upstream connection (to Tomcat) per accepted connection, and forwards the bytes both ways
 * unchanged and in order. Decoding into trace events (ConnectionTracer) runs beside the
 * forwarding, after each chunk has been handed to the other socket, and never holds it back.
 *
 * What the two peers see, and why:
 * - Back-pressure: a chunk is written to the other side at once; when write() returns false the
 *   reading side is paused until 'drain' (what stream.pipe does). So the tap holds at most about
 *   one socket high-water mark plus one read per direction, whatever the peers do: a slow reader
 *   slows the writer through TCP, as without the tap.
 * - Half-close: both sockets are allowHalfOpen, and a FIN from one side becomes end() on the
 *   other, so a peer that shuts down its sending side can still read the answer.
 * - RST: a reset (ECONNRESET, EPIPE) on one side is passed on as a reset of the other
 *   (resetAndDestroy: SO_LINGER 0), after what was already read from the resetting side has
 *   been flushed.
 * - Nagle is off on both sides: AJP is request/response, and a delayed small frame (a CPong, an
 *   End Response) would add up to 40 ms to every exchange.
 * - The client is read from the moment it is accepted. Its bytes are queued in the upstream
 *   socket while that connects (with the same back-pressure), and its early close is seen.
 * - Upstream down: a refused, unreachable or silent (connect timeout) upstream resets the
 *   client's connection, as close as a proxy gets to the refusal the web server would have seen.
 * - No idle timeout of its own: idle keep-alive connections live as long as the peers keep them.
 * - TCP keepalive (keepAliveMs): on both sockets of every connection, so that a firewall between
 *   the tap and either peer does not drop a pooled idle connection (mod_jk's socket_keepalive).
 *   The web server's own setting cannot be read from the accepted socket (it is the peer's, and
 *   Node has no getsockopt), so it is set here for both sides alike.
 * - Decoding waits for the forwarding: a chunk is stamped with its arrival time and queued, and
 *   the queue is decoded in a setImmediate, after every socket that was ready in that turn of the
 *   event loop has had its bytes passed on. With many busy connections the decode of one never
 *   holds up the forwarding of another. A decode pass gives the sockets a turn every
 *   TRACE_SLICE_MS, so a tracer that falls behind delays forwarding by about that much at most.
 * - Overload sheds trace work, never traffic: the bytes waiting to be decoded are bounded
 *   (maxTraceBacklogBytes). A chunk that would pass the bound stops the tracing of its connection
 *   (TAP_ERR_TRACE_BEHIND, its trace closed with reason `error` after what was queued, stats
 *   tracesShed); its bytes, and every later one, are forwarded as before.
 * - Tracing never touches the bytes: a decoder or an event sink that throws, even while a
 *   connection is being set up, leaves that connection forwarded untraced (TAP_ERR_DECODER).
 * - On a tracer thread (TapTraceContext.thread, what TapRecorder runs): each chunk is copied into
 *   the thread's batch instead of queued (capture/tracer-thread.ts), and decoded there; the
 *   backlog is what the thread has not acknowledged, shared by the recorder's taps. A drain then
 *   decides from a FrameBoundaryTracker fed on this thread (packet headers only), exact and at once.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { formatHostPort, joinHostPort, type HostPort } from '../host-port.js';
import { checkMaxPacketSize, type Direction } from '../protocol/index.js';
import {
  ConnectionTracer,
  type ConnectionEvent,
  type DetailBytes,
  type ExchangeDetail,
  type TraceEvent,
  type TraceOptions,
} from '../trace/index.js';
import { FrameBoundaryTracker } from './frame-boundary-tracker.js';
import { isResetError, TapListenError, type TapErrorCode } from './tap-errors.js';
import type { TracerThread } from './tracer-thread.js';

/** Wall-clock microseconds since the Unix epoch, advancing monotonically (performance.now based). */
export function nowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** Where a tap's trace events go. Shared by every tap writing one trace, so ids stay unique. */
export interface TapTraceContext {
  options: TraceOptions;
  /** The trace start (header startTimeUs). */
  startUs: number;
  /** Exchange ids. */
  nextId(): number;
  /** Connection numbers. */
  nextConn(): number;
  emit(event: TraceEvent, detail?: ExchangeDetail): void;
  /** Exchanges come with their ExchangeDetail, bodies held up to this many bytes (TracerShared.detailBytes). */
  detailBytes?: DetailBytes;
  /**
   * Decode on this tracer thread instead of on the forwarding thread: its events go to the recorder
   * that started it (TracerThreadOptions.onRecord), not to `emit`, which still takes the tap's own
   * errors. Not with `detailBytes` (a function asked at each Forward Request stays on this thread).
   */
  thread?: TracerThread;
}

export interface TapProxyOptions {
  listen: HostPort;
  upstream: HostPort;
  /** Label put on every event of this tap: the mod_jk worker name pointed at it. */
  worker?: string;
  /** Without it connections are still decoded (stats, draining) but the events go nowhere. */
  trace?: TapTraceContext;
  /** Largest AJP packet, header included (8192-65536), as the connector's packetSize. */
  maxPacketSize?: number;
  /** How long an upstream connect may take before the client is reset; default 10 s. */
  connectTimeoutMs?: number;
  /** TCP keepalive on both sockets of every connection, first probe after this idle time (ms, at least 1000). */
  keepAliveMs?: number;
  /**
   * Bytes forwarded but not yet decoded, all connections (with a tracer thread: of every tap sharing
   * it), past which connections stop being traced; default 64 MiB.
   */
  maxTraceBacklogBytes?: number;
  /** This tap's index in its recorder: the tracer thread labels the events of its connections with it. */
  tapIndex?: number;
  /** Microseconds since the epoch; default nowUs. */
  clock?: () => number;
}

export interface TapStats {
  /** Connections accepted from the web server. */
  connections: number;
  /** Connections open now. */
  open: number;
  bytesToContainer: number;
  bytesToWebServer: number;
  exchanges: number;
  incomplete: number;
  cpings: number;
  /** Trace `error` events: decode errors and the tap's own (TAP_ERR_...). */
  errors: number;
  /** Upstream connects that failed (refused, unreachable, timed out). */
  upstreamFailures: number;
  /** Resets passed on from one side to the other. */
  resets: number;
  /** Bytes the tap holds right now (socket write queues and read buffers, all connections). */
  bufferedBytes: number;
  /** Largest write queue any one socket had after a forwarded chunk: the back-pressure bound in action. */
  peakQueuedBytes: number;
  /** Connections whose tracing was given up because the tracer fell behind (their traffic flowed on). */
  tracesShed: number;
}

export interface TapStopResult {
  /** Connections still busy at the drain deadline, closed with their exchange cut off. */
  cutOff: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_TRACE_BACKLOG_BYTES = 64 * 1024 * 1024;
/** A decode pass hands the event loop back to the sockets after this long. */
const TRACE_SLICE_MS = 4;

/**
 * The longest a timer can wait: Node fires a longer one at once (after 1 ms), so a drain, duration
 * or connect timeout past it would end immediately instead of (nearly) never.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A RangeError unless `ms` is a number of milliseconds a timer can wait (above 0, or 0 too when `zero`). */
export function checkTimerMs(ms: number, name: string, zero = false): number {
  if (!(Number.isFinite(ms) && (zero ? ms >= 0 : ms > 0) && ms <= MAX_TIMER_MS)) {
    throw new RangeError(`${name} must be ${zero ? 'from 0' : 'above 0'} up to ${MAX_TIMER_MS} ms, got ${ms}`);
  }
  return ms;
}
/** A RangeError unless `ms` is a keepalive idle time the kernel takes: whole seconds from 1 s (TCP_KEEPIDLE), up to MAX_TIMER_MS. */
export function checkKeepAliveMs(ms: number): number {
  if (!(Number.isFinite(ms) && ms >= 1000 && ms <= MAX_TIMER_MS))
    throw new RangeError(`keepAliveMs must be from 1000 up to ${MAX_TIMER_MS} ms, got ${ms}`);
  return ms;
}
/** After a reset, how long the other side gets to flush what it was given before it is reset too. */
const RESET_FLUSH_MS = 1000;
const EMPTY = Buffer.alloc(0);

type CloseReason = NonNullable<ConnectionEvent['reason']>;

/** What connections share with their tap. */
interface TapCore {
  readonly upstream: HostPort;
  readonly upstreamText: string;
  readonly worker: string | undefined;
  readonly trace: TapTraceContext;
  readonly maxPacketSize: number | undefined;
  readonly connectTimeoutMs: number;
  readonly keepAliveMs: number | undefined;
  readonly maxTraceBacklogBytes: number;
  readonly tapIndex: number;
  readonly clock: () => number;
  readonly stats: TapStats;
  readonly queue: TraceQueue;
  emit(event: TraceEvent, detail?: ExchangeDetail): void;
  closed(conn: TapConnection): void;
}

type TraceOp = Direction | 'close' | 'shed';

/**
 * Tracer work, in arrival order, run once the current turn's forwarding is done. Only views of
 * chunks already forwarded are held (the tracer never writes to them): `pendingBytes` of them,
 * which the connections keep under their bound by shedding.
 */
class TraceQueue {
  private conns: TapConnection[] = [];
  private ops: TraceOp[] = [];
  private chunks: Buffer[] = [];
  private times: number[] = [];
  /** Entries before this were run (a pass that ran out of time stops in the middle). */
  private head = 0;
  private scheduled = false;
  pendingBytes = 0;

  add(conn: TapConnection, op: TraceOp, chunk: Buffer, timeUs: number): void {
    this.conns.push(conn);
    this.ops.push(op);
    this.chunks.push(chunk);
    this.times.push(timeUs);
    this.pendingBytes += chunk.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.slice);
    }
  }

  /** One pass of at most TRACE_SLICE_MS; what is left waits for the sockets' next turn. */
  private readonly slice = (): void => {
    this.scheduled = false;
    this.runFor(TRACE_SLICE_MS);
  };

  /** Runs everything queued now (before a decision that needs the tracers up to date). */
  readonly run = (): void => {
    this.runFor(Infinity);
  };

  private runFor(budgetMs: number): void {
    const until = budgetMs === Infinity ? Infinity : performance.now() + budgetMs;
    // Work queued while running (a close reported during a decode) runs in this same pass.
    const from = this.head;
    let i = from;
    for (; i < this.conns.length; i++) {
      const chunk = this.chunks[i] as Buffer;
      this.pendingBytes -= chunk.length;
      (this.conns[i] as TapConnection).traceNow(this.ops[i] as TraceOp, chunk, this.times[i] as number);
      if ((i & 15) === 15 && performance.now() > until) {
        i++;
        break;
      }
    }
    if (i < this.conns.length) {
      this.head = i;
      // Drop the references already run, so the chunks can be collected before the rest is done.
      this.chunks.fill(EMPTY, from, i);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.slice);
      }
      return;
    }
    this.head = 0;
    this.conns = [];
    this.ops = [];
    this.chunks = [];
    this.times = [];
  }
}

export class TapProxy {
  private readonly server: Server;
  private readonly connections = new Set<TapConnection>();
  private readonly core: TapCore;
  private readonly listenAt: HostPort;
  private bound: HostPort | undefined;
  private stopping: Promise<TapStopResult> | undefined;
  private allClosed: (() => void) | undefined;
  private cutOff = 0;

  /** Throws a RangeError for an upstream port, packet size or connect timeout no connection could use. */
  constructor(readonly options: TapProxyOptions) {
    // Checked here, once: found at the first accepted connection it would fail every one.
    const port = options.upstream.port;
    if (!(Number.isInteger(port) && port >= 1 && port <= 65535))
      throw new RangeError(`upstream port must be 1-65535, got ${port}`);
    if (options.maxPacketSize !== undefined) checkMaxPacketSize(options.maxPacketSize);
    if (options.connectTimeoutMs !== undefined) checkTimerMs(options.connectTimeoutMs, 'connectTimeoutMs');
    if (options.keepAliveMs !== undefined) checkKeepAliveMs(options.keepAliveMs);
    const backlog = options.maxTraceBacklogBytes;
    if (backlog !== undefined && !(Number.isSafeInteger(backlog) && backlog >= 0))
      throw new RangeError(`maxTraceBacklogBytes must be a whole number ≥ 0, got ${backlog}`);
    this.listenAt = options.listen;
    const stats: TapStats = {
      connections: 0,
      open: 0,
      bytesToContainer: 0,
      bytesToWebServer: 0,
      exchanges: 0,
      incomplete: 0,
      cpings: 0,
      errors: 0,
      upstreamFailures: 0,
      resets: 0,
      bufferedBytes: 0,
      peakQueuedBytes: 0,
      tracesShed: 0,
    };
    const trace = options.trace ?? silentTrace(options.clock ?? nowUs);
    this.core = {
      upstream: options.upstream,
      upstreamText: formatHostPort(options.upstream),
      worker: options.worker,
      trace,
      maxPacketSize: options.maxPacketSize,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      keepAliveMs: options.keepAliveMs,
      maxTraceBacklogBytes: options.maxTraceBacklogBytes ?? DEFAULT_MAX_TRACE_BACKLOG_BYTES,
      tapIndex: options.tapIndex ?? 0,
      clock: options.clock ?? nowUs,
      stats,
      queue: new TraceQueue(),
      emit: (e, detail) => {
        countEvent(stats, e.event);
        trace.emit(e, detail);
      },
      closed: (conn) => {
        this.connections.delete(conn);
        stats.open--;
        if (this.connections.size === 0) this.allClosed?.();
      },
    };
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
  }

  /** Starts listening; rejects with TapListenError (address in use, ...). Resolves to the bound address. */
  start(): Promise<HostPort> {
    return new Promise((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException): void => {
        const where = formatHostPort(this.listenAt);
        reject(new TapListenError(`cannot listen on ${where}: ${listenProblem(err)}`, err.code, where));
      };
      this.server.once('error', fail);
      this.server.listen({ host: this.listenAt.host, port: this.listenAt.port, backlog: 511 }, () => {
        this.server.off('error', fail);
        // Accept errors (EMFILE, ...) after this: recorded, and the server keeps listening.
        this.server.on('error', (err: NodeJS.ErrnoException) => this.acceptError(err));
        const a = this.server.address() as AddressInfo;
        this.bound = { host: a.address, port: a.port };
        // Stopped while the listen was under way: stop() found nothing listening to close.
        if (this.stopping !== undefined) this.server.close();
        resolve(this.bound);
      });
    });
  }

  /** The address listened on (the real port when 0 was asked for). */
  address(): HostPort {
    return this.bound ?? this.listenAt;
  }

  get upstream(): HostPort {
    return this.options.upstream;
  }

  get worker(): string | undefined {
    return this.options.worker;
  }

  /** An event of one of this tap's connections, made on the tracer thread: counted in the stats. */
  counted(kind: TraceEvent['event']): void {
    countEvent(this.core.stats, kind);
  }

  get stats(): TapStats {
    let buffered = 0;
    for (const c of this.connections) buffered += c.bufferedBytes;
    return { ...this.core.stats, bufferedBytes: buffered };
  }

  /**
   * Stops accepting; closes idle connections at once and every other one as soon as its exchange
   * (or CPing) is over; at `drainMs` (default 5000, at most MAX_TIMER_MS) closes what is left,
   * cutting those exchanges off (they are traced as `incomplete`, reason `end`). Resolves once
   * every connection is closed.
   */
  stop(opts: { drainMs?: number } = {}): Promise<TapStopResult> {
    // Clamped, not refused: stop() runs on cleanup paths that must not throw.
    const drainMs = Math.min(MAX_TIMER_MS, Math.max(0, opts.drainMs ?? 5000) || 0);
    this.stopping ??= this.drainAndClose(drainMs);
    return this.stopping;
  }

  /** Ends a drain now: every connection still open is closed (a second Ctrl-C). */
  cutShort(): void {
    for (const c of this.connections) {
      this.cutOff++;
      c.abort();
    }
  }

  private async drainAndClose(drainMs: number): Promise<TapStopResult> {
    if (this.server.listening) this.server.close();
    const closed = new Promise<void>((resolve) => {
      this.allClosed = resolve;
    });
    if (this.connections.size === 0) this.allClosed?.();
    for (const c of this.connections) c.drain();
    const timer = setTimeout(() => this.cutShort(), drainMs);
    await closed;
    clearTimeout(timer);
    return { cutOff: this.cutOff };
  }

  private accept(client: Socket): void {
    if (this.stopping !== undefined || client.remoteAddress === undefined) {
      client.destroy();
      return;
    }
    const stats = this.core.stats;
    let conn: TapConnection;
    try {
      conn = new TapConnection(this.core, client);
    } catch (e) {
      // Not expected (tracing failures are caught inside); still, one connection, not the tap.
      client.destroy();
      this.acceptError(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    stats.connections++;
    stats.open++;
    this.connections.add(conn);
  }

  private acceptError(err: NodeJS.ErrnoException): void {
    try {
      this.core.emit({
        event: 'error',
        t: Math.round(this.core.clock() - this.core.trace.startUs),
        code: 'TAP_ERR_ACCEPT' satisfies TapErrorCode,
        message: `${formatHostPort(this.address())}: ${err.code ?? ''} ${err.message}`.trim(),
      });
    } catch {
      // The event sink failed: the tap keeps listening all the same.
    }
  }
}

/** One accepted connection and its upstream twin. */
class TapConnection {
  private readonly upstream: Socket;
  /** Inline tracing: this connection's tracer, fed by the TraceQueue. */
  private tracer: ConnectionTracer | undefined;
  /** Threaded tracing: the recorder's tracer thread, and what tells this thread whether an exchange is under way. */
  private readonly thread: TracerThread | undefined;
  private readonly frames: FrameBoundaryTracker | undefined;
  private readonly conn: number;
  private connected = false;
  private reason: CloseReason = 'fin';
  private openSockets = 2;
  private draining = false;
  /** Chunks are queued for the tracer (false once it failed or was shed). */
  private traced = false;

  constructor(
    private readonly core: TapCore,
    private readonly client: Socket,
  ) {
    const clientText = joinHostPort(client.remoteAddress ?? '?', client.remotePort ?? 0);
    this.conn = core.trace.nextConn();
    this.thread = core.trace.thread;
    if (this.thread === undefined) this.openTracer(clientText);
    else {
      this.frames = new FrameBoundaryTracker();
      this.handOpen(this.thread, clientText);
    }

    client.setNoDelay(true);
    const keepAlive = core.keepAliveMs;
    if (keepAlive !== undefined) client.setKeepAlive(true, keepAlive);
    const upstream = connect({
      host: core.upstream.host,
      port: core.upstream.port,
      allowHalfOpen: true,
      noDelay: true,
      ...(keepAlive === undefined ? {} : { keepAlive: true, keepAliveInitialDelay: keepAlive }),
    });
    this.upstream = upstream;
    upstream.setTimeout(core.connectTimeoutMs, this.onConnectTimeout);
    upstream.once('connect', () => {
      this.connected = true;
      upstream.setTimeout(0);
    });

    client.on('data', this.onClientData);
    upstream.on('data', this.onUpstreamData);
    // Back-pressure: the reading side was paused when the other side's write queue filled.
    upstream.on('drain', () => client.resume());
    client.on('drain', () => upstream.resume());
    // Half-close: a FIN from one side is passed on as end() of the other.
    client.on('end', () => this.passFin(client, upstream));
    upstream.on('end', () => this.passFin(upstream, client));
    client.on('error', (err: NodeJS.ErrnoException) => this.failed('client', err));
    upstream.on('error', (err: NodeJS.ErrnoException) => this.failed('upstream', err));
    client.on('close', this.onSocketClose);
    upstream.on('close', this.onSocketClose);
  }

  /** Inline: this connection's tracer, here. */
  private openTracer(clientText: string): void {
    const core = this.core;
    try {
      this.tracer = new ConnectionTracer(
        {
          options: core.trace.options,
          startUs: core.trace.startUs,
          nextId: () => core.trace.nextId(),
          emit: (e, detail) => core.emit(e, detail),
          ...(core.trace.detailBytes === undefined ? {} : { detailBytes: core.trace.detailBytes }),
        },
        {
          conn: this.conn,
          client: clientText,
          upstream: core.upstreamText,
          ...(core.worker === undefined ? {} : { worker: core.worker }),
          ...(core.maxPacketSize === undefined ? {} : { maxPacketSize: core.maxPacketSize }),
        },
      );
      this.tracer.open(core.clock());
      this.traced = true;
    } catch (e) {
      // A tracer that cannot start (or a sink that throws): forward untraced.
      this.tracer = undefined;
      this.tapError(
        'TAP_ERR_DECODER',
        `tracing could not start (${e instanceof Error ? e.message : String(e)}); this connection is not traced`,
      );
    }
  }

  /** Threaded: the tracer thread opens this connection's tracer (a failure there is its to report). */
  private handOpen(thread: TracerThread, clientText: string): void {
    const core = this.core;
    thread.open(
      {
        conn: this.conn,
        tap: core.tapIndex,
        client: clientText,
        upstream: core.upstreamText,
        ...(core.worker === undefined ? {} : { worker: core.worker }),
        ...(core.maxPacketSize === undefined ? {} : { maxPacketSize: core.maxPacketSize }),
        backlogBytes: core.maxTraceBacklogBytes,
      },
      core.clock(),
    );
    this.traced = true;
  }

  /** Bytes held by this connection: both write queues and both read buffers. */
  get bufferedBytes(): number {
    const c = this.client;
    const u = this.upstream;
    return c.writableLength + c.readableLength + u.writableLength + u.readableLength;
  }

  // The two forwarding paths: write first, then account and trace. Written out twice rather than
  // shared, so each stays monomorphic and branch-light.
  private readonly onClientData = (chunk: Buffer): void => {
    const to = this.upstream;
    if (to.writableEnded || to.destroyed) {
      this.lateData();
      return;
    }
    if (!to.write(chunk)) this.client.pause();
    const stats = this.core.stats;
    const queued = to.writableLength;
    if (queued > stats.peakQueuedBytes) stats.peakQueuedBytes = queued;
    stats.bytesToContainer += chunk.length;
    this.frames?.push('to-container', chunk);
    if (this.traced) this.hand('to-container', chunk);
    if (this.draining) this.closeIfIdle();
  };

  private readonly onUpstreamData = (chunk: Buffer): void => {
    const to = this.client;
    if (to.writableEnded || to.destroyed) {
      this.lateData();
      return;
    }
    if (!to.write(chunk)) this.upstream.pause();
    const stats = this.core.stats;
    const queued = to.writableLength;
    if (queued > stats.peakQueuedBytes) stats.peakQueuedBytes = queued;
    stats.bytesToWebServer += chunk.length;
    this.frames?.push('to-web-server', chunk);
    if (this.traced) this.hand('to-web-server', chunk);
    if (this.draining) this.closeIfIdle();
  };

  /** Stamp and hand over to the tracer; past the backlog bound, stop tracing this connection instead. */
  private hand(direction: Direction, chunk: Buffer): void {
    const thread = this.thread;
    if (thread !== undefined) {
      if (thread.pendingBytes + chunk.length <= this.core.maxTraceBacklogBytes) {
        thread.chunk(this.conn, direction, chunk, this.core.clock());
        return;
      }
      this.traced = false;
      this.core.stats.tracesShed++;
      thread.shed(this.conn, this.core.clock());
      return;
    }
    const queue = this.core.queue;
    if (queue.pendingBytes + chunk.length <= this.core.maxTraceBacklogBytes) {
      queue.add(this, direction, chunk, this.core.clock());
      return;
    }
    this.traced = false;
    this.core.stats.tracesShed++;
    // Behind what is queued already: the trace gets every byte up to here, then its end.
    queue.add(this, 'shed', EMPTY, this.core.clock());
  }

  /**
   * `from` saw the end of its input. libuv reports a reset that arrives right behind data as an end
   * of input too (POLLHUP after a partial read), so before passing a FIN on, a zero-byte write
   * tells the two apart: it fails with ECONNRESET on a reset socket (and the 'error' handler then
   * passes the reset on) and succeeds on a half-closed one.
   */
  private passFin(from: Socket, to: Socket): void {
    const pass = (): void => {
      if (!to.destroyed && !to.writableEnded) to.end();
    };
    // With bytes still queued to `from`, the probe would wait behind them and delay the FIN: pass it
    // at once; a reset still shows as an error on the queued write.
    if (from.destroyed || from.writableEnded || from.writableLength > 0) {
      pass();
      return;
    }
    from.write(EMPTY, (err) => {
      if (err === undefined || err === null) pass();
    });
  }

  /** The tap is stopping: close as soon as nothing is under way. */
  drain(): void {
    this.draining = true;
    this.closeIfIdle();
  }

  /** The drain deadline passed: close both sides now. */
  abort(): void {
    this.draining = false;
    this.setReason('end');
    this.client.destroy();
    this.upstream.destroy();
  }

  private closeIfIdle(): void {
    const frames = this.frames;
    if (frames !== undefined) {
      if (!frames.busy) this.closeNow();
      return;
    }
    this.core.queue.run(); // the tracer must have seen every byte forwarded so far
    // Without a tracer (the decoder failed) nothing tells an idle connection from a busy one: the deadline decides.
    if (this.tracer === undefined || this.tracer.busy) return;
    this.closeNow();
  }

  private closeNow(): void {
    this.draining = false;
    this.setReason('end');
    // FIN both ways once what is queued has been written, as a container closing an idle connection would.
    this.client.destroySoon();
    this.upstream.destroySoon();
  }

  /** Bytes for a side we already closed (only while stopping): they cannot be delivered, so say so with a reset. */
  private lateData(): void {
    this.setReason('end');
    resetNow(this.client);
    resetNow(this.upstream);
  }

  /** Called by the trace queue, in arrival order: decode a chunk, or close the connection's trace. */
  traceNow(op: TraceOp, chunk: Buffer, timeUs: number): void {
    if (op === 'close') {
      this.finish(timeUs);
      return;
    }
    if (op === 'shed') {
      this.shed(timeUs);
      return;
    }
    try {
      this.tracer?.push(op, chunk, timeUs);
    } catch (e) {
      // A decoder bug must not touch the bytes: stop tracing this connection, keep forwarding.
      this.tracer = undefined;
      this.traced = false;
      this.tapError(
        'TAP_ERR_DECODER',
        `decoder failed (${e instanceof Error ? e.message : String(e)}); this connection is no longer traced`,
      );
    }
  }

  /** The tracer fell behind: this connection's trace ends here (its exchange in progress as incomplete); the bytes go on. */
  private shed(timeUs: number): void {
    const tracer = this.tracer;
    if (tracer === undefined) return;
    this.tracer = undefined;
    this.tapError(
      'TAP_ERR_TRACE_BEHIND',
      `the tracer fell behind (more than ${this.core.maxTraceBacklogBytes} bytes waiting to be decoded); ` +
        'this connection is no longer traced, its bytes still flow',
    );
    try {
      tracer.close('error', timeUs);
    } catch (e) {
      this.tapError('TAP_ERR_DECODER', `decoder failed at close (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  private readonly onConnectTimeout = (): void => {
    if (this.connected) return;
    const err: NodeJS.ErrnoException = new Error(`no answer within ${this.core.connectTimeoutMs} ms`);
    err.code = 'ETIMEDOUT';
    this.failed('upstream', err);
    this.upstream.destroy();
  };

  private failed(side: 'client' | 'upstream', err: NodeJS.ErrnoException): void {
    const stats = this.core.stats;
    if (side === 'upstream' && !this.connected) {
      if (this.reason === 'error') return; // timeout already reported
      stats.upstreamFailures++;
      this.setReason('error');
      this.tapError(
        'TAP_ERR_UPSTREAM_CONNECT',
        `upstream ${this.core.upstreamText}: ${err.code ?? err.message}${err.code === 'ETIMEDOUT' ? ` (${err.message})` : ''}; reset the web server's connection`,
      );
      resetNow(this.client);
      return;
    }
    const other = side === 'client' ? this.upstream : this.client;
    if (isResetError(err)) {
      stats.resets++;
      this.setReason('rst');
      const who = side === 'client' ? 'the web server' : 'the upstream';
      this.tapError(
        side === 'client' ? 'TAP_ERR_CLIENT_RESET' : 'TAP_ERR_UPSTREAM_RESET',
        `${who} reset the connection (${err.code ?? ''}); reset the other side`,
      );
    } else {
      this.setReason('error');
      this.tapError(
        'TAP_ERR_SOCKET',
        `${side === 'client' ? 'web server' : 'upstream'} side: ${err.code ?? ''} ${err.message}; reset the other side`,
      );
    }
    resetAfterFlush(other);
  }

  private readonly onSocketClose = (): void => {
    if (--this.openSockets > 0) return;
    const thread = this.thread;
    if (thread !== undefined) {
      // Handed over behind this connection's chunks; the tap need not wait for the trace to be done.
      if (this.traced) thread.close(this.conn, this.reason, this.core.clock());
      this.core.closed(this);
      return;
    }
    // Behind the chunks still queued for decoding, so the trace sees the bytes before the close.
    this.core.queue.add(this, 'close', EMPTY, this.core.clock());
  };

  private finish(timeUs: number): void {
    try {
      this.tracer?.close(this.reason, timeUs);
    } catch (e) {
      this.tapError('TAP_ERR_DECODER', `decoder failed at close (${e instanceof Error ? e.message : String(e)})`);
    }
    this.core.closed(this);
  }

  private setReason(reason: CloseReason): void {
    // The first abnormal cause wins: a reset after a failed connect is still a failed connect.
    if (this.reason === 'fin') this.reason = reason;
  }

  private tapError(code: TapErrorCode, message: string): void {
    try {
      this.core.emit({
        event: 'error',
        t: Math.round(this.core.clock() - this.core.trace.startUs),
        conn: this.conn,
        code,
        message,
      });
    } catch {
      // The event sink itself failed; the forwarding must not.
    }
  }
}

function countEvent(stats: TapStats, kind: TraceEvent['event']): void {
  if (kind === 'exchange') stats.exchanges++;
  else if (kind === 'incomplete') stats.incomplete++;
  else if (kind === 'cping') stats.cpings++;
  else if (kind === 'error') stats.errors++;
}

/** RST now (a connecting socket is simply dropped). */
function resetNow(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

/**
 * RST once the bytes already handed to this socket are written (they left the other peer before
 * its reset, so they are delivered), or after RESET_FLUSH_MS if the peer does not take them.
 */
function resetAfterFlush(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting || socket.writableLength === 0) {
    resetNow(socket);
    return;
  }
  const timer = setTimeout(() => resetNow(socket), RESET_FLUSH_MS);
  timer.unref(); // a socket destroyed meanwhile must not hold the process for RESET_FLUSH_MS
  const done = (): void => {
    clearTimeout(timer);
    resetNow(socket);
  };
  if (socket.writableEnded) socket.once('finish', done);
  else socket.write(EMPTY, done); // its callback runs after every earlier write has gone out
}

/** Why a listen failed, in words (the tap's and the metrics endpoint's). */
export function listenProblem(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use (EADDRINUSE): another process (Tomcat, httpd, another tap) listens there';
    case 'EADDRNOTAVAIL':
      return 'address not available on this host (EADDRNOTAVAIL)';
    case 'EACCES':
      return 'permission denied (EACCES): ports below 1024 need privileges';
    default:
      return `${err.code ?? ''} ${err.message}`.trim();
  }
}

function silentTrace(clock: () => number): TapTraceContext {
  let id = 0;
  let conn = 0;
  return {
    options: { redact: true, bodies: 'none', maxBody: 0 },
    startUs: clock(),
    nextId: () => ++id,
    nextConn: () => ++conn,
    emit: () => undefined,
  };
}

/**
 * Several taps, one trace: what `ajpbench record` runs. Starts a TapProxy per tap (each labelled
 * with its mod_jk worker name), writes the events of all of them to one TraceOutput, and stops on
 * request, after `durationMs`, or after `maxExchanges` exchanges, draining in-flight exchanges.
 *
 * The trace never slows the forwarding: events go to the output at once while it takes them, are
 * queued while it is full (or still opening), and past `maxQueuedEvents` are dropped and counted: a
 * `dropped` event (how many exchanges and events, from when to when) says so in the trace once the
 * output catches up, and the summary counts them (exchangesDropped, eventsDropped). A failing output (disk
 * full, EIO, a reader gone) stops the trace, not the traffic: it is said once (onWarning), the taps
 * keep accepting and forwarding, and every event is either written or counted as lost.
 *
 * Decoding, assembly, hashing, redaction and serialisation run on one tracer thread shared by the
 * taps (capture/tracer-thread.ts), whose events come back already serialised (SerializedEvent):
 * the forwarding thread only copies chunks into batches, counts and writes lines. Inline (on the
 * forwarding thread, TapProxy's TraceQueue) when asked (`tracer: 'inline'`), when a mirror needs
 * ExchangeDetail (`detailBytes`: asked at each Forward Request, it must run here), or when the
 * worker cannot start (with a warning).
 */
import { version as nodeVersion } from 'node:process';
import { formatHostPort, type HostPort } from '../host-port.js';
import {
  eventOf,
  TRACE_FORMAT,
  TRACE_MINOR_VERSION,
  TRACE_VERSION,
  type DroppedEvent,
  type DetailBytes,
  type ExchangeDetail,
  type TraceEvent,
  type TraceHeader,
  type TraceOptions,
  type TraceOutput,
  type TraceRecord,
} from '../trace/index.js';
import { checkTimerMs, nowUs, TapProxy, type TapStats, type TapTraceContext } from './tap-proxy.js';
import type { TapErrorCode } from './tap-errors.js';
import { TracerThread } from './tracer-thread.js';

export interface TapSpec {
  listen: HostPort;
  upstream: HostPort;
  /** The mod_jk worker name pointed at this tap; every event of the tap carries it. */
  worker?: string;
}

export interface TapRecorderOptions {
  taps: readonly TapSpec[];
  trace: TraceOptions;
  /** The ajpbench that writes the trace, for the header (e.g. "ajpbench 0.1.0"). */
  tool: string;
  /** Opens the trace output once every tap listens (so a tap that cannot listen leaves no file behind). */
  openOutput(header: TraceHeader): Promise<TraceOutput>;
  /** Stop after this many exchanges (at least 1); the trace holds exactly that many. */
  maxExchanges?: number;
  /** Stop after this long: above 0 and at most MAX_TIMER_MS (Node's timers fire at once past it). */
  durationMs?: number;
  /** How long a stop waits for in-flight exchanges, 0 to MAX_TIMER_MS; default 5000. */
  drainMs?: number;
  maxPacketSize?: number;
  connectTimeoutMs?: number;
  /** TCP keepalive on both sides of every connection (TapProxyOptions.keepAliveMs). */
  keepAliveMs?: number;
  /**
   * At stop, how long a full output (a stuck pipe) may take to take the last events and close
   * before the rest of the trace is given up as lost; default 30000.
   */
  flushTimeoutMs?: number;
  /** Events held while the output is full before new ones are dropped; default 100000. */
  maxQueuedEvents?: number;
  /** Microseconds since the epoch; default nowUs. */
  clock?: () => number;
  /** Problems worth a line on stderr (the output failed, events dropped); a hook that throws is ignored. */
  onWarning?: (message: string) => void;
  /**
   * Sees every event the taps produce, as it is produced: before --max-exchanges, the output queue and
   * its drops, so a monitor (metrics, a mirror) counts what was forwarded, not what was written. Runs on
   * the forwarding thread: it must be cheap and must not throw (a throw is caught and said once).
   */
  observe?: TraceObserver;
  /**
   * With `observe`: every exchange event comes with its ExchangeDetail (the unredacted request, both
   * bodies held up to this many bytes), whatever the trace itself keeps. What a mirror needs. A
   * function is asked at each Forward Request (0: no detail for that exchange; see AssemblerContext).
   */
  detailBytes?: DetailBytes;
  /**
   * Awaited at stop once the taps have drained and before the last events are written and the output
   * closed (within `flushTimeoutMs`): a mirror finishing its copies and `append`ing their events.
   */
  beforeClose?: () => Promise<void>;
  /**
   * Where the taps' traffic is decoded: on a tracer thread (default), or `inline` on the forwarding
   * thread. Always inline with `detailBytes` (see the module comment).
   */
  tracer?: 'thread' | 'inline';
  /** The tracer thread's module (TracerThreadOptions.workerUrl): tests give one that cannot load. */
  tracerWorkerUrl?: URL;
  /** Bytes handed to the tracer and not yet decoded, all taps, past which connections stop being traced (TapProxyOptions). */
  maxTraceBacklogBytes?: number;
}

/**
 * A consumer of trace events as they are produced (TapRecorderOptions.observe, ImportOptions.observe).
 * `detail` comes with exchange events when the recorder was asked for it (detailBytes).
 */
export type TraceObserver = (event: TraceEvent, detail?: ExchangeDetail) => void;

export type StopReason = 'stop' | 'signal' | 'duration' | 'max-exchanges';

export interface TapSummary {
  listen: string;
  upstream: string;
  worker?: string;
  stats: TapStats;
}

export interface RecordProgress {
  elapsedMs: number;
  /** Connections open now, all taps. */
  open: number;
  connections: number;
  exchanges: number;
  bytesToContainer: number;
  bytesToWebServer: number;
  errors: number;
}

export interface RecordSummary extends RecordProgress {
  stopReason: StopReason;
  incomplete: number;
  cpings: number;
  upstreamFailures: number;
  resets: number;
  /** Exchanges per label (the worker name, else the listen address). */
  exchangesByLabel: Record<string, number>;
  taps: TapSummary[];
  /** Exchanges given to the trace (at most maxExchanges). */
  exchangesRecorded: number;
  /** Exchanges completed after maxExchanges was reached, during the drain: forwarded, not written. */
  exchangesNotRecorded: number;
  /** Events in the trace (confirmed by the output when it can tell). */
  eventsWritten: number;
  /** Events dropped because the output could not keep up (each run of them is told by a `dropped` event). */
  eventsDropped: number;
  /** Of those, exchanges (`exchange` and `incomplete` events): forwarded, not in the trace. */
  exchangesDropped: number;
  /** Connections whose tracing was given up because the tracer fell behind (all taps). */
  tracesShed: number;
  /** Events that never reached the trace because the output failed (or never opened). */
  eventsLost: number;
  /** Events added beside the taps' (`append`: a mirror's diffs); counted in written, dropped and lost like the rest. */
  eventsAppended: number;
  /** Connections still busy at the drain deadline and cut off. */
  cutOff: number;
  /** Why the output stopped taking events, if it did (the traffic kept flowing). */
  outputError?: string;
}

const DEFAULT_MAX_QUEUED_EVENTS = 100_000;
const DEFAULT_FLUSH_TIMEOUT_MS = 30_000;

export class TapRecorder {
  /** Resolves when the recording has stopped, for whatever reason, and the trace is complete. */
  readonly finished: Promise<RecordSummary>;
  private resolveFinished!: (s: RecordSummary) => void;
  private rejectFinished!: (e: unknown) => void;
  private readonly proxies: TapProxy[];
  private readonly clock: () => number;
  private readonly startUs: number;
  private readonly startedMs = Date.now();
  /** The taps starting and the output opening; a stop that comes meanwhile waits for it. */
  private readonly starting: Promise<void>;
  private output: TraceOutput | undefined;
  private queue: TraceRecord[] = [];
  private waiting: Promise<void> | undefined;
  private readonly maxQueued: number;
  private dropped = 0;
  private exchangesDropped = 0;
  /** Drops not yet told by a `dropped` event: counts and the span of their `t`. */
  private unreported: { events: number; exchanges: number; from: number; to: number } | undefined;
  /** Events the output took (its write() did not throw). */
  private accepted = 0;
  /** Events not given to the output because it had failed or never opened. */
  private lost = 0;
  private exchangesRecorded = 0;
  private exchangesNotRecorded = 0;
  private appended = 0;
  /** The output is closing or closed: appended events can no longer be written. */
  private closed = false;
  private outputError: string | undefined;
  private stopping: Promise<RecordSummary> | undefined;
  private stopReason: StopReason = 'stop';
  private durationTimer: NodeJS.Timeout | undefined;
  private readonly trace: TapTraceContext;
  private thread: TracerThread | undefined;

  private constructor(private readonly opts: TapRecorderOptions) {
    this.finished = new Promise((resolve, reject) => {
      this.resolveFinished = resolve;
      this.rejectFinished = reject;
    });
    this.finished.catch(() => undefined); // a caller may only await stop()
    this.clock = opts.clock ?? nowUs;
    this.startUs = Math.round(this.clock());
    this.maxQueued = opts.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS;
    let id = 0;
    let conn = 0;
    const trace: TapTraceContext = {
      options: opts.trace,
      startUs: this.startUs,
      nextId: () => ++id,
      nextConn: () => ++conn,
      emit: (e, detail) => this.onEvent(e, detail),
      ...(opts.observe !== undefined && opts.detailBytes !== undefined ? { detailBytes: opts.detailBytes } : {}),
    };
    this.trace = trace;
    if (opts.tracer !== 'inline' && trace.detailBytes === undefined) {
      this.thread = this.startThread();
      if (this.thread !== undefined) trace.thread = this.thread;
    }
    this.proxies = opts.taps.map(
      (t, i) =>
        new TapProxy({
          listen: t.listen,
          upstream: t.upstream,
          ...(t.worker === undefined ? {} : { worker: t.worker }),
          trace,
          ...(opts.maxPacketSize === undefined ? {} : { maxPacketSize: opts.maxPacketSize }),
          ...(opts.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: opts.connectTimeoutMs }),
          ...(opts.keepAliveMs === undefined ? {} : { keepAliveMs: opts.keepAliveMs }),
          ...(opts.maxTraceBacklogBytes === undefined ? {} : { maxTraceBacklogBytes: opts.maxTraceBacklogBytes }),
          tapIndex: i,
          clock: this.clock,
        }),
    );
    this.starting = this.begin();
    this.starting.catch(() => undefined); // start() hands the failure on
  }

  /** The tracer thread, or undefined (with a warning) if it cannot be created: tracing inline then. */
  private startThread(): TracerThread | undefined {
    try {
      return new TracerThread({
        options: this.opts.trace,
        startUs: this.startUs,
        observe: this.opts.observe !== undefined,
        ...(this.opts.tracerWorkerUrl === undefined ? {} : { workerUrl: this.opts.tracerWorkerUrl }),
        onRecord: (tap, record, event) => {
          this.proxies[tap]?.counted(record.event);
          this.onEvent(record, undefined, event);
        },
        onFailure: (message) =>
          this.warn(`${message}; traffic keeps flowing, nothing more is traced (recorded so far is kept)`),
      });
    } catch (e) {
      this.warn(this.inlineFallback(e));
      return undefined;
    }
  }

  private inlineFallback(why: unknown): string {
    return `the tracer thread could not start (${why instanceof Error ? why.message : String(why)}); tracing on the forwarding thread instead`;
  }

  /** Where the traffic is decoded (TapRecorderOptions.tracer), once started. */
  get tracerMode(): 'thread' | 'inline' {
    return this.thread === undefined ? 'inline' : 'thread';
  }

  /**
   * Holds the tracer thread before its next batch until the returned function is called (a tracer
   * slowed on purpose: tests and the bench of the shedding); undefined when tracing inline.
   */
  holdTracer(): (() => void) | undefined {
    return this.thread?.hold();
  }

  /**
   * Listens on every tap, then opens the output. Rejects with the first TapListenError (after
   * closing the taps that did start), or with the output's error. Throws a RangeError for options
   * that cannot be honoured (a duration a timer cannot wait, no taps).
   */
  static async start(opts: TapRecorderOptions): Promise<TapRecorder> {
    checkOptions(opts);
    const r = new TapRecorder(opts);
    await r.starting;
    return r;
  }

  /**
   * The taps listen first, so a tap that cannot listen leaves no file behind. Events that come
   * while the output opens are queued; a stop meanwhile (--max-exchanges reached) waits for the
   * opening, then writes them and closes the output.
   */
  private async begin(): Promise<void> {
    const thread = this.thread;
    // Before any connection is accepted: one that started threaded would stay so.
    if (thread !== undefined && !(await thread.ready)) {
      this.warn(this.inlineFallback(thread.failed ?? 'it exited at once'));
      this.thread = undefined;
      this.trace.thread = undefined;
      void thread.stop();
    }
    const started = await Promise.allSettled(this.proxies.map((p) => p.start()));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) {
      await this.abandon();
      throw failed.reason;
    }
    const duration = this.opts.durationMs;
    if (duration !== undefined && this.stopping === undefined)
      this.durationTimer = setTimeout(() => void this.stop('duration'), duration);
    let output: TraceOutput;
    try {
      output = await this.opts.openOutput(this.header());
    } catch (e) {
      this.outputFailed(e, false); // the caller of start() reports it
      await this.abandon();
      throw e;
    }
    this.output = output;
    output.onFailure?.((err) => this.outputFailed(err));
    this.writeQueued();
  }

  /** Start failed: no timer left behind, every tap closed. */
  private async abandon(): Promise<void> {
    clearTimeout(this.durationTimer);
    await Promise.all(this.proxies.map((p) => p.stop({ drainMs: 0 })));
    await this.thread?.stop();
  }

  /** The trace's start (the header's startTimeUs): every event's `t` counts from it. */
  get startTimeUs(): number {
    return this.startUs;
  }

  /** The bound address of each tap, in the order given. */
  addresses(): HostPort[] {
    return this.proxies.map((p) => p.address());
  }

  get progress(): RecordProgress {
    const p: RecordProgress = {
      elapsedMs: Date.now() - this.startedMs,
      open: 0,
      connections: 0,
      exchanges: 0,
      bytesToContainer: 0,
      bytesToWebServer: 0,
      errors: 0,
    };
    for (const proxy of this.proxies) {
      const s = proxy.stats;
      p.open += s.open;
      p.connections += s.connections;
      p.exchanges += s.exchanges;
      p.bytesToContainer += s.bytesToContainer;
      p.bytesToWebServer += s.bytesToWebServer;
      p.errors += s.errors;
    }
    return p;
  }

  /** Per-tap stats, live. */
  get taps(): TapSummary[] {
    return this.proxies.map((p) => ({
      listen: formatHostPort(p.address()),
      upstream: formatHostPort(p.upstream),
      ...(p.worker === undefined ? {} : { worker: p.worker }),
      stats: p.stats,
    }));
  }

  /**
   * Stops accepting, drains in-flight exchanges (up to drainMs), writes every pending event,
   * closes the output. Safe to call more than once; every call gets the same summary.
   */
  stop(reason: StopReason = 'stop'): Promise<RecordSummary> {
    if (this.stopping === undefined) {
      this.stopReason = reason;
      this.stopping = this.shutDown();
      this.stopping.then(this.resolveFinished, this.rejectFinished);
    }
    return this.stopping;
  }

  /** During a stop: give up waiting for in-flight exchanges (a second Ctrl-C). */
  cutShort(): void {
    for (const p of this.proxies) p.cutShort();
  }

  private async shutDown(): Promise<RecordSummary> {
    clearTimeout(this.durationTimer);
    const drainMs = this.opts.drainMs ?? 5000;
    const results = await Promise.all(this.proxies.map((p) => p.stop({ drainMs })));
    await this.starting.catch(() => undefined); // the output may still be opening
    const flushMs = this.opts.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS;
    const deadline = Date.now() + flushMs;
    const thread = this.thread;
    if (thread !== undefined) {
      // The tracer's last results (every connection is closed now: their closes are handed over).
      if (!(await beforeDeadline(thread.settled(), deadline)))
        this.warn(`the tracer thread did not finish within ${flushMs / 1000} s; the rest of the trace is lost`);
      await thread.stop();
    }
    if (this.opts.beforeClose !== undefined) {
      // What it has not appended by the deadline is not waited for: the trace must close.
      const settling = this.opts.beforeClose();
      settling.catch(() => undefined);
      await beforeDeadline(settling, deadline).catch((e: unknown) =>
        this.warn(`finishing before the close failed: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
    await this.flushQueue(deadline, flushMs);
    this.closed = true;
    if (this.output !== undefined) {
      // Closed even after a failure (a failed file still holds a descriptor), but never waited on
      // past the deadline: a stuck pipe must not hold the stop forever.
      const closing = this.output.close();
      const closed = await beforeDeadline(closing, deadline).catch((e: unknown) => {
        this.outputFailed(e);
        return true;
      });
      if (!closed) {
        closing.catch(() => undefined);
        this.outputFailed(new Error(`the output did not finish within ${flushMs / 1000} s`));
      }
    }
    return this.summary(results.reduce((n, r) => n + r.cutOff, 0));
  }

  /** Writes everything queued; an output that stays full (a stuck pipe) is given up at `deadline`. */
  private async flushQueue(deadline: number, flushMs: number): Promise<void> {
    if (this.output === undefined) {
      // Never opened (start failed): nothing queued can be written.
      this.lost += this.queue.length;
      this.queue = [];
      return;
    }
    while (this.outputError === undefined && (this.waiting !== undefined || this.queue.length > 0)) {
      if (this.waiting === undefined) this.writeQueued();
      const wait = this.waiting;
      if (wait === undefined) continue;
      if (!(await beforeDeadline(wait, deadline)))
        this.outputFailed(new Error(`the output did not take the last events within ${flushMs / 1000} s`));
    }
  }

  /**
   * Adds an event made beside the taps (a mirror's `diff`) to the trace, through the same queue and
   * bounds as the taps' own: written, dropped (output too slow) or lost (output failed, or closed
   * already) and counted as such. It is not shown to `observe`.
   */
  append(e: TraceEvent): void {
    this.appended++;
    if (this.closed) {
      this.lost++;
      return;
    }
    this.enqueue(e);
  }

  /** `object`: the event as an object when `e` came serialised from the tracer thread (with an observer). */
  private onEvent(e: TraceRecord, detail?: ExchangeDetail, object?: TraceEvent): void {
    if (this.opts.observe !== undefined) this.observeEvent(this.opts.observe, object ?? eventOf(e), detail);
    if (e.event === 'exchange') {
      const max = this.opts.maxExchanges;
      if (max !== undefined && this.exchangesRecorded >= max) {
        this.exchangesNotRecorded++;
        return;
      }
      this.exchangesRecorded++;
      if (max !== undefined && this.exchangesRecorded >= max) queueMicrotask(() => void this.stop('max-exchanges'));
    }
    this.enqueue(e);
  }

  private observerFailed = false;

  private observeEvent(observe: TraceObserver, e: TraceEvent, detail: ExchangeDetail | undefined): void {
    try {
      observe(e, detail);
    } catch (err) {
      // A monitor's bug must not touch the recording or the traffic.
      if (this.observerFailed) return;
      this.observerFailed = true;
      this.warn(`an event observer failed (${err instanceof Error ? err.message : String(err)}); recording goes on`);
    }
  }

  private enqueue(e: TraceRecord): void {
    if (this.outputError !== undefined) {
      this.lost++;
      return;
    }
    if (this.output === undefined || this.waiting !== undefined) {
      if (this.queue.length >= this.maxQueued) {
        this.drop(e);
        return;
      }
      this.queue.push(e);
      return;
    }
    this.writeOne(e);
  }

  /** Only while the output is open and has room (enqueue and writeQueued see to it). */
  private writeOne(e: TraceRecord): void {
    const out = this.output as TraceOutput;
    let wait: Promise<void> | undefined;
    try {
      wait = out.write(e);
      this.accepted++;
    } catch (err) {
      this.lost++;
      this.outputFailed(err);
      return;
    }
    if (wait !== undefined) {
      this.waiting = wait.then(
        () => {
          this.waiting = undefined;
          this.writeQueued();
        },
        (err: unknown) => {
          this.waiting = undefined;
          this.outputFailed(err);
        },
      );
    }
  }

  /** Writes queued events until the output is full again. */
  private writeQueued(): void {
    if (this.output === undefined || this.outputError !== undefined) return; // still opening, or failed (nothing queued)
    const q = this.queue;
    this.queue = [];
    let i = 0;
    for (; i < q.length && this.waiting === undefined && this.outputError === undefined; i++)
      this.writeOne(q[i] as TraceRecord);
    if (i < q.length) {
      if (this.outputError !== undefined) this.lost += q.length - i;
      else this.queue = q.slice(i);
      return;
    }
    const u = this.unreported;
    if (u !== undefined && this.waiting === undefined) {
      this.unreported = undefined;
      const event: DroppedEvent = {
        event: 'dropped',
        t: Math.round(this.clock() - this.startUs),
        code: 'TAP_ERR_TRACE_BEHIND' satisfies TapErrorCode,
        exchanges: u.exchanges,
        events: u.events,
        from: u.from,
        to: u.to,
      };
      this.warn(
        `the trace output fell behind: ${u.exchanges} exchange(s), ${u.events} event(s) dropped between ` +
          `${(u.from / 1e6).toFixed(3)} s and ${(u.to / 1e6).toFixed(3)} s (forwarding is never slowed for the trace)`,
      );
      this.writeOne(event);
    }
  }

  /** An event past the bound: counted, and its span kept for the next `dropped` event. */
  private drop(e: TraceRecord): void {
    const exchange = e.event === 'exchange' || e.event === 'incomplete' ? 1 : 0;
    this.dropped++;
    this.exchangesDropped += exchange;
    const u = this.unreported;
    if (u === undefined) this.unreported = { events: 1, exchanges: exchange, from: e.t, to: e.t };
    else {
      u.events++;
      u.exchanges += exchange;
      if (e.t < u.from) u.from = e.t;
      if (e.t > u.to) u.to = e.t;
    }
  }

  /** Trace work dropped so far (live): what the bench reads. */
  get dropCounts(): { exchangesDropped: number; eventsDropped: number } {
    return { exchangesDropped: this.exchangesDropped, eventsDropped: this.dropped };
  }

  /** The first failure of the output: said once; what is queued and everything after is lost, the traffic is not. */
  private outputFailed(err: unknown, warn = true): void {
    if (this.outputError !== undefined) return;
    this.outputError = err instanceof Error ? err.message : String(err);
    this.lost += this.queue.length;
    this.queue = [];
    if (warn)
      this.warn(`the trace output failed (${this.outputError}); traffic keeps flowing, nothing more is recorded`);
  }

  private warn(message: string): void {
    try {
      this.opts.onWarning?.(message);
    } catch {
      // A warning that cannot be shown must not touch the recording.
    }
  }

  private header(): TraceHeader {
    return {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      minorVersion: TRACE_MINOR_VERSION,
      tool: `${this.opts.tool} (node ${nodeVersion})`,
      source: {
        kind: 'tap',
        taps: this.proxies.map((p) => ({
          listen: formatHostPort(p.address()),
          upstream: formatHostPort(p.upstream),
          ...(p.worker === undefined ? {} : { worker: p.worker }),
        })),
      },
      startTime: new Date(Math.floor(this.startUs / 1000)).toISOString(),
      startTimeUs: this.startUs,
      options: this.opts.trace,
    };
  }

  private summary(cutOff: number): RecordSummary {
    const taps = this.taps;
    // Taken but not confirmed by a failed output are lost too; an output that cannot tell confirms all it took.
    const written = this.output === undefined ? 0 : Math.min(this.accepted, this.output.written ?? this.accepted);
    const s: RecordSummary = {
      ...this.progress,
      stopReason: this.stopReason,
      incomplete: 0,
      cpings: 0,
      upstreamFailures: 0,
      resets: 0,
      exchangesByLabel: {},
      taps,
      exchangesRecorded: this.exchangesRecorded,
      exchangesNotRecorded: this.exchangesNotRecorded,
      eventsWritten: written,
      eventsDropped: this.dropped,
      exchangesDropped: this.exchangesDropped,
      tracesShed: 0,
      eventsLost: this.lost + this.accepted - written,
      eventsAppended: this.appended,
      cutOff,
      ...(this.outputError === undefined ? {} : { outputError: this.outputError }),
    };
    for (const t of taps) {
      s.incomplete += t.stats.incomplete;
      s.cpings += t.stats.cpings;
      s.upstreamFailures += t.stats.upstreamFailures;
      s.resets += t.stats.resets;
      s.tracesShed += t.stats.tracesShed;
      const label = t.worker ?? t.listen;
      s.exchangesByLabel[label] = (s.exchangesByLabel[label] ?? 0) + t.stats.exchanges;
    }
    return s;
  }
}

/** Whether `p` settled (true) or `deadline` (Date.now() ms) passed first (false); rejects as `p` does. */
async function beforeDeadline(p: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function checkOptions(o: TapRecorderOptions): void {
  if (o.taps.length === 0) throw new RangeError('at least one tap is needed');
  if (o.durationMs !== undefined) checkTimerMs(o.durationMs, 'durationMs');
  if (o.drainMs !== undefined) checkTimerMs(o.drainMs, 'drainMs', true);
  if (o.flushTimeoutMs !== undefined) checkTimerMs(o.flushTimeoutMs, 'flushTimeoutMs');
  if (o.maxExchanges !== undefined && !(Number.isSafeInteger(o.maxExchanges) && o.maxExchanges >= 1)) {
    throw new RangeError(`maxExchanges must be a whole number ≥ 1, got ${o.maxExchanges}`);
  }
  if (o.maxQueuedEvents !== undefined && !(Number.isSafeInteger(o.maxQueuedEvents) && o.maxQueuedEvents >= 0)) {
    throw new RangeError(`maxQueuedEvents must be a whole number ≥ 0, got ${o.maxQueuedEvents}`);
  }
}

/**
 * Where the schedulers take requests from. TraceRequestSource streams a trace file with a bounded
 * read-ahead, so a trace of millions of exchanges is replayed in constant memory; `next()` is
 * synchronous (the hot path never awaits a file read) and only when the read-ahead runs dry does
 * a scheduler wait. With `loop`, a trace that fits `cacheLimit` is cycled in memory (encoded once);
 * a larger one is read again from the start for each pass.
 *
 * Recorded timing needs exchanges in Forward Request order, while a trace lists them in the order
 * they completed: `orderWindow` keeps that many in a heap and hands out the earliest first.
 */
import { exchangeProblem } from '../trace/exchange-shape.js';
import { MinHeap } from '../trace/min-heap.js';
import {
  openTrace,
  type ExchangeEvent,
  type OpenTrace,
  type TraceEvent,
  type TraceFormatError,
  type TraceReadOptions,
} from '../trace/index.js';
import { toReplayRequest, type ReplayRequest, type RewriteOptions } from './replay-request.js';
import type { RequestResult } from './request-result.js';

/** Skipped exchanges and lines listed one by one (through onIssue) up to this many of each; the rest are counted. */
const LISTED_SKIPS = 5;

export interface RequestSource {
  /** The next request, or undefined when none is ready (see `exhausted` and `waitForMore`). */
  next(): ReplayRequest | undefined;
  /** Which pass over the trace the last `next()` came from (0 = first). */
  readonly loop: number;
  /** Nothing more will ever come. */
  readonly exhausted: boolean;
  /** Resolves when more requests may be ready or the source is exhausted. */
  waitForMore(): Promise<void>;
  /** Earliest recorded time (µs) of the first pass; 0 until known. */
  readonly firstT: number;
  /** Recorded time one pass spans (µs, including one mean gap); undefined until the first pass was read. */
  readonly passSpanUs: number | undefined;
  close(): void;
  /**
   * A source whose requests depend on earlier ones (--sessions, load/session-source.ts): told of
   * every request that ended or was dropped, before the scheduler takes its next request.
   */
  ended?(req: ReplayRequest, rec: RequestResult): void;
  /** Takes back a request from next() that was not yet due, so that one that became ready since may go first. */
  putBack?(req: ReplayRequest): void;
  /** With putBack: resolves when a request ends (another may have become ready). */
  nextEnded?(): Promise<void>;
}

export interface TraceSourceOptions {
  loop?: boolean;
  rewrite?: RewriteOptions;
  /** Cycle in memory when a pass has at most this many exchanges (default 100 000). */
  cacheLimit?: number;
  /** Reorder by recorded time within this many exchanges (0: file order). */
  orderWindow?: number;
  /** Read-ahead (default 2048 requests). */
  highWater?: number;
  /** The longest trace line read (see TraceReadOptions); a longer one is skipped as unreadable. */
  maxLineBytes?: number;
  /** Exchanges that could not be turned into requests and lines that could not be read, with why (the first few of each). */
  onIssue?: (message: string) => void;
  /**
   * Exchanges a damaged capture holds only in part (`truncated`, trace minor 1) are skipped and
   * counted unless this is set; then they are replayed as far as known, except those whose method
   * or URI was not wholly captured (nothing to send).
   */
  includeTruncated?: boolean;
  /**
   * --workers: this worker takes requests number offset, offset + every, offset + 2 × every ... of
   * the stream a single thread would send, so N workers together send exactly its requests.
   */
  stride?: { every: number; offset: number };
}

/** What the first pass over the trace skipped (a looped trace counts once). */
export interface TraceSkips {
  /** Exchange events with a field missing or of the wrong type (inspect counts them as malformed). */
  skippedExchanges: number;
  /** Lines that are not JSON, not an event, or longer than the line bound (inspect's unreadable lines). */
  unreadableLines: number;
  firstUnreadableLine: number | null;
}

export class TraceRequestSource implements RequestSource {
  loop = 0;
  firstT = 0;
  passSpanUs: number | undefined;
  /** Exchanges in one pass (known after the first pass). */
  perPass: number | undefined;
  /** Malformed exchanges skipped in the first pass. */
  skipped = 0;
  /** Truncated exchanges skipped in the first pass (see TraceSourceOptions.includeTruncated). */
  skippedTruncated = 0;
  private unreadable = 0;
  private firstUnreadable: number | null = null;
  private readonly queue: (ReplayRequest | undefined)[] = [];
  private readonly queueLoops: number[] = [];
  private head = 0;
  private readonly heap = new MinHeap<ReplayRequest>((a, b) => a.t < b.t);
  private memory: ReplayRequest[] | undefined;
  private memoryIndex = 0;
  private pumpDone = false;
  private stopped = false;
  private readonly waiters: (() => void)[] = [];
  private space: (() => void) | undefined;
  private readonly highWater: number;
  private readonly orderWindow: number;
  private strideSkip: number;

  private constructor(
    private readonly path: string,
    private readonly opts: TraceSourceOptions,
  ) {
    this.highWater = opts.highWater ?? 2048;
    this.orderWindow = opts.orderWindow ?? 0;
    this.strideSkip = opts.stride?.offset ?? 0;
  }

  /** Opens the trace and checks its header (throws TraceFormatError or a file error); reading starts at once. */
  static async open(path: string, opts: TraceSourceOptions = {}): Promise<TraceRequestSource> {
    // eslint-disable-next-line prefer-const -- assigned after the callback that reads it is created
    let src: TraceRequestSource | undefined;
    // Issues come only while events are read, after the header: the source exists by then.
    const first = await openTrace(
      path,
      readOptions(opts, (e) => src?.unreadableLine(e)),
    );
    src = new TraceRequestSource(path, opts);
    void src.pump(first).catch((e: unknown) => {
      opts.onIssue?.(`reading the trace stopped: ${(e as Error).message}`);
      src.finish();
    });
    return src;
  }

  /** What the first pass skipped, for the report. */
  skips(): TraceSkips {
    return {
      skippedExchanges: this.skipped,
      unreadableLines: this.unreadable,
      firstUnreadableLine: this.firstUnreadable,
    };
  }

  /** One line for the report's warnings, or undefined when nothing was skipped. */
  skipNote(): string | undefined {
    const parts: string[] = [];
    const n = (k: number, one: string, many: string): string => `${k} ${k === 1 ? one : many}`;
    if (this.skipped > 0)
      parts.push(
        `${n(this.skipped, 'malformed exchange', 'malformed exchanges')} (a field missing or of the wrong type)`,
      );
    if (this.skippedTruncated > 0)
      parts.push(
        `${n(this.skippedTruncated, 'truncated exchange', 'truncated exchanges')} (the capture lacked bytes of ${this.skippedTruncated === 1 ? 'it' : 'them'}; ${this.opts.includeTruncated === true ? 'method or URI not captured' : '--include-truncated replays what is known'})`,
      );
    if (this.unreadable > 0)
      parts.push(
        `${n(this.unreadable, 'unreadable line', 'unreadable lines')} (first: line ${this.firstUnreadable ?? '?'})`,
      );
    return parts.length === 0 ? undefined : `skipped ${parts.join(' and ')} of the trace`;
  }

  get exhausted(): boolean {
    return this.pumpDone && this.head >= this.queue.length && this.heap.size === 0 && this.memory === undefined;
  }

  next(): ReplayRequest | undefined {
    const every = this.opts.stride?.every ?? 1;
    if (every <= 1) return this.nextOfAll();
    // Requests before this worker's next one: the offset at first, then every - 1 (kept across waits).
    for (;;) {
      const req = this.nextOfAll();
      if (req === undefined) return undefined;
      if (this.strideSkip > 0) {
        this.strideSkip--;
        continue;
      }
      this.strideSkip = every - 1;
      return req;
    }
  }

  private nextOfAll(): ReplayRequest | undefined {
    if (this.head < this.queue.length) {
      const req = this.queue[this.head];
      this.loop = this.queueLoops[this.head] as number;
      this.queue[this.head] = undefined;
      this.head++;
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue.splice(0, this.head);
        this.queueLoops.splice(0, this.head);
        this.head = 0;
      }
      if (this.space !== undefined && this.queue.length - this.head < this.highWater / 2) {
        const s = this.space;
        this.space = undefined;
        s();
      }
      return req;
    }
    const m = this.memory;
    if (m !== undefined && m.length > 0) {
      const i = this.memoryIndex++;
      this.loop = 1 + Math.floor(i / m.length);
      return m[i % m.length];
    }
    return undefined;
  }

  waitForMore(): Promise<void> {
    if (this.exhausted || this.head < this.queue.length || this.memory !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.stopped = true;
    this.memory = undefined;
    this.finish();
    this.space?.();
  }

  private async pump(first: OpenTrace): Promise<void> {
    const cacheLimit = this.opts.cacheLimit ?? 100_000;
    let cache: ReplayRequest[] | undefined = this.opts.loop === true ? [] : undefined;
    for (let pass = 0; !this.stopped; pass++) {
      // Later passes read the same lines again: only the first one counts and lists what it skips.
      const events: AsyncIterable<TraceEvent> =
        pass === 0 ? first.events : (await openTrace(this.path, readOptions(this.opts))).events;
      let count = 0;
      let minT = Infinity;
      let maxT = -Infinity;
      for await (const ev of events) {
        if (this.stopped) return;
        if (ev.event !== 'exchange' || this.leaveOut(ev, pass)) continue;
        const req = this.convert(ev, pass);
        if (req === undefined) continue;
        count++;
        if (pass === 0) {
          if (req.t < minT) minT = req.t;
          if (req.t > maxT) maxT = req.t;
          if (cache !== undefined) {
            cache.push(req);
            if (cache.length > cacheLimit) cache = undefined;
          }
        }
        this.add(req, pass);
        if (this.queue.length - this.head >= this.highWater) await new Promise<void>((r) => (this.space = r));
      }
      while (this.heap.size > 0) this.push(this.heap.pop() as ReplayRequest, pass);
      if (pass === 0) {
        this.perPass = count;
        if (count === 0) break;
        this.firstT = minT;
        const span = maxT - minT;
        this.passSpanUs = span + (count > 1 ? span / (count - 1) : 1_000_000);
        if (this.opts.loop !== true) break;
        if (cache !== undefined) {
          if (this.orderWindow > 0) cache.sort((a, b) => a.t - b.t);
          this.memory = cache;
          this.signal();
          break;
        }
      }
    }
    this.finish();
  }

  /** A truncated exchange left out (and counted in the first pass): see TraceSourceOptions.includeTruncated. */
  private leaveOut(ev: ExchangeEvent, pass: number): boolean {
    const t = (ev as { truncated?: { request?: unknown } }).truncated;
    if (t === undefined || t === null) return false;
    if (this.opts.includeTruncated === true && sendable(t.request, ev.request?.method)) return false;
    if (pass === 0) this.skippedTruncated++;
    return true;
  }

  /** The request of an exchange, or undefined (counted, and listed while few) when a field is missing or of the wrong type. */
  private convert(ev: ExchangeEvent, pass: number): ReplayRequest | undefined {
    // The same check as inspect's: its malformed count is what replay skips.
    let problem = exchangeProblem(ev);
    if (problem === undefined) {
      try {
        return toReplayRequest(ev, this.opts.rewrite);
      } catch (e) {
        // A value in range for the trace but not for a replay (a body too long to pad).
        problem = (e as Error).message;
      }
    }
    if (pass > 0) return undefined;
    this.skipped++;
    const id = typeof ev.id === 'number' ? String(ev.id) : '?';
    this.list(this.skipped, `exchange ${id} skipped: ${problem}`, 'malformed exchanges');
    return undefined;
  }

  private unreadableLine(e: TraceFormatError): void {
    this.unreadable++;
    this.firstUnreadable ??= e.line;
    this.list(this.unreadable, e.message, 'unreadable lines');
  }

  /** The first few skips one by one, then one line that says the rest are only counted. */
  private list(nth: number, message: string, what: string): void {
    if (nth <= LISTED_SKIPS) this.opts.onIssue?.(message);
    else if (nth === LISTED_SKIPS + 1) this.opts.onIssue?.(`more ${what} follow: counted in the summary, not listed`);
  }

  private add(req: ReplayRequest, pass: number): void {
    if (this.orderWindow <= 0) return this.push(req, pass);
    this.heap.push(req);
    if (this.heap.size > this.orderWindow) this.push(this.heap.pop() as ReplayRequest, pass);
  }

  private push(req: ReplayRequest, pass: number): void {
    this.queue.push(req);
    this.queueLoops.push(pass);
    this.signal();
  }

  private signal(): void {
    if (this.waiters.length === 0) return;
    for (const w of this.waiters.splice(0)) w();
  }

  private finish(): void {
    this.pumpDone = true;
    this.signal();
  }
}

function readOptions(opts: TraceSourceOptions, onIssue?: (e: TraceFormatError) => void): TraceReadOptions {
  const read: TraceReadOptions = {};
  if (opts.maxLineBytes !== undefined) read.maxLineBytes = opts.maxLineBytes;
  if (onIssue !== undefined) read.onIssue = onIssue;
  return read;
}

/** A fixed list of requests (tests, programmatic use). */
export class ArrayRequestSource implements RequestSource {
  loop = 0;
  private i = 0;
  readonly firstT: number;
  readonly passSpanUs: number | undefined;

  constructor(
    private readonly requests: ReplayRequest[],
    private readonly cycle = false,
  ) {
    const ts = requests.map((r) => r.t);
    this.firstT = ts.length === 0 ? 0 : Math.min(...ts);
    const span = ts.length === 0 ? 0 : Math.max(...ts) - this.firstT;
    this.passSpanUs = span + (ts.length > 1 ? span / (ts.length - 1) : 1_000_000);
  }

  get exhausted(): boolean {
    return this.requests.length === 0 || (!this.cycle && this.i >= this.requests.length);
  }

  next(): ReplayRequest | undefined {
    if (this.exhausted) return undefined;
    const n = this.requests.length;
    this.loop = Math.floor(this.i / n);
    return this.requests[this.i++ % n];
  }

  waitForMore(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}
}

/** A truncated request can be sent when its method and URI were wholly captured. */
function sendable(cut: unknown, method: unknown): boolean {
  return cut !== 'method' && cut !== 'protocol' && cut !== 'uri' && typeof method === 'string' && method !== '';
}

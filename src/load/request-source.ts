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
import { openTrace, type ExchangeEvent, type OpenTrace, type TraceEvent } from '../trace/index.js';
import { toReplayRequest, type ReplayRequest, type RewriteOptions } from './replay-request.js';

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
  /** Exchanges that could not be turned into requests (malformed lines), with why. */
  onIssue?: (message: string) => void;
}

export class TraceRequestSource implements RequestSource {
  loop = 0;
  firstT = 0;
  passSpanUs: number | undefined;
  /** Exchanges in one pass (known after the first pass). */
  perPass: number | undefined;
  skipped = 0;
  private readonly queue: (ReplayRequest | undefined)[] = [];
  private readonly queueLoops: number[] = [];
  private head = 0;
  private readonly heap: ReplayRequest[] = [];
  private memory: ReplayRequest[] | undefined;
  private memoryIndex = 0;
  private pumpDone = false;
  private stopped = false;
  private readonly waiters: (() => void)[] = [];
  private space: (() => void) | undefined;
  private readonly highWater: number;
  private readonly orderWindow: number;

  private constructor(
    private readonly path: string,
    private readonly opts: TraceSourceOptions,
  ) {
    this.highWater = opts.highWater ?? 2048;
    this.orderWindow = opts.orderWindow ?? 0;
  }

  /** Opens the trace and checks its header (throws TraceFormatError or a file error); reading starts at once. */
  static async open(path: string, opts: TraceSourceOptions = {}): Promise<TraceRequestSource> {
    const first = await openTrace(path);
    const src = new TraceRequestSource(path, opts);
    void src.pump(first).catch((e: unknown) => {
      opts.onIssue?.(`reading the trace stopped: ${(e as Error).message}`);
      src.finish();
    });
    return src;
  }

  get exhausted(): boolean {
    return this.pumpDone && this.head >= this.queue.length && this.heap.length === 0 && this.memory === undefined;
  }

  next(): ReplayRequest | undefined {
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
      const events: AsyncIterable<TraceEvent> = pass === 0 ? first.events : (await openTrace(this.path)).events;
      let count = 0;
      let minT = Infinity;
      let maxT = -Infinity;
      for await (const ev of events) {
        if (this.stopped) return;
        if (ev.event !== 'exchange') continue;
        const req = this.convert(ev);
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
      while (this.heap.length > 0) this.push(heapPop(this.heap), pass);
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

  private convert(ev: ExchangeEvent): ReplayRequest | undefined {
    try {
      if (typeof ev.request?.method !== 'string' || !Array.isArray(ev.request.headers) || typeof ev.response?.status !== 'number') throw new Error('missing request or response fields');
      return toReplayRequest(ev, this.opts.rewrite);
    } catch (e) {
      this.skipped++;
      this.opts.onIssue?.(`exchange ${String(ev.id)} skipped: ${(e as Error).message}`);
      return undefined;
    }
  }

  private add(req: ReplayRequest, pass: number): void {
    if (this.orderWindow <= 0) return this.push(req, pass);
    heapPush(this.heap, req);
    if (this.heap.length > this.orderWindow) this.push(heapPop(this.heap), pass);
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

function heapPush(h: ReplayRequest[], x: ReplayRequest): void {
  h.push(x);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if ((h[p] as ReplayRequest).t <= x.t) break;
    h[i] = h[p] as ReplayRequest;
    i = p;
  }
  h[i] = x;
}

function heapPop(h: ReplayRequest[]): ReplayRequest {
  const top = h[0] as ReplayRequest;
  const last = h.pop() as ReplayRequest;
  if (h.length === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const r = l + 1;
    const c = r < h.length && (h[r] as ReplayRequest).t < (h[l] as ReplayRequest).t ? r : l;
    if ((h[c] as ReplayRequest).t >= last.t) break;
    h[i] = h[c] as ReplayRequest;
    i = c;
  }
  h[i] = last;
  return top;
}

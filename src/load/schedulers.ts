/**
 * Load models. Both schedulers take requests from a RequestSource, hand them round robin to the
 * targets' clients, and pass one RequestResult per request to a sink; neither measures anything
 * itself beyond stamping the due time.
 *
 * - ClosedLoopScheduler: N workers, each sending its next request when the previous one ended
 *   (`--concurrency`). Latency counts from the send: this model has coordinated omission by
 *   nature (a slow response delays the requests behind it), which is why open loop exists.
 * - OpenLoopScheduler: requests are due on a schedule set by a Pacer (constant rate or recorded
 *   timing) whatever the responses do. Latency counts from the due time (wrk2): a request that
 *   waited for a free connection, or was sent late because the generator lagged, carries that
 *   wait in its latency. Lateness of the generator itself is counted apart and reported.
 */
import { UsageError } from '../errors.js';
import { checkConcurrency, timerMs } from './limits.js';
import type { LoadClient } from './load-client.js';
import type { Pacer } from './pacer.js';
import type { ReplayRequest } from './replay-request.js';
import type { RequestSource } from './request-source.js';
import { newResult, resetResult, type RequestResult } from './request-result.js';
import type { ScheduleStats, ScheduleStopReason } from '../results/replay-report.js';

export interface RunLimits {
  /** Requests due in the first warmupMs are sent but kept out of the results. */
  warmupMs: number;
  /** Measured time after the warmup (Infinity: none). */
  durationMs: number;
  /** Measured requests, after the warmup (Infinity: none). */
  requests: number;
}

export interface ResultSink {
  /** Called once per request, warmup included; copy what you keep (the record is reused). */
  add(r: RequestResult): void;
}

export interface SchedulerOptions {
  clients: LoadClient[];
  source: RequestSource;
  sink: ResultSink;
  limits: RunLimits;
  /** Most requests in flight (= connections per target). */
  concurrency: number;
  /** Stops the run: nothing new is sent, what is in flight gets `abortDrainMs` to finish. */
  signal?: AbortSignal;
  /** Called on each result before the sink (--verify). */
  verify?: (rec: RequestResult, req: ReplayRequest) => void;
  /** After the schedule ends, how long in-flight (and queued) requests may take to finish (default 31 s). */
  drainMs?: number;
  /** Open loop: most due requests waiting for a connection (default MAX_BACKLOG); more are dropped. */
  maxBacklog?: number;
  /** After a stop signal, how long in-flight requests may take (default 1 s). */
  abortDrainMs?: number;
  /** Notes for the user (a wait of hours or days for the next recorded request). */
  onIssue?: (message: string) => void;
  now?: () => number;
}

/** A send later than this (with a connection free) counts as generator lag. */
export const LATE_MS = 10;
/** The open-loop backlog never holds more than this; further due requests are dropped (error kind `dropped`). */
export const MAX_BACKLOG = 1_000_000;
/** Closed loop: workers started per turn of the event loop, so a large --concurrency never blocks a Ctrl-C. */
export const START_BATCH = 512;
/** Open loop: a wait for the next due request longer than this gets one note (recorded timing with a long gap). */
export const LONG_WAIT_MS = 3_600_000;

abstract class LoadScheduler {
  protected readonly now: () => number;
  protected start = 0;
  protected seq = 0;
  protected measured = 0;
  protected inFlight = 0;
  protected stopping: ScheduleStopReason | undefined;
  protected hardStopped = false;
  protected readonly stats: ScheduleStats;
  private readonly free: RequestResult[] = [];
  private resolveRun: ((s: ScheduleStats) => void) | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private lastResultMs = 0;

  constructor(
    protected readonly opts: SchedulerOptions,
    model: string,
  ) {
    if (opts.clients.length === 0) throw new UsageError('at least one target is needed');
    checkConcurrency(opts.concurrency);
    this.now = opts.now ?? (() => performance.now());
    this.stats = {
      model,
      startMs: 0,
      elapsedMs: 0,
      stoppedBy: 'trace-end',
      sent: 0,
      warmupRequests: 0,
      abandoned: 0,
      notSent: 0,
      lateSends: 0,
      maxLateMs: 0,
      queued: 0,
      maxBacklog: 0,
    };
  }

  run(): Promise<ScheduleStats> {
    return new Promise((resolve) => {
      this.resolveRun = resolve;
      this.start = this.stats.startMs = this.now();
      const sig = this.opts.signal;
      if (sig !== undefined) {
        if (sig.aborted) this.stop('signal');
        else sig.addEventListener('abort', () => this.stop('signal'), { once: true });
      }
      if (this.stopping === undefined) this.begin();
      this.maybeDone();
    });
  }

  protected abstract begin(): void;
  /** Requests queued but not sent (open loop). */
  protected abstract backlogSize(): number;
  protected abstract dropBacklog(): number;

  /** Ends the schedule: nothing new is taken from the source. */
  protected stop(reason: ScheduleStopReason): void {
    if (this.stopping !== undefined && reason !== 'signal') return;
    const first = this.stopping === undefined;
    this.stopping = reason;
    if (reason === 'signal') this.stats.notSent += this.dropBacklog();
    if (first || reason === 'signal') {
      if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
      const wait = reason === 'signal' ? (this.opts.abortDrainMs ?? 1000) : (this.opts.drainMs ?? 31_000);
      // Clamped: past the timer limit Node fires at once, which would abandon every request in flight.
      this.drainTimer = setTimeout(() => this.hardStop(), timerMs(wait));
      this.drainTimer.unref();
    }
    this.onStop();
    this.maybeDone();
  }

  protected onStop(): void {}

  /** The drain time is over: whatever is still out is abandoned. */
  private hardStop(): void {
    if (this.resolveRun === undefined) return;
    this.hardStopped = true;
    this.stats.notSent += this.dropBacklog();
    this.stats.abandoned += this.inFlight;
    this.inFlight = 0;
    this.maybeDone();
  }

  protected maybeDone(): void {
    if (this.stopping === undefined || this.resolveRun === undefined) return;
    if (!this.hardStopped && (this.inFlight > 0 || this.backlogSize() > 0)) return;
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    const resolve = this.resolveRun;
    this.resolveRun = undefined;
    this.stats.stoppedBy = this.stopping;
    this.stats.elapsedMs = Math.max(this.lastResultMs, this.now()) - this.start;
    resolve(this.stats);
  }

  /** Sends one request due `dueMs` after the start; `after` runs (never synchronously) when its result went to the sink. */
  protected send(req: ReplayRequest, dueMs: number, after: () => void): void {
    const rec = this.free.pop() ?? newResult();
    resetResult(rec);
    const seq = this.seq++;
    rec.seq = seq;
    rec.exchangeId = req.exchangeId;
    rec.uri = req.displayUri;
    // A session stays with one target: its cookie is that target's.
    rec.target = (req.session?.instance ?? seq) % this.opts.clients.length;
    rec.session = req.session ?? null;
    rec.sessionStep = req.sessionStep ?? 0;
    rec.intendedMs = this.start + dueMs;
    rec.sentMs = this.now();
    rec.warmup = dueMs < this.opts.limits.warmupMs;
    if (rec.warmup) this.stats.warmupRequests++;
    this.stats.sent++;
    this.inFlight++;
    let sync = true;
    const client = this.opts.clients[rec.target] as LoadClient;
    client.send(req, rec, () => {
      const finish = (): void => {
        if (this.hardStopped) return; // counted as abandoned already
        this.inFlight--;
        this.lastResultMs = rec.endMs;
        if (!rec.warmup) this.opts.verify?.(rec, req);
        this.opts.sink.add(rec);
        this.opts.source.ended?.(req, rec);
        this.free.push(rec);
        after();
        this.maybeDone();
      };
      // A client that fails at once (nothing listening is asynchronous, but an encode error is
      // not) must not recurse into the next send.
      if (sync) setImmediate(finish);
      else finish();
    });
    sync = false;
  }

  /** A due request that is never sent (the backlog is full): recorded as a `dropped` error. */
  protected drop(req: ReplayRequest, dueMs: number): void {
    const rec = this.free.pop() ?? newResult();
    resetResult(rec);
    rec.seq = this.seq++;
    rec.exchangeId = req.exchangeId;
    rec.uri = req.displayUri;
    rec.target = (req.session?.instance ?? rec.seq) % this.opts.clients.length;
    rec.session = req.session ?? null;
    rec.sessionStep = req.sessionStep ?? 0;
    rec.intendedMs = rec.sentMs = this.start + dueMs;
    rec.endMs = this.now();
    rec.warmup = dueMs < this.opts.limits.warmupMs;
    rec.error = 'dropped';
    rec.errorMessage = `the open-loop backlog holds ${this.opts.maxBacklog ?? MAX_BACKLOG} requests already`;
    this.opts.sink.add(rec);
    this.opts.source.ended?.(req, rec);
    this.free.push(rec);
  }

  protected elapsed(): number {
    return this.now() - this.start;
  }

  protected overLimits(dueMs: number): ScheduleStopReason | undefined {
    const l = this.opts.limits;
    if (dueMs >= l.warmupMs + l.durationMs) return 'duration';
    if (dueMs >= l.warmupMs && this.measured >= l.requests) return 'requests';
    return undefined;
  }
}

export class ClosedLoopScheduler extends LoadScheduler {
  /**
   * Workers with no request in flight: not started yet, or waiting for the source. A count, not a
   * list of pending waits: one wait on the source serves all of them, so --concurrency costs
   * nothing until requests actually go out.
   */
  private idle = 0;
  private waiting = false;

  constructor(opts: SchedulerOptions) {
    super(opts, `closed loop, ${opts.concurrency} concurrent`);
  }

  protected begin(): void {
    this.idle = this.opts.concurrency;
    this.resume();
  }

  protected backlogSize(): number {
    return 0;
  }

  protected dropBacklog(): number {
    return 0;
  }

  /** Idle workers take requests until the source runs dry; at most START_BATCH per turn of the event loop. */
  private resume(): void {
    for (let n = 0; this.idle > 0 && this.stopping === undefined; n++) {
      if (n >= START_BATCH) {
        setImmediate(() => this.resume());
        return;
      }
      this.idle--;
      if (!this.step()) return;
    }
  }

  /** A worker takes its next request; false when there was none (the worker is idle again, or the run stops). */
  private step(): boolean {
    if (this.stopping !== undefined) return false;
    const t = this.elapsed();
    const over = this.overLimits(t);
    if (over !== undefined) {
      this.stop(over);
      return false;
    }
    const src = this.opts.source;
    const req = src.next();
    if (req === undefined) {
      if (src.exhausted) {
        this.stop('trace-end');
        return false;
      }
      this.idle++;
      if (!this.waiting) {
        this.waiting = true;
        void src.waitForMore().then(() => {
          this.waiting = false;
          this.resume();
        });
      }
      return false;
    }
    if (t >= this.opts.limits.warmupMs) this.measured++;
    this.send(req, t, () => void this.step());
    return true;
  }
}

export class OpenLoopScheduler extends LoadScheduler {
  /** Requests taken off the schedule (sent, queued or dropped): the pacer's position. */
  private scheduled = 0;
  private pending: ReplayRequest | undefined;
  private pendingLoop = 0;
  private timer: NodeJS.Timeout | undefined;
  private waiting = false;
  private waitingEnd = false;
  private notedLongWait = false;
  // Backlog: due requests waiting for a connection, FIFO (a ring would save the shift; the
  // backlog is short except when the target cannot keep up, and then it is bounded).
  private backlogReqs: ReplayRequest[] = [];
  private backlogDue: number[] = [];
  private backlogHead = 0;

  constructor(
    opts: SchedulerOptions,
    private readonly pacer: Pacer,
  ) {
    super(opts, `open loop, ${pacer.description}, up to ${opts.concurrency} in flight`);
  }

  protected begin(): void {
    this.tick();
  }

  protected backlogSize(): number {
    return this.backlogReqs.length - this.backlogHead;
  }

  protected dropBacklog(): number {
    const n = this.backlogSize();
    this.backlogReqs = [];
    this.backlogDue = [];
    this.backlogHead = 0;
    return n;
  }

  protected override onStop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    // Woken by a session's request ending while a timer was set: one timer at a time.
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopping !== undefined) return;
    const src = this.opts.source;
    const elapsed = this.elapsed();
    for (let n = 0; ; n++) {
      if (this.pending === undefined) {
        this.pending = src.next();
        this.pendingLoop = src.loop;
        if (this.pending === undefined) {
          if (src.exhausted) return this.stop('trace-end');
          if (!this.waiting) {
            this.waiting = true;
            void src.waitForMore().then(() => {
              this.waiting = false;
              this.tick();
            });
          }
          return;
        }
      }
      let due = this.pacer.dueMs(this.scheduled, this.pending, this.pendingLoop);
      // --sessions: never before the session's previous request ended (latency counts from then).
      const ready = this.pending.sessionReadyMs;
      if (ready !== undefined && ready - this.start > due) due = ready - this.start;
      const over = this.overLimits(due);
      if (over !== undefined) return this.stop(over);
      if (due > elapsed) {
        this.putBackUntilDue();
        this.waitFor(due - elapsed);
        return;
      }
      if (n >= 512) {
        // Let responses in between bursts of catching up.
        setImmediate(() => this.tick());
        return;
      }
      this.dispatch(this.pending, due, elapsed);
      this.pending = undefined;
    }
  }

  /**
   * --sessions: a request not yet due goes back to the source, and a request ending wakes the
   * schedule, so that a session that becomes ready meanwhile with an earlier time is not held up.
   */
  private putBackUntilDue(): void {
    const src = this.opts.source;
    if (src.putBack === undefined || src.nextEnded === undefined || this.pending === undefined) return;
    src.putBack(this.pending);
    this.pending = undefined;
    if (this.waitingEnd) return;
    this.waitingEnd = true;
    void src.nextEnded().then(() => {
      this.waitingEnd = false;
      if (this.stopping === undefined) this.tick();
    });
  }

  /**
   * Sleeps until the next request is due. A wait past the timer limit (a recorded gap of 25 days
   * or more) is slept in chunks: tick() finds the request not yet due and sleeps again.
   */
  private waitFor(ms: number): void {
    if (ms > LONG_WAIT_MS && !this.notedLongWait) {
      this.notedLongWait = true;
      this.opts.onIssue?.(
        `the next request is due in ${formatLong(ms)} (${this.pacer.description}): waiting for it; --duration or Ctrl-C ends the run`,
      );
    }
    this.timer = setTimeout(() => this.tick(), timerMs(ms));
  }

  private dispatch(req: ReplayRequest, due: number, elapsed: number): void {
    this.scheduled++;
    if (due >= this.opts.limits.warmupMs) this.measured++;
    // Taken off the schedule late: the generator (its CPU, its event loop) lagged, whatever the target does.
    const late = elapsed - due;
    if (late > LATE_MS) {
      this.stats.lateSends++;
      if (late > this.stats.maxLateMs) this.stats.maxLateMs = late;
    }
    if (this.inFlight < this.opts.concurrency && this.backlogSize() === 0) {
      this.send(req, due, () => this.fromBacklog());
      return;
    }
    // Every connection is busy: the request waits, and its latency (from `due`) includes the wait.
    if (this.backlogSize() >= (this.opts.maxBacklog ?? MAX_BACKLOG)) {
      this.drop(req, due);
      return;
    }
    this.stats.queued++;
    this.backlogReqs.push(req);
    this.backlogDue.push(due);
    const size = this.backlogSize();
    if (size > this.stats.maxBacklog) this.stats.maxBacklog = size;
  }

  private fromBacklog(): void {
    if (this.backlogSize() === 0 || this.hardStopped) return;
    const i = this.backlogHead++;
    const req = this.backlogReqs[i] as ReplayRequest;
    const due = this.backlogDue[i] as number;
    this.backlogReqs[i] = undefined as unknown as ReplayRequest;
    if (this.backlogHead > 4096 && this.backlogHead * 2 > this.backlogReqs.length) {
      this.backlogReqs.splice(0, this.backlogHead);
      this.backlogDue.splice(0, this.backlogHead);
      this.backlogHead = 0;
    }
    this.send(req, due, () => this.fromBacklog());
  }
}

function formatLong(ms: number): string {
  return ms >= 86_400_000 ? `${(ms / 86_400_000).toFixed(1)} days` : `${(ms / 3_600_000).toFixed(1)} hours`;
}

/**
 * The forwarding thread's side of a recorder's tracer thread (capture/tracer-worker.ts): hands
 * over what the taps forward and takes back the trace events made of it.
 *
 * Per chunk the forwarding thread only copies the bytes into the current batch (TraceBatch) and
 * adds a row to its index; the batch is posted POST_AFTER_MS (10 ms) after its first entry, or at once
 * when it holds POST_BYTES (a timer rather than a post per event-loop turn: each post costs the
 * forwarding thread 5-10 µs and wakes the tracer thread; the first profile, a post per turn,
 * showed postMessage at 1.6% of the forwarding thread at 2,000 exchanges/s, more than the copies).
 * The results come back one message per batch, in order, and are handed to the recorder as
 * SerializedEvent (the JSON made on the tracer thread) a few per event-loop turn; the batch's
 * bytes are acknowledged with them: `pendingBytes`, handed over and not yet acknowledged, is the
 * backlog the taps bound (maxTraceBacklogBytes), shedding a connection's tracing past it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Direction } from '../protocol/index.js';
import { SerializedEvent, type ConnectionEvent, type TraceEvent, type TraceOptions } from '../trace/index.js';
import { opOfClose, opOfDirection, TraceBatch, TraceOp, type OpenInfo } from './trace-batch.js';
import type { FromTracerWorker, ResultsMessage, TracerWorkerInput } from './tracer-worker.js';

export interface TracerThreadOptions {
  options: TraceOptions;
  startUs: number;
  /** Have the worker post the event objects too (an observer needs them); they cost a structured clone. */
  observe: boolean;
  /** Every event the tracer made, in order, with the index of the tap whose connection made it (OpenInfo.tap). */
  onRecord(tap: number, record: SerializedEvent, event: TraceEvent | undefined): void;
  /** The tracer thread failed after it had started: no more tracing, the traffic goes on. */
  onFailure(message: string): void;
  /** The tracer thread's nice value (Linux; see TRACER_NICENESS), null for the process's own; default TRACER_NICENESS. */
  niceness?: number | null;
  /** The worker module; default tracerWorkerUrl() (tests give one that cannot load). */
  workerUrl?: URL;
}

/**
 * The tracer thread runs at the lowest priority (nice 19): it has no deadline, the forwarding
 * has. At equal priority its bursts (a batch of decoding every few ms) took a core from the
 * forwarding thread and from the peers beside it: on the 2-core bench machine the sequential
 * added p99 was 350-410 µs with the tracer at nice 0 and 60-180 µs at nice 19 (the relay's
 * 50-60 µs; inline tracing 220-290 µs), the paced one 380-690 µs against 120-145 µs. When the
 * cores are busy the tracer gets little CPU: it falls behind, and past the backlog bound sheds
 * trace work, never traffic, which is the order of priority the tap promises.
 */
export const TRACER_NICENESS = 19;

/** Where the compiled worker is: beside this module in dist, or in dist when the sources run (vitest). */
export function tracerWorkerUrl(): URL {
  const beside = new URL('./tracer-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL('../../dist/src/capture/tracer-worker.js', import.meta.url);
}

/**
 * A batch is posted this long after its first entry at the latest. Every post wakes the tracer
 * thread and its answer wakes this one: on the 2-core bench machine, 10 ms instead of 2 took the
 * tap's CPU per 1 KiB exchange at 2,000/s from 76-81 µs over the relay's to 39-44 µs (4 tap
 * benches each, alternating), the paced added p50 from 1.42-2.12x the relay's to 0.91-1.34x, and
 * 128 KiB from 352-526 µs to 226-432 µs; at the price of the one-connection sequential p99
 * (1.06-1.33x the relay's with 2 ms, 1.9-3.7x with 10: a batch's results, 100 exchanges at full
 * speed, are written by this thread a few per turn). 5 ms gained nothing. The trace is late by
 * this much at most; nothing waits for it.
 */
const POST_AFTER_MS = 10;
/** ... or as soon as it holds this many bytes (a batch's buffer is sized from the last one's, up to this). */
const POST_BYTES = 1024 * 1024;
const MIN_BATCH_BYTES = 16 * 1024;
/**
 * Events handed to the recorder per event-loop turn: a batch's results written at once (up to a
 * few hundred events with 10 ms batches on one busy connection) held the forwarding thread for
 * several hundred µs, the sequential bench's added p99 (0.7-1.0 ms against 0.25-0.5 ms inline);
 * in slices the sockets get a turn in between.
 */
const DELIVER_PER_TURN = 16;

export class TracerThread {
  /** Bytes handed over (in the batch being filled, or posted) and not yet acknowledged by the worker. */
  pendingBytes = 0;
  /** Resolves true once the worker's module runs and listens, false if it could not start (the recorder then traces inline). */
  readonly ready: Promise<boolean>;
  private batch: TraceBatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Bytes the last batch held: the next one's buffer is sized from it. */
  private lastBytes = 0;
  /** Batches posted and not yet answered. */
  private inFlight = 0;
  private idle: (() => void)[] = [];
  /** Results received and not yet handed to the recorder, the first one from its event `delivered` on. */
  private readonly undelivered: ResultsMessage[] = [];
  private delivered = 0;
  private delivering = false;
  private readonly worker: Worker;
  private readonly holdFlag = new Int32Array(new SharedArrayBuffer(4));
  private online = false;
  private failure: string | undefined;
  private terminated = false;

  /** Throws if the worker cannot even be created. */
  constructor(private readonly opts: TracerThreadOptions) {
    const input: TracerWorkerInput = {
      options: opts.options,
      startUs: opts.startUs,
      observe: opts.observe,
      hold: this.holdFlag.buffer,
      niceness: opts.niceness === undefined ? TRACER_NICENESS : opts.niceness,
    };
    const worker = new Worker(opts.workerUrl ?? tracerWorkerUrl(), { workerData: { tracerWorker: input } });
    this.worker = worker;
    // Not 'online': that comes before the worker's module is loaded, so a module that cannot load
    // (a broken install) would count as started and lose the whole trace instead of going inline.
    this.ready = new Promise((resolve) => {
      worker.on('message', (m: FromTracerWorker) => {
        if (m.type === 'results') this.results(m);
        else {
          this.online = true;
          resolve(true);
        }
      });
      worker.once('error', () => resolve(false));
      worker.once('exit', () => resolve(false));
    });
    worker.on('error', (e) => this.fail(`the tracer thread failed (${e.message})`));
    worker.on('exit', (code) => {
      if (!this.terminated) this.fail(`the tracer thread exited (code ${code})`);
    });
  }

  /** Why tracing stopped, if it did. */
  get failed(): string | undefined {
    return this.failure;
  }

  open(info: OpenInfo, timeUs: number): void {
    if (this.failure !== undefined) return;
    this.current(0).addOpen(info, timeUs);
  }

  /** A copy of `chunk` goes to the tracer; the chunk itself is left alone (libuv may still be writing it). */
  chunk(conn: number, direction: Direction, chunk: Buffer, timeUs: number): void {
    if (this.failure !== undefined) return;
    const b = this.current(chunk.length);
    b.addChunk(conn, opOfDirection(direction), chunk, timeUs);
    this.pendingBytes += chunk.length;
    if (b.bytes >= POST_BYTES) this.post();
  }

  close(conn: number, reason: NonNullable<ConnectionEvent['reason']>, timeUs: number): void {
    if (this.failure !== undefined) return;
    this.current(0).addOp(conn, opOfClose(reason), timeUs);
  }

  /** This connection's trace ends here (the backlog bound was passed); nothing more of it is handed over. */
  shed(conn: number, timeUs: number): void {
    if (this.failure !== undefined) return;
    this.current(0).addOp(conn, TraceOp.Shed, timeUs);
  }

  /** Resolves once everything handed over so far has been traced and its events delivered (or the thread failed). */
  settled(): Promise<void> {
    this.post();
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Nothing handed over is waiting for the worker (or it failed), and every result is delivered. */
  private get isIdle(): boolean {
    return (
      (this.failure !== undefined || (this.inFlight === 0 && this.batch === undefined)) && this.undelivered.length === 0
    );
  }

  /** Ends the worker; what it had not answered is not waited for (settled() first). */
  async stop(): Promise<void> {
    this.terminated = true;
    this.release();
    this.batch = undefined;
    clearTimeout(this.timer);
    await this.worker.terminate();
  }

  /**
   * Holds the tracer before its next batch until the returned function is called: a tracer slowed
   * on purpose, for the tests and the bench of the shedding.
   */
  hold(): () => void {
    Atomics.store(this.holdFlag, 0, 1);
    return () => this.release();
  }

  private release(): void {
    Atomics.store(this.holdFlag, 0, 0);
    Atomics.notify(this.holdFlag, 0);
  }

  /** The batch to add to, with room for `bytes` more (a full one is posted first). */
  private current(bytes: number): TraceBatch {
    const b = this.batch;
    if (b !== undefined && b.fits(bytes)) return b;
    if (b !== undefined) this.post();
    const size = Math.max(
      bytes,
      Math.min(POST_BYTES, Math.max(MIN_BATCH_BYTES, this.lastBytes + (this.lastBytes >> 2))),
    );
    const fresh = new TraceBatch(size);
    this.batch = fresh;
    this.timer = setTimeout(this.post, POST_AFTER_MS);
    return fresh;
  }

  private readonly post = (): void => {
    const b = this.batch;
    if (b === undefined) return;
    this.batch = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastBytes = b.bytes;
    if (b.entries === 0 || this.failure !== undefined) return;
    const { message, transfer } = b.seal();
    this.inFlight++;
    this.worker.postMessage(message, transfer);
  };

  private results(m: ResultsMessage): void {
    this.pendingBytes -= m.ack;
    this.inFlight--;
    if (m.kinds.length > 0) {
      this.undelivered.push(m);
      if (!this.delivering) {
        this.delivering = true;
        setImmediate(this.deliver);
      }
    }
    if (this.isIdle) this.wakeIdle();
  }

  /** DELIVER_PER_TURN events to the recorder, in order; the rest at the next turn. */
  private readonly deliver = (): void => {
    const q = this.undelivered;
    for (let n = 0; n < DELIVER_PER_TURN && q.length > 0; n++) {
      const m = q[0] as ResultsMessage;
      const i = this.delivered;
      const line = m.lines.slice(i === 0 ? 0 : m.ends[i - 1], m.ends[i]);
      if (++this.delivered === m.kinds.length) {
        q.shift();
        this.delivered = 0;
      }
      this.opts.onRecord(
        m.taps[i] as number,
        new SerializedEvent(m.kinds[i] as TraceEvent['event'], m.ts[i] as number, line),
        m.events?.[i],
      );
    }
    if (q.length > 0) setImmediate(this.deliver);
    else {
      this.delivering = false;
      if (this.isIdle) this.wakeIdle();
    }
  };

  private wakeIdle(): void {
    const idle = this.idle;
    this.idle = [];
    for (const resolve of idle) resolve();
  }

  private fail(message: string): void {
    if (this.failure !== undefined || this.terminated) return;
    this.failure = message;
    this.pendingBytes = 0;
    this.batch = undefined;
    clearTimeout(this.timer);
    if (this.isIdle) this.wakeIdle(); // results already received are still delivered
    if (this.online) this.opts.onFailure(message);
  }
}

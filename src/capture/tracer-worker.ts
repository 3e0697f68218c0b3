/**
 * The tracer thread of a TapRecorder (capture/tracer-thread.ts starts it): decodes, assembles,
 * hashes, redacts and serialises what the forwarding thread hands over in batches
 * (capture/trace-batch.ts), one ConnectionTracer per connection, ids counted here for every tap
 * of the recorder. Each batch is answered with one `results` message: every event it produced,
 * serialised once (serializeEvent) with its kind, `t` and tap, the event objects too when the
 * recorder has an observer, and the batch's bytes acknowledged (the main thread's backlog).
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { ConnectionTracer, serializeEvent, type TraceEvent, type TraceOptions } from '../trace/index.js';
import type { TapErrorCode } from './tap-errors.js';
import { closeReasonOf, ROW, TraceOp, type BatchMessage, type OpenInfo } from './trace-batch.js';

export interface TracerWorkerInput {
  options: TraceOptions;
  startUs: number;
  /** Post the event objects too (an observer needs them). */
  observe: boolean;
  /** While its first int is 1 the worker waits before its next batch (TracerThread.hold: a tracer slowed on purpose). */
  hold: SharedArrayBuffer;
  /** This thread's nice value (TracerThreadOptions.niceness); null leaves it as the process's. */
  niceness: number | null;
}

/**
 * One batch's answer. The arrays run in parallel, one entry per event; the lines are one string
 * (one string to clone instead of one per event), event i's from ends[i - 1] (0 for the first) to ends[i].
 */
export interface ResultsMessage {
  type: 'results';
  /** Chunk bytes of the batch now done with. */
  ack: number;
  kinds: TraceEvent['event'][];
  ts: number[];
  lines: string;
  ends: number[];
  taps: number[];
  events?: TraceEvent[];
}

/** Sent once, when the worker listens: only then is it started (TracerThread.ready). */
export interface ReadyMessage {
  type: 'ready';
}

export type ToTracerWorker = BatchMessage;
export type FromTracerWorker = ResultsMessage | ReadyMessage;

interface Traced {
  tracer: ConnectionTracer;
  info: OpenInfo;
}

/** Decodes batches and collects their events. Apart from the port, so that it can be tested in-thread. */
export class TracerWork {
  private readonly conns = new Map<number, Traced>();
  private nextId = 0;
  /** The tap whose connection is being traced: the events produced meanwhile are counted there. */
  private tap = 0;
  private out: ResultsMessage;
  private lines: string[] = [];
  private linesLength = 0;

  constructor(private readonly input: Omit<TracerWorkerInput, 'hold' | 'niceness'>) {
    this.out = this.fresh(0);
  }

  run(batch: BatchMessage): ResultsMessage {
    this.out = this.fresh(batch.bytes);
    const index = new Float64Array(batch.index);
    const data = batch.data;
    for (let row = 0; row < batch.entries; row++) {
      const at = row * ROW;
      const conn = index[at] as number;
      const op = index[at + 1] as TraceOp;
      const offset = index[at + 2] as number;
      const length = index[at + 3] as number;
      const timeUs = index[at + 4] as number;
      if (op === TraceOp.Open) this.open(batch.opens[offset] as OpenInfo, timeUs);
      else if (op === TraceOp.ToContainer || op === TraceOp.ToWebServer)
        this.push(conn, op, Buffer.from(data, offset, length), timeUs);
      else if (op === TraceOp.Shed) this.shed(conn, timeUs);
      else this.close(conn, op, timeUs);
    }
    this.out.lines = this.lines.join('');
    this.lines = [];
    this.linesLength = 0;
    return this.out;
  }

  private fresh(ack: number): ResultsMessage {
    return {
      type: 'results',
      ack,
      kinds: [],
      ts: [],
      lines: '',
      ends: [],
      taps: [],
      ...(this.input.observe ? { events: [] } : {}),
    };
  }

  private readonly emit = (e: TraceEvent): void => {
    const out = this.out;
    out.kinds.push(e.event);
    out.ts.push(e.t);
    const json = serializeEvent(e);
    this.lines.push(json);
    this.linesLength += json.length;
    out.ends.push(this.linesLength);
    out.taps.push(this.tap);
    out.events?.push(e);
  };

  private open(info: OpenInfo, timeUs: number): void {
    this.tap = info.tap;
    try {
      const tracer = new ConnectionTracer(
        {
          options: this.input.options,
          startUs: this.input.startUs,
          nextId: () => ++this.nextId,
          emit: this.emit,
        },
        {
          conn: info.conn,
          client: info.client,
          upstream: info.upstream,
          ...(info.worker === undefined ? {} : { worker: info.worker }),
          ...(info.maxPacketSize === undefined ? {} : { maxPacketSize: info.maxPacketSize }),
        },
      );
      tracer.open(timeUs);
      this.conns.set(info.conn, { tracer, info });
    } catch (e) {
      this.tapError(
        info.conn,
        timeUs,
        'TAP_ERR_DECODER',
        `tracing could not start (${text(e)}); this connection is not traced`,
      );
    }
  }

  private push(conn: number, op: TraceOp, chunk: Buffer, timeUs: number): void {
    const c = this.conns.get(conn);
    if (c === undefined) return; // not traced (could not start, or failed)
    this.tap = c.info.tap;
    try {
      c.tracer.push(op === TraceOp.ToContainer ? 'to-container' : 'to-web-server', chunk, timeUs);
    } catch (e) {
      // A decoder bug must not touch the bytes (they are forwarded already): stop tracing this connection.
      this.conns.delete(conn);
      this.tapError(
        conn,
        timeUs,
        'TAP_ERR_DECODER',
        `decoder failed (${text(e)}); this connection is no longer traced`,
      );
    }
  }

  private shed(conn: number, timeUs: number): void {
    const c = this.conns.get(conn);
    if (c === undefined) return;
    this.conns.delete(conn);
    this.tap = c.info.tap;
    this.tapError(
      conn,
      timeUs,
      'TAP_ERR_TRACE_BEHIND',
      `the tracer fell behind (more than ${c.info.backlogBytes} bytes waiting to be decoded); ` +
        'this connection is no longer traced, its bytes still flow',
    );
    this.closeTracer(c, 'error', timeUs);
  }

  private close(conn: number, op: TraceOp, timeUs: number): void {
    const c = this.conns.get(conn);
    if (c === undefined) return;
    this.conns.delete(conn);
    this.tap = c.info.tap;
    this.closeTracer(c, closeReasonOf(op), timeUs);
  }

  private closeTracer(c: Traced, reason: ReturnType<typeof closeReasonOf>, timeUs: number): void {
    try {
      c.tracer.close(reason, timeUs);
    } catch (e) {
      this.tapError(c.info.conn, timeUs, 'TAP_ERR_DECODER', `decoder failed at close (${text(e)})`);
    }
  }

  private tapError(conn: number, timeUs: number, code: TapErrorCode, message: string): void {
    this.emit({ event: 'error', t: Math.round(timeUs - this.input.startUs), conn, code, message });
  }
}

/**
 * Gives this thread alone a nice value: Linux's setpriority takes a thread id where it takes a
 * process id, and /proc/thread-self names this thread's. Elsewhere, or if it is refused, the
 * thread keeps the process's priority (nothing else changes).
 */
function lowerPriority(niceness: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, niceness);
  } catch {
    // Not Linux, or not allowed: the tracer competes with the forwarding as an equal.
  }
}

function text(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const port = parentPort;
if (port !== null && (workerData as { tracerWorker?: TracerWorkerInput } | null)?.tracerWorker !== undefined) {
  const input = (workerData as { tracerWorker: TracerWorkerInput }).tracerWorker;
  if (input.niceness !== null) lowerPriority(input.niceness);
  const work = new TracerWork(input);
  const hold = new Int32Array(input.hold);
  port.on('message', (m: ToTracerWorker) => {
    while (Atomics.load(hold, 0) === 1) Atomics.wait(hold, 0, 1);
    port.postMessage(work.run(m) satisfies FromTracerWorker);
  });
  port.postMessage({ type: 'ready' } satisfies FromTracerWorker);
}

/**
 * Tracer work for the tracer thread, as it is handed over by the forwarding thread: the bytes of
 * every forwarded chunk copied one after another into one ArrayBuffer, and a small index (one row
 * of numbers per entry: connection, op, offset, length, time) beside them. Both buffers are
 * transferred to the worker, never copied again and never given back: the worker's decoder and
 * body hashers keep views into the bytes (a frame cut between two chunks, a body hashed at its
 * end), so a batch buffer is the worker's for as long as it likes. The forwarding thread starts
 * a new one per batch: a copy of the socket's chunk is needed anyway (libuv may still be writing
 * it), and one allocation per batch is cheaper than one per chunk.
 */
import type { Direction } from '../protocol/index.js';
import type { ConnectionEvent } from '../trace/index.js';

/** What an index row asks of the worker. */
export const enum TraceOp {
  ToContainer = 0,
  ToWebServer = 1,
  /** A connection opened: `offset` is the index of its OpenInfo in the batch's `opens`. */
  Open = 2,
  CloseFin = 3,
  CloseRst = 4,
  CloseEnd = 5,
  CloseError = 6,
  /** The tracer fell behind: this connection's trace ends here (TAP_ERR_TRACE_BEHIND). */
  Shed = 7,
}

export function opOfDirection(direction: Direction): TraceOp {
  return direction === 'to-container' ? TraceOp.ToContainer : TraceOp.ToWebServer;
}

type CloseReason = NonNullable<ConnectionEvent['reason']>;
const CLOSE_OPS: Record<CloseReason, TraceOp> = {
  fin: TraceOp.CloseFin,
  rst: TraceOp.CloseRst,
  end: TraceOp.CloseEnd,
  error: TraceOp.CloseError,
};
const CLOSE_REASONS: readonly CloseReason[] = ['fin', 'rst', 'end', 'error'];

export function opOfClose(reason: CloseReason): TraceOp {
  return CLOSE_OPS[reason];
}

/** The close reason of a Close op. */
export function closeReasonOf(op: TraceOp): CloseReason {
  return CLOSE_REASONS[op - TraceOp.CloseFin] as CloseReason;
}

/** A connection as the worker's tracer needs it (ConnectionInfo, plus what the tap knows). */
export interface OpenInfo {
  conn: number;
  /** The recorder's tap it belongs to: results are counted in that tap's stats. */
  tap: number;
  client: string;
  upstream: string;
  worker?: string;
  maxPacketSize?: number;
  /** The tap's maxTraceBacklogBytes, for the message of a shed. */
  backlogBytes: number;
}

/** Numbers per index row: conn, op, offset, length, timeUs. */
export const ROW = 5;

/** The message that carries a batch to the worker. */
export interface BatchMessage {
  type: 'batch';
  data: ArrayBuffer;
  index: ArrayBuffer;
  entries: number;
  /** Chunk bytes in the batch: what the worker acknowledges once done with it. */
  bytes: number;
  opens: OpenInfo[];
}

const MIN_ROWS = 64;

/** The batch being filled on the forwarding thread. */
export class TraceBatch {
  private data: Uint8Array;
  private index: Float64Array;
  private used = 0;
  private rows = 0;
  private opens: OpenInfo[] = [];

  /** `dataBytes`: the room for chunk bytes (a batch is posted when full, see TracerThread). */
  constructor(dataBytes: number) {
    // Not zero-filled: every byte posted was written first (new Uint8Array's zeroing showed as system time).
    this.data = Buffer.allocUnsafeSlow(dataBytes);
    this.index = new Float64Array(MIN_ROWS * ROW);
  }

  get entries(): number {
    return this.rows;
  }

  /** Chunk bytes held. */
  get bytes(): number {
    return this.used;
  }

  /** Whether `length` more bytes fit without a new buffer. */
  fits(length: number): boolean {
    return this.used + length <= this.data.length;
  }

  /** A copy of `chunk` (the caller checked `fits`). */
  addChunk(conn: number, op: TraceOp, chunk: Buffer, timeUs: number): void {
    const at = this.used;
    this.data.set(chunk, at);
    this.used = at + chunk.length;
    this.row(conn, op, at, chunk.length, timeUs);
  }

  addOpen(info: OpenInfo, timeUs: number): void {
    this.opens.push(info);
    this.row(info.conn, TraceOp.Open, this.opens.length - 1, 0, timeUs);
  }

  addOp(conn: number, op: TraceOp, timeUs: number): void {
    this.row(conn, op, 0, 0, timeUs);
  }

  private row(conn: number, op: TraceOp, offset: number, length: number, timeUs: number): void {
    let index = this.index;
    const at = this.rows * ROW;
    if (at + ROW > index.length) {
      const bigger = new Float64Array(index.length * 2);
      bigger.set(index);
      this.index = index = bigger;
    }
    index[at] = conn;
    index[at + 1] = op;
    index[at + 2] = offset;
    index[at + 3] = length;
    index[at + 4] = timeUs;
    this.rows++;
  }

  /** The message to post (its buffers in `transfer`); the batch must not be used after. */
  seal(): { message: BatchMessage; transfer: ArrayBuffer[] } {
    const data = this.data.buffer as ArrayBuffer;
    const index = this.index.buffer as ArrayBuffer;
    return {
      message: { type: 'batch', data, index, entries: this.rows, bytes: this.used, opens: this.opens },
      transfer: [data, index],
    };
  }
}

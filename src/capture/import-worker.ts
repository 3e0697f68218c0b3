/**
 * One decode worker of a threaded import (import-threads.ts starts it): follows the AJP flows the
 * reading thread routes to it (FlowTable.follow), serialises each event once, and posts back,
 * per batch, the lines with what the reading thread needs to merge them into the exact trace a
 * single thread writes: the packet each event came from, and the packet of each request start.
 *
 * Exchange ids and conn numbers are global (ranks in packet order across every worker): a worker
 * numbers its own, and the line goes back without its leading `id`/`conn` fields, which the
 * reading thread puts back with the global numbers (see LinePrefix).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeEvent, type TraceEvent, type TraceOptions } from '../trace/index.js';
import { FlowTable } from './flow-table.js';
import { readSegmentBatch, type SegmentBatch } from './import-segment-batch.js';

/** The kinds of event lines, as numbers in EventNums. */
export const enum LineKind {
  Exchange = 0,
  Incomplete = 1,
  ConnectionOpen = 2,
  ConnectionClose = 3,
  Cping = 4,
  Error = 5,
}

/**
 * Per event, NUMS_PER_EVENT numbers: the order key (packet index; conn at the end), kind, local
 * id, local conn, t, and the length of its tail in WorkerResult.text.
 */
export const NUMS_PER_EVENT = 6;

export interface WorkerInput {
  trace: TraceOptions;
  startUs: number;
  maxPacketSize?: number;
  /** Tests only: the worker fails on the batch holding this packet index. */
  failAtPacket?: number;
}

export type ToWorker = { type: 'batch'; batch: SegmentBatch | null } | { type: 'end'; lastUs: number };

/** What one batch (or the end) gave: events and request starts, each with its order key. */
export interface WorkerResult {
  type: 'result';
  nums: Float64Array;
  /**
   * Each event's line after its prefix (see linePrefix), one after another: one string to clone,
   * not one per event (cloning many strings cost more than the decoding).
   */
  text: string;
  /** The order key of each request start, in local id order (local ids count from 1). */
  starts: number[];
}

export type FromWorker =
  | WorkerResult
  | { type: 'ended'; result: WorkerResult; flows: number; missingBytes: number }
  | { type: 'failed'; message: string };

/** The start of an event's line up to its `id`/`conn` fields, which the reading thread writes. */
export function linePrefix(kind: LineKind, id: number, conn: number, t: number): string {
  switch (kind) {
    case LineKind.Exchange:
      return `{"event":"exchange","id":${id},"conn":${conn},`;
    case LineKind.Incomplete:
      return `{"event":"incomplete","id":${id},"conn":${conn},`;
    case LineKind.ConnectionOpen:
    case LineKind.ConnectionClose:
      return `{"event":"connection","conn":${conn},`;
    case LineKind.Cping:
      return `{"event":"cping","conn":${conn},`;
    case LineKind.Error:
      return `{"event":"error","t":${t},"conn":${conn},`;
  }
}

export const LINE_EVENT: Record<LineKind, TraceEvent['event']> = {
  [LineKind.Exchange]: 'exchange',
  [LineKind.Incomplete]: 'incomplete',
  [LineKind.ConnectionOpen]: 'connection',
  [LineKind.ConnectionClose]: 'connection',
  [LineKind.Cping]: 'cping',
  [LineKind.Error]: 'error',
};

function kindOf(e: TraceEvent): LineKind {
  switch (e.event) {
    case 'exchange':
      return LineKind.Exchange;
    case 'incomplete':
      return LineKind.Incomplete;
    case 'connection':
      return e.state === 'open' ? LineKind.ConnectionOpen : LineKind.ConnectionClose;
    case 'cping':
      return LineKind.Cping;
    case 'error':
      return LineKind.Error;
    default:
      throw new Error(`import worker: unexpected ${e.event} event`);
  }
}

class Collector {
  private nums: number[] = [];
  private tails: string[] = [];
  private starts: number[] = [];
  /** The order key of what is being processed: a packet index, or a conn at the end. */
  key = 0;
  private nextId = 0;

  readonly newId = (): number => {
    this.starts.push(this.key);
    return ++this.nextId;
  };

  readonly emit = (e: TraceEvent): void => {
    const kind = kindOf(e);
    const id = 'id' in e && typeof e.id === 'number' ? e.id : 0;
    const conn = 'conn' in e && typeof e.conn === 'number' ? e.conn : 0;
    const t = 't' in e && typeof e.t === 'number' ? e.t : 0;
    const json = serializeEvent(e);
    const prefix = linePrefix(kind, id, conn, t);
    if (!json.startsWith(prefix)) throw new Error(`import worker: a ${e.event} line does not start with ${prefix}`);
    this.nums.push(this.key, kind, id, conn, t, json.length - prefix.length);
    this.tails.push(json.slice(prefix.length));
  };

  take(): WorkerResult {
    const r: WorkerResult = {
      type: 'result',
      nums: Float64Array.from(this.nums),
      text: this.tails.join(''),
      starts: this.starts,
    };
    this.nums = [];
    this.tails = [];
    this.starts = [];
    return r;
  }
}

function run(port: NonNullable<typeof parentPort>, input: WorkerInput): void {
  const out = new Collector();
  const table = new FlowTable(
    { options: input.trace, startUs: input.startUs, nextId: out.newId, emit: out.emit },
    // Classified by the reading thread: the ports are not looked at here.
    { ports: [], ...(input.maxPacketSize === undefined ? {} : { maxPacketSize: input.maxPacketSize }) },
  );
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  port.on('message', (m: ToWorker) => {
    try {
      if (m.type === 'batch') {
        if (m.batch !== null)
          readSegmentBatch(m.batch, (seg, direction, packet) => {
            if (packet === input.failAtPacket) throw new Error(`failing at packet ${packet}, as the test asked`);
            out.key = packet;
            table.follow(seg, direction);
          });
        const r = out.take();
        post(r, [r.nums.buffer as ArrayBuffer]);
      } else {
        table.end(m.lastUs, (conn) => {
          out.key = conn;
        });
        const r = out.take();
        post({ type: 'ended', result: r, ...table.stats }, [r.nums.buffer as ArrayBuffer]);
        port.close();
      }
    } catch (e) {
      post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
      port.close();
    }
  });
}

if (parentPort !== null) run(parentPort, workerData as WorkerInput);

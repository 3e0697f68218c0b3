/**
 * One shard of a threaded import: the AJP flows routed to it, followed by a FlowTable, each event
 * serialised once and kept with what the reading thread needs to merge the shards into the exact
 * trace a single thread writes: the packet each event came from, and the packet of each request
 * start. Each decode worker runs one (import-worker.ts).
 *
 * Exchange ids and conn numbers are global (ranks in packet order across every shard): a shard
 * numbers its own, and a line is kept without its leading `id`/`conn` fields, which the reading
 * thread puts back with the global numbers (see linePrefix).
 */
import type { Direction } from '../protocol/index.js';
import { serializeEvent, type TraceEvent, type TraceOptions } from '../trace/index.js';
import type { TcpSegment } from './capture-types.js';
import { FlowTable } from './flow-table.js';

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

export interface ShardInput {
  trace: TraceOptions;
  startUs: number;
  maxPacketSize?: number;
}

/** What one batch (or the end) gave: events and request starts, each with its order key. */
export interface ShardResult {
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
      throw new Error(`import: unexpected ${e.event} event`);
  }
}

export class ImportShard {
  private nums: number[] = [];
  private tails: string[] = [];
  private starts: number[] = [];
  /** The order key of what is being processed: a packet index, or a conn at the end. */
  private key = 0;
  private nextId = 0;
  private readonly table: FlowTable;

  constructor(input: ShardInput) {
    this.table = new FlowTable(
      { options: input.trace, startUs: input.startUs, nextId: this.newId, emit: this.emit },
      // Classified by the reading thread: the ports are not looked at here.
      { ports: [], ...(input.maxPacketSize === undefined ? {} : { maxPacketSize: input.maxPacketSize }) },
    );
  }

  /** A segment of one of this shard's flows, from packet `packet`. */
  follow(seg: TcpSegment, direction: Direction, packet: number): void {
    this.key = packet;
    this.table.follow(seg, direction);
  }

  /** The lines and request starts since the last take(). */
  take(): ShardResult {
    const r: ShardResult = {
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

  /** The capture ended at `lastUs`: open connections close (their lines keyed by local conn). */
  end(lastUs: number): { result: ShardResult; flows: number; missingBytes: number } {
    this.table.end(lastUs, (conn) => {
      this.key = conn;
    });
    const { flows, missingBytes } = this.table.stats;
    return { result: this.take(), flows, missingBytes };
  }

  private readonly newId = (): number => {
    this.starts.push(this.key);
    return ++this.nextId;
  };

  private readonly emit = (e: TraceEvent): void => {
    const kind = kindOf(e);
    const id = 'id' in e && typeof e.id === 'number' ? e.id : 0;
    const conn = 'conn' in e && typeof e.conn === 'number' ? e.conn : 0;
    const t = 't' in e && typeof e.t === 'number' ? e.t : 0;
    const json = serializeEvent(e);
    const prefix = linePrefix(kind, id, conn, t);
    if (!json.startsWith(prefix)) throw new Error(`import: a ${e.event} line does not start with ${prefix}`);
    this.nums.push(this.key, kind, id, conn, t, json.length - prefix.length);
    this.tails.push(json.slice(prefix.length));
  };
}

/**
 * A trace event already turned into its trace line, for producers that serialise off the thread
 * that writes (a tracer or import worker_thread): the writer puts `json` out verbatim instead of
 * stringifying again. `event` and `t` are what a recorder needs to count, stop and report drops
 * without parsing the line back.
 */
import type { TraceEvent } from './trace-types.js';

export class SerializedEvent {
  constructor(
    /** The event's kind (`exchange`, `incomplete`, ...). */
    readonly event: TraceEvent['event'],
    /** The event's `t` (µs since the trace start). */
    readonly t: number,
    /** The line without its newline: exactly serializeEvent(the event). */
    readonly json: string,
  ) {}

  /** Wraps an event serialised here (tests, and a producer that has the object anyway). */
  static of(e: TraceEvent): SerializedEvent {
    return new SerializedEvent(e.event, e.t, serializeEvent(e));
  }
}

/** What a trace line holds for an event: the one definition, shared by the writer and by workers. */
export function serializeEvent(e: TraceEvent): string {
  return JSON.stringify(e);
}

/** Something a TraceOutput takes: an event, or one already serialised. */
export type TraceRecord = TraceEvent | SerializedEvent;

/** The event of a record, parsed back when it came serialised (in-memory outputs, tests). */
export function eventOf(r: TraceRecord): TraceEvent {
  return r instanceof SerializedEvent ? (JSON.parse(r.json) as TraceEvent) : r;
}

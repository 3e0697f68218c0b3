/**
 * Streaming trace reader: one line at a time, so a 2 GB trace is read in constant memory.
 * The header is checked first; a newer major version is refused with a clear error. A line that
 * is not valid JSON (a recorder killed mid-write leaves one at the end) is reported through
 * `onIssue` and skipped, never fatal.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { TraceFormatError } from './trace-errors.js';
import { TRACE_FORMAT, TRACE_VERSION, type TraceEvent, type TraceHeader } from './trace-types.js';

export interface TraceReadOptions {
  onIssue?: (err: TraceFormatError) => void;
}

export interface OpenTrace {
  header: TraceHeader;
  events: AsyncIterable<TraceEvent>;
}

/** Opens a trace file (or a stream of one) and reads its header; events follow lazily. */
export async function openTrace(input: string | NodeJS.ReadableStream, opts: TraceReadOptions = {}): Promise<OpenTrace> {
  const stream = typeof input === 'string' ? createReadStream(input) : input;
  const lines = createInterface({ input: stream, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done === true) throw new TraceFormatError('TRACE_ERR_EMPTY', 'the trace is empty (no header line)', 1);
  const header = parseHeader(first.value);
  return { header, events: events(lines, opts) };
}

export function parseHeader(line: string): TraceHeader {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new TraceFormatError('TRACE_ERR_NOT_A_TRACE', 'the first line is not JSON: this is not an ajpbench trace', 1);
  }
  const h = value as Partial<TraceHeader> | null;
  if (h === null || typeof h !== 'object' || h.format !== TRACE_FORMAT || typeof h.version !== 'number') {
    throw new TraceFormatError('TRACE_ERR_NOT_A_TRACE', `the first line is not an ${TRACE_FORMAT} header`, 1);
  }
  if (h.version > TRACE_VERSION) {
    throw new TraceFormatError(
      'TRACE_ERR_NEWER_VERSION',
      `trace format version ${h.version} is newer than this ajpbench reads (${TRACE_VERSION}); upgrade ajpbench`,
      1,
    );
  }
  return h as TraceHeader;
}

async function* events(lines: AsyncIterator<string>, opts: TraceReadOptions): AsyncGenerator<TraceEvent> {
  let lineNo = 1;
  for (;;) {
    const next = await lines.next();
    if (next.done === true) return;
    lineNo++;
    const line = next.value;
    if (line.length === 0) continue;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      opts.onIssue?.(new TraceFormatError('TRACE_ERR_BAD_LINE', `line ${lineNo} is not valid JSON (a cut-off write?); skipped`, lineNo));
      continue;
    }
    if (event === null || typeof event !== 'object' || typeof (event as { event?: unknown }).event !== 'string') {
      opts.onIssue?.(new TraceFormatError('TRACE_ERR_BAD_LINE', `line ${lineNo} is not a trace event; skipped`, lineNo));
      continue;
    }
    yield event as TraceEvent;
  }
}

/**
 * mergeTraces(): the library behind `ajpbench merge`. Traces from several taps or captures become one,
 * in time order, streaming: a k-way merge that holds one event per input.
 *
 * - Time: input i's clock is moved by its offset (a host whose clock ran 2 s behind gets +2s); the
 *   output starts at the earliest input's (moved) start, and every event's `t` is moved to count from it.
 * - Order: each input is in the order its events completed (an exchange at its End Response), and the
 *   merge orders by that same instant, so the output is too, and each input's own order is kept.
 * - Identity: `conn` and `id` n of input i (1-based) of k become (n - 1) × k + i: distinct, and each
 *   maps back (input ((m - 1) mod k) + 1, number ⌊(m - 1) / k⌋ + 1) without a table in memory.
 * - Workers: an exchange, incomplete or connection event without a worker label gets its input's label
 *   (given, or the file's name), so per-worker tables tell the taps apart; labels already there are kept.
 *
 * k is a handful of taps: the earliest head is found by a scan, cheaper than a heap at that size.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { basename } from 'node:path';
import { eventProblem } from './exchange-shape.js';
import { TraceFormatError } from './trace-errors.js';
import { openTrace, type OpenTrace } from './trace-reader.js';
import { traceStartUs } from './trace-start.js';
import {
  TRACE_MINOR_VERSION,
  type BodyPolicy,
  type MergeInput,
  type TraceEvent,
  type TraceHeader,
  type TraceOptions,
} from './trace-types.js';
import type { TraceWriter } from './trace-writer.js';

export interface MergeInputSpec {
  /** How the header names it; read from this path unless `stream` is given. */
  file: string;
  stream?: NodeJS.ReadableStream;
  /** Added to this input's clock, microseconds (may be negative). */
  offsetUs?: number;
  /** The worker label for its events without one; default: the file's name without .jsonl (and .trace). */
  label?: string;
}

export interface MergeOptions {
  tool: string;
  onIssue?: (file: string, err: TraceFormatError) => void;
  onMalformed?: (file: string, what: string) => void;
}

export interface MergeSummary {
  inputs: { file: string; label: string; offsetUs: number; eventsIn: number; malformed: number; unreadable: number }[];
  eventsOut: number;
  exchangesOut: number;
}

interface Head {
  event: TraceEvent;
  /** When it completed, microseconds from the output's start: the merge key. */
  endUs: number;
}

interface Input {
  index: number;
  file: string;
  label: string;
  shiftUs: number;
  events: AsyncIterator<TraceEvent>;
  head: Head | undefined;
  stats: MergeSummary['inputs'][number];
}

const BODY_ORDER: BodyPolicy[] = ['none', 'request', 'all'];
/** Read size per input, as the trace reader's own. */
const READ_CHUNK = 256 * 1024;

export async function mergeTraces(
  specs: readonly MergeInputSpec[],
  open: (header: TraceHeader) => Promise<TraceWriter>,
  opts: MergeOptions,
): Promise<MergeSummary> {
  const traces = await openInputs(specs, opts);
  const labels = labelsFor(specs);
  const starts = traces.map((t, i) => traceStartUs(t.trace.header) + (specs[i]?.offsetUs ?? 0));
  const startUs = Math.min(...starts);
  const inputs: Input[] = traces.map((t, i) => ({
    index: i + 1,
    file: t.stats.file,
    label: labels[i] as string,
    shiftUs: (starts[i] as number) - startUs,
    events: t.trace.events[Symbol.asyncIterator](),
    head: undefined,
    stats: { ...t.stats, label: labels[i] as string },
  }));
  const header = mergedHeader(
    traces.map((t) => t.trace.header),
    inputs,
    specs,
    startUs,
    opts.tool,
  );
  const summary: MergeSummary = { inputs: inputs.map((i) => i.stats), eventsOut: 0, exchangesOut: 0 };
  let writer: TraceWriter | undefined;
  try {
    writer = await open(header);
    const k = inputs.length;
    for (const input of inputs) await advance(input, k, opts);
    for (;;) {
      let first: Input | undefined;
      for (const input of inputs)
        if (input.head !== undefined && (first?.head === undefined || input.head.endUs < first.head.endUs))
          first = input;
      if (first?.head === undefined) break;
      const wait = writer.write(first.head.event);
      if (wait !== undefined) await wait;
      summary.eventsOut++;
      if (first.head.event.event === 'exchange') summary.exchangesOut++;
      await advance(first, k, opts);
    }
  } finally {
    await Promise.all(inputs.map((i) => i.events.return?.() ?? Promise.resolve()));
    for (const t of traces) t.stream?.destroy(); // an input never read (the output failed to open) too
    await writer?.close();
  }
  return summary;
}

/** The input's next usable event, moved into the output's time and numbering; malformed ones are skipped. */
async function advance(input: Input, k: number, opts: MergeOptions): Promise<void> {
  for (;;) {
    const r = await input.events.next();
    if (r.done === true) {
      input.head = undefined;
      return;
    }
    input.stats.eventsIn++;
    const problem = eventProblem(r.value);
    if (problem !== undefined) {
      if (input.stats.malformed++ < 5) opts.onMalformed?.(input.file, problem);
      continue;
    }
    const event = moved(r.value, input, k);
    input.head = { event, endUs: event.event === 'exchange' ? event.t + event.timing.endUs : event.t };
    return;
  }
}

function moved(e: TraceEvent, input: Input, k: number): TraceEvent {
  const renumber = (n: number): number => (n - 1) * k + input.index;
  const t = e.t + input.shiftUs;
  switch (e.event) {
    case 'exchange':
    case 'incomplete':
      return { ...e, t, id: renumber(e.id), conn: renumber(e.conn), worker: e.worker ?? input.label };
    case 'connection':
      return { ...e, t, conn: renumber(e.conn), worker: e.worker ?? input.label };
    case 'cping':
      return { ...e, t, conn: renumber(e.conn) };
    case 'error':
      return e.conn === undefined ? { ...e, t } : { ...e, t, conn: renumber(e.conn) };
    case 'dropped':
      return { ...e, t, from: e.from + input.shiftUs, to: e.to + input.shiftUs };
    case 'diff':
      return { ...e, t, id: renumber(e.id) };
  }
}

function mergedHeader(
  headers: TraceHeader[],
  inputs: Input[],
  specs: readonly MergeInputSpec[],
  startUs: number,
  tool: string,
): TraceHeader {
  const mergeInputs: MergeInput[] = headers.map((h, i) => {
    const input = inputs[i] as Input;
    return {
      file: input.file,
      index: input.index,
      source: h.source,
      ...(Array.isArray(h.derivedBy) && h.derivedBy.length > 0 ? { derivedBy: h.derivedBy } : {}),
      startTimeUs: traceStartUs(h),
      offsetUs: specs[i]?.offsetUs ?? 0,
      label: input.label,
      options: h.options,
    };
  });
  return {
    format: 'ajpbench-trace',
    version: 1,
    minorVersion: TRACE_MINOR_VERSION,
    tool,
    source: { kind: 'merge', inputs: mergeInputs, ids: 'interleaved' },
    startTime: new Date(Math.floor(startUs / 1000)).toISOString(),
    startTimeUs: startUs,
    options: mergedOptions(headers.map((h) => (h as Partial<TraceHeader>).options)),
  };
}

/**
 * What the merged trace may hold: redacted only if every input was, the widest body policy and the
 * largest maxBody of any input (readers size their line bound by it). Each input's own is in the source.
 */
export function mergedOptions(given: (TraceOptions | undefined)[]): TraceOptions {
  // A header without options (hand-made) is taken to be unredacted and to keep every body.
  const all = given.map((o) =>
    o !== null && typeof o === 'object' ? o : { redact: false, bodies: 'all' as const, maxBody: 0 },
  );
  const bodies = all.reduce<BodyPolicy>(
    (w, o) => (BODY_ORDER.indexOf(o.bodies) > BODY_ORDER.indexOf(w) ? o.bodies : w),
    'none',
  );
  return {
    redact: all.every((o) => o.redact === true),
    bodies,
    maxBody: Math.max(0, ...all.map((o) => (Number.isFinite(o.maxBody) ? o.maxBody : 0))),
  };
}

/** The given labels, else file names; a default label two inputs share gets `-<index>` to keep them apart. */
function labelsFor(specs: readonly MergeInputSpec[]): string[] {
  const defaults = specs.map((s) => (s.file === '-' ? 'stdin' : basename(s.file).replace(/(\.trace)?\.jsonl?$/i, '')));
  return specs.map((s, i) => {
    if (s.label !== undefined) return s.label;
    const d = defaults[i] as string;
    return defaults.filter((x) => x === d).length > 1 ? `${d}-${i + 1}` : d;
  });
}

interface OpenedInput {
  trace: OpenTrace;
  stats: MergeSummary['inputs'][number];
  /** The file stream opened here (none for a stream the caller gave). */
  stream?: ReadStream;
}

/**
 * Every input opened and its header read. The streams are ours (files opened here), so that when one
 * input is not a trace, those already open are closed at once, not left to the garbage collector.
 */
async function openInputs(specs: readonly MergeInputSpec[], opts: MergeOptions): Promise<OpenedInput[]> {
  const ours: ReadStream[] = [];
  const opened: OpenedInput[] = [];
  try {
    for (const s of specs) {
      const stats = { file: s.file, label: '', offsetUs: s.offsetUs ?? 0, eventsIn: 0, malformed: 0, unreadable: 0 };
      // Each file is opened just before it is read: one that failed to open with no reader listening would end the process.
      let stream = s.stream;
      if (stream === undefined) {
        const file = createReadStream(s.file, { highWaterMark: READ_CHUNK });
        ours.push(file);
        stream = file;
      }
      const trace = await openTrace(stream, {
        onIssue: (e) => {
          stats.unreadable++;
          opts.onIssue?.(s.file, e);
        },
      }).catch((e: unknown) => {
        // Which of the inputs is not a trace: the message names it.
        throw e instanceof TraceFormatError ? new TraceFormatError(e.code, `${s.file}: ${e.message}`, e.line) : e;
      });
      opened.push({ trace, stats, ...(s.stream === undefined ? { stream: ours.at(-1) } : {}) });
    }
    return opened;
  } catch (e) {
    for (const stream of ours) stream.destroy();
    throw e;
  }
}

/**
 * filterTrace(): the library behind `ajpbench filter`. One streaming pass, in constant memory: each
 * event is read, judged (selectors, then sampling), transformed and written before the next is read,
 * with the writer's back-pressure respected, so `filter - -o -` sits in a pipe. The output is a trace
 * whose header says what was done (`derivedBy`), with the input's own history before it.
 *
 * Time: an event's `t` is unchanged unless `from` is given; then the output's time zero is the
 * `from` instant (every kept `t` stays ≥ 0, wall-clock times unchanged). `shiftTime` moves the wall
 * clock only (the header's start), for anonymity or to line traces up.
 */
import { UsageError } from '../errors.js';
import { compileSelector } from './exchange-select.js';
import { eventProblem } from './exchange-shape.js';
import { compileTransform } from './exchange-transform.js';
import type { FilterSpec, TimePoint } from './filter-spec.js';
import { sessionOfExchange, KeySampler } from './session-sample.js';
import { REDACTED } from './redaction.js';
import type { TraceFormatError } from './trace-errors.js';
import { openTrace } from './trace-reader.js';
import { traceStartUs } from './trace-start.js';
import {
  TRACE_MINOR_VERSION,
  type ExchangeEvent,
  type IncompleteEvent,
  type TraceEvent,
  type TraceHeader,
} from './trace-types.js';
import type { TraceWriter } from './trace-writer.js';

export interface FilterOptions {
  spec: FilterSpec;
  /** How the header names the input (`-` for stdin). */
  inputName: string;
  /** The ajpbench doing it ("ajpbench 0.3.0 (node v20...)"). */
  tool: string;
  /** Lines of the input that cannot be read (skipped, counted). */
  onIssue?: (err: TraceFormatError) => void;
  /** The first few malformed events, with the field at fault (skipped, counted). */
  onMalformed?: (what: string) => void;
}

export interface FilterSummary {
  eventsIn: number;
  eventsOut: number;
  /** exchange events read (usable ones) and written. */
  exchangesIn: number;
  exchangesOut: number;
  /** Lines that were not JSON events, and events with a field of the wrong type: skipped. */
  unreadable: number;
  malformed: number;
  /** `head` was reached: the rest of the input was not read. */
  stoppedAtHead: boolean;
}

type RequestEvent = ExchangeEvent | IncompleteEvent;

const isRequestEvent = (e: TraceEvent): e is RequestEvent => e.event === 'exchange' || e.event === 'incomplete';

/** Reads `input`, writes the filtered trace to the writer `open` makes from the derived header. */
export async function filterTrace(
  input: string | NodeJS.ReadableStream,
  open: (header: TraceHeader) => Promise<TraceWriter>,
  opts: FilterOptions,
): Promise<FilterSummary> {
  const { spec } = opts;
  const sum: FilterSummary = {
    eventsIn: 0,
    eventsOut: 0,
    exchangesIn: 0,
    exchangesOut: 0,
    unreadable: 0,
    malformed: 0,
    stoppedAtHead: false,
  };
  // A bad pattern or time is said before the input is opened (the window is resolved once the header is read).
  compileSelector(spec, {});
  const transform = compileTransform(spec);
  for (const p of [spec.from, spec.to])
    if (p !== undefined && 'at' in p) epochUsOf(p.at, p === spec.from ? '--from' : '--to');
  if (spec.shiftTime !== undefined && 'to' in spec.shiftTime) epochUsOf(spec.shiftTime.to, '--shift-time');
  const trace = await openTrace(input, {
    onIssue: (e) => {
      sum.unreadable++;
      opts.onIssue?.(e);
    },
  });
  const { header } = trace;
  checkSampling(spec, header);
  const fromUs = spec.from === undefined ? undefined : offsetOf(spec.from, header, '--from');
  const toUs = spec.to === undefined ? undefined : offsetOf(spec.to, header, '--to');
  const selector = compileSelector(spec, {
    ...(fromUs === undefined ? {} : { fromUs }),
    ...(toUs === undefined ? {} : { toUs }),
  });
  const sample = sampleDecision(spec);
  const rebaseUs = fromUs ?? 0;
  const writer = await open(derivedHeader(header, spec, opts, rebaseUs));
  let nextId = 1;
  try {
    for await (const e of trace.events) {
      sum.eventsIn++;
      const problem = eventProblem(e);
      if (problem !== undefined) {
        if (sum.malformed++ < 5) opts.onMalformed?.(problem);
        continue;
      }
      if (e.event === 'exchange') sum.exchangesIn++;
      if (!selector.keeps(e) || !sample(e)) continue;
      let out: TraceEvent = isRequestEvent(e) ? transform.apply(e) : e;
      if (spec.renumber === true && isRequestEvent(out)) out = { ...out, id: nextId++ };
      if (rebaseUs !== 0) out = rebased(out, rebaseUs);
      const wait = writer.write(out);
      if (wait !== undefined) await wait;
      sum.eventsOut++;
      if (out.event === 'exchange' && ++sum.exchangesOut === spec.head) {
        sum.stoppedAtHead = true;
        break;
      }
    }
  } finally {
    await writer.close();
  }
  return sum;
}

/** The output's header: the input's, with the filter added to its history and the clock moved. */
export function derivedHeader(
  input: TraceHeader,
  spec: FilterSpec,
  opts: Pick<FilterOptions, 'inputName' | 'tool'>,
  rebaseUs = 0,
): TraceHeader {
  const inputStartUs = traceStartUs(input);
  const startTimeUs = inputStartUs + rebaseUs + clockShiftUs(spec, inputStartUs + rebaseUs);
  return {
    ...input,
    minorVersion: Math.max(TRACE_MINOR_VERSION, typeof input.minorVersion === 'number' ? input.minorVersion : 0),
    tool: opts.tool,
    startTime: new Date(Math.floor(startTimeUs / 1000)).toISOString(),
    startTimeUs,
    options: spec.dropBodies === true ? { ...input.options, bodies: 'none' } : input.options,
    derivedBy: [
      ...(Array.isArray(input.derivedBy) ? input.derivedBy : []),
      {
        kind: 'filter',
        input: opts.inputName,
        tool: opts.tool,
        options: { ...spec },
        ids: spec.renumber === true ? 'renumbered' : 'kept',
      },
    ],
  };
}

/** How far shiftTime moves a clock that starts at `startUs`. */
function clockShiftUs(spec: FilterSpec, startUs: number): number {
  const s = spec.shiftTime;
  if (s === undefined) return 0;
  if ('byUs' in s) return s.byUs;
  return epochUsOf(s.to, '--shift-time') - startUs;
}

/** A time point as microseconds from the trace start. */
function offsetOf(p: TimePoint, header: TraceHeader, flag: string): number {
  return 'offsetUs' in p ? p.offsetUs : epochUsOf(p.at, flag) - traceStartUs(header);
}

function epochUsOf(iso: string, flag: string): number {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms))
    throw new UsageError(
      `${flag} takes an ISO 8601 time (2026-11-23T16:05:02Z) or an offset such as 90s, got ${JSON.stringify(iso)}`,
    );
  return ms * 1000;
}

/**
 * Redaction before minor version 2 kept only the route of a JSESSIONID (`REDACTED.tomcat1`): every
 * session of such a trace looks the same, so sampling by session would keep all or nothing. Since
 * 2 a session keeps a pseudonym of its own. Said before anything is written.
 */
function checkSampling(spec: FilterSpec, header: TraceHeader): void {
  if (spec.sample?.by !== 'session' || spec.sample.share >= 1) return;
  if ((header.options as Partial<TraceHeader['options']> | undefined)?.redact === true && header.minorVersion < 2)
    throw new UsageError(
      'cannot sample by session: the trace was recorded with redaction by an ajpbench before trace minor version 2, so every session id reads REDACTED; ' +
        'sample by connection or exchange (--sample-by), or import the capture again (sessions keep pseudonyms now)',
    );
}

/**
 * The sampling decision for an event. By session: an exchange's session (its JSESSIONID without the
 * route, or the one its response sets), an exchange without one by itself; by connection: its `conn`;
 * by exchange: its id. Events that are not requests are sampled only by connection, and dropped by the
 * other two (they would describe connections no longer in the trace), except those without a `conn`.
 */
function sampleDecision(spec: FilterSpec): (e: TraceEvent) => boolean {
  const s = spec.sample;
  if (s === undefined) return () => true;
  const sampler = new KeySampler(s.share, s.seed);
  switch (s.by) {
    case 'connection':
      return (e) => !('conn' in e) || e.conn === undefined || sampler.keeps(`conn:${e.conn}`);
    case 'exchange':
      return (e) => isRequestEvent(e) && sampler.keeps(`exchange:${e.id}`);
    case 'session':
      return (e) => {
        if (!isRequestEvent(e)) return false;
        const r = e.request;
        const session =
          r === null
            ? null
            : sessionOfExchange(r.headers, r.uri, e.event === 'exchange' ? e.response.headers : undefined);
        return sampler.keeps(session === null || session === REDACTED ? `exchange:${e.id}` : session);
      };
  }
}

function rebased(e: TraceEvent, byUs: number): TraceEvent {
  if (e.event === 'dropped') return { ...e, t: e.t - byUs, from: e.from - byUs, to: e.to - byUs };
  return { ...e, t: e.t - byUs };
}

/**
 * The summary of a trace that a person reads first (`ajpbench inspect`). It accumulates in constant
 * memory — counters, three HDR histograms and tables with a cap on distinct keys — so a 2 GB trace
 * streams through it. Rendering is apart: summary-table.ts, or the TraceSummary as JSON.
 */
import type { Histogram } from 'hdr-histogram-js';
import {
  clampUs,
  newLatencyHistogram,
  percentileUs,
  TRACE_LATENCY_US,
  type LatencyStats,
} from '../results/latency-histogram.js';
import { statusClass, type StatusClass } from '../results/replay-report.js';
import { isUsableExchange } from '../trace/exchange-shape.js';
import { openTrace, type TraceReadOptions } from '../trace/trace-reader.js';
import type {
  CPingEvent,
  ConnectionEvent,
  ErrorEvent,
  ExchangeEvent,
  IncompleteEvent,
  MergeInput,
  TraceDerivation,
  TraceEvent,
  TraceHeader,
  TraceOptions,
  TraceSource,
} from '../trace/trace-types.js';
import { cutKey, foldUri, printable, wireText } from '../trace/uri-fold.js';

export const DEFAULT_TOP_URIS = 10;
export const DEFAULT_MAX_DISTINCT_URIS = 10_000;
/** Distinct keys kept by the smaller tables (methods, routes, workers, codes, reasons). */
export const MAX_DISTINCT_KEYS = 1_000;
const MAX_KEY_LENGTH = 128;
/** The row that counts what fell beyond a table's cap on distinct keys. */
export const OTHER_KEY = '(other)';
/** Route or worker of an exchange that has none. */
export const NONE_KEY = 'none';

export interface TraceSummaryOptions {
  /** URIs listed in `uris.top` (10 by default). */
  top?: number;
  /** Distinct folded URIs counted; later new ones count in `uris.other` (10 000 by default). */
  maxDistinctUris?: number;
  /** The longest trace line read (see TraceReadOptions); longer ones count as unreadable. */
  maxLineBytes?: number;
}

export interface Count {
  name: string;
  count: number;
}

export interface StatusClasses {
  '1xx': number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
  /** A status outside 100-599. */
  other: number;
  /** Exchanges that never ended (the `incomplete` events). */
  incomplete: number;
}

export interface TraceSummary {
  trace: {
    format: string;
    version: number;
    minorVersion: number;
    tool: string;
    source: TraceSource | null;
    startTime: string;
    /** The start in µs since the Unix epoch; null in a trace written before the field existed. */
    startTimeUs: number | null;
    options: TraceOptions | null;
    /** What a derived trace went through after its source (minor 2: filter); absent when nothing. */
    derivedBy?: TraceDerivation[];
  };
  /** Events read (every line after the header that parsed as an event). */
  events: number;
  /** Lines skipped because they are not JSON or not an event (a cut-off last write, say). */
  unreadableLines: number;
  firstUnreadableLine: number | null;
  /** Events of a known kind with a field missing or of the wrong type (replay skips such exchanges too); skipped. */
  malformedEvents: number;
  /** Events of a kind this version does not know (a newer 1.x writer); skipped. */
  unknownEvents: number;
  /** Trace work the tap shed when its output fell behind (`dropped` events): forwarded, not traced. */
  dropped: { reports: number; exchanges: number; events: number };
  /** `diff` events (record --mirror, diff -o): exchanges whose candidate answer differed, and of them those where every difference was noise. */
  diffs: { events: number; differing: number; noiseOnly: number };
  span: {
    /** Earliest event time, µs since the trace start. */
    firstUs: number | null;
    /** Latest event end (an exchange ends at t + endUs), µs since the trace start. */
    lastUs: number | null;
    durationUs: number;
    firstAt: string | null;
    lastAt: string | null;
  };
  /** Complete exchanges; methods, routes, workers, URIs, latency and bytes count these. */
  exchanges: number;
  /** Exchanges started per second between the first and the last Forward Request; null below two. */
  requestsPerSecond: number | null;
  /** From the first to the last Forward Request, µs. */
  requestSpanUs: number;
  methods: Count[];
  statusClasses: StatusClasses;
  routes: Count[];
  /** Null when no exchange names a worker (a pcap import). */
  workers: Count[] | null;
  uris: {
    top: Count[];
    /** Distinct folded URIs counted (a floor when capped). */
    distinct: number;
    capped: boolean;
    /** Exchanges whose URI came after the cap was reached. */
    other: number;
  };
  latency: {
    /** Forward Request to Send Headers. */
    headersUs: LatencyStats;
    /** Forward Request to End Response. */
    endUs: LatencyStats;
  };
  bytes: {
    /** Request body bytes (web server to container), by the recorded body length. */
    requestBodies: number;
    /** Response body bytes (container to web server). */
    responseBodies: number;
  };
  cping: {
    count: number;
    /** CPings that got no CPong. */
    noCPong: number;
    rttUs: LatencyStats;
  };
  connections: {
    opened: number;
    closed: number;
    /** fin, rst, end, error, or unknown when the close event gives none. */
    closedBy: Count[];
    bytesToContainer: number;
    bytesToWebServer: number;
  };
  errors: { count: number; byCode: Count[] };
  incomplete: { count: number; byReason: Count[] };
  /**
   * Exchanges a damaged capture holds only in part (`truncated`, trace minor 1): those that ended
   * (counted in `exchanges` too) and those that did not (in `incomplete` too), and the bytes they lack.
   */
  truncated: { exchanges: number; incomplete: number; missingBytes: number };
}

/** Accumulates events one at a time; `build()` may be called at any point and again later. */
export class TraceSummaryBuilder {
  private readonly top: number;
  private readonly startMs: number;
  private events = 0;
  private unreadable = 0;
  private firstUnreadable: number | null = null;
  private malformed = 0;
  private unknown = 0;
  private readonly dropped = { reports: 0, exchanges: 0, events: 0 };
  private readonly diffs = { events: 0, differing: 0, noiseOnly: 0 };
  private firstUs = Infinity;
  private lastUs = -Infinity;
  private exchanges = 0;
  private readonly truncated = { exchanges: 0, incomplete: 0, missingBytes: 0 };
  private firstRequestUs = Infinity;
  private lastRequestUs = -Infinity;
  private readonly methods = tally(MAX_DISTINCT_KEYS);
  private readonly statusClasses: StatusClasses = {
    '1xx': 0,
    '2xx': 0,
    '3xx': 0,
    '4xx': 0,
    '5xx': 0,
    other: 0,
    incomplete: 0,
  };
  private readonly routes = tally(MAX_DISTINCT_KEYS);
  private readonly workers = tally(MAX_DISTINCT_KEYS);
  private sawWorker = false;
  private readonly uris: Tally;
  private readonly headersUs = latencyAcc();
  private readonly endUs = latencyAcc();
  private requestBodies = 0;
  private responseBodies = 0;
  private cpings = 0;
  private noCPong = 0;
  private readonly rttUs = latencyAcc();
  private opened = 0;
  private closed = 0;
  private readonly closedBy = tally(MAX_DISTINCT_KEYS);
  private bytesToContainer = 0;
  private bytesToWebServer = 0;
  private errors = 0;
  private readonly errorCodes = tally(MAX_DISTINCT_KEYS);
  private incomplete = 0;
  private readonly incompleteReasons = tally(MAX_DISTINCT_KEYS);

  constructor(
    private readonly header: TraceHeader,
    opts: TraceSummaryOptions = {},
  ) {
    this.top = opts.top ?? DEFAULT_TOP_URIS;
    this.uris = tally(opts.maxDistinctUris ?? DEFAULT_MAX_DISTINCT_URIS);
    // startTimeUs is the precise one; traces from before it existed have only the ISO string.
    const startUs = (header as Partial<TraceHeader>).startTimeUs;
    const startTime: unknown = (header as Partial<TraceHeader>).startTime;
    this.startMs = finite(startUs) ? startUs / 1000 : typeof startTime === 'string' ? Date.parse(startTime) : NaN;
  }

  /** A line the reader skipped (not JSON, not an event); `line` is 1-based. */
  unreadableLine(line: number): void {
    this.unreadable++;
    this.firstUnreadable ??= line;
  }

  add(event: TraceEvent): void {
    this.events++;
    // The reader checks only that a line is an object with an `event` name: check the fields
    // used here, so that one damaged line is skipped and counted rather than fatal.
    if (!finite(event.t)) {
      this.malformed++;
      return;
    }
    switch (event.event) {
      case 'exchange':
        return this.addExchange(event);
      case 'cping':
        return this.addCPing(event);
      case 'connection':
        return this.addConnection(event);
      case 'incomplete':
        return this.addIncomplete(event);
      case 'error':
        return this.addError(event);
      case 'dropped':
        if (!count(event.exchanges) || !count(event.events)) {
          this.malformed++;
          return;
        }
        this.dropped.reports++;
        this.dropped.exchanges += event.exchanges;
        this.dropped.events += event.events;
        return;
      case 'diff':
        if ((event.outcome !== 'differs' && event.outcome !== 'noise') || !Array.isArray(event.differences)) {
          this.malformed++;
          return;
        }
        this.diffs.events++;
        if (event.outcome === 'noise') this.diffs.noiseOnly++;
        else this.diffs.differing++;
        return;
      default:
        this.unknown++;
    }
  }

  build(): TraceSummary {
    const any = this.firstUs !== Infinity;
    const requestSpanUs = this.exchanges > 0 ? this.lastRequestUs - this.firstRequestUs : 0;
    return {
      trace: headerFacts(this.header),
      events: this.events,
      unreadableLines: this.unreadable,
      firstUnreadableLine: this.firstUnreadable,
      malformedEvents: this.malformed,
      unknownEvents: this.unknown,
      dropped: { ...this.dropped },
      diffs: { ...this.diffs },
      span: {
        firstUs: any ? this.firstUs : null,
        lastUs: any ? this.lastUs : null,
        durationUs: any ? this.lastUs - this.firstUs : 0,
        firstAt: any ? this.at(this.firstUs) : null,
        lastAt: any ? this.at(this.lastUs) : null,
      },
      exchanges: this.exchanges,
      requestsPerSecond: this.exchanges >= 2 && requestSpanUs > 0 ? (this.exchanges - 1) / (requestSpanUs / 1e6) : null,
      requestSpanUs,
      methods: ranked(this.methods),
      statusClasses: { ...this.statusClasses },
      routes: ranked(this.routes),
      workers: this.sawWorker ? ranked(this.workers) : null,
      uris: {
        top: ranked({ ...this.uris, other: 0 }, this.top),
        distinct: this.uris.counts.size,
        capped: this.uris.other > 0,
        other: this.uris.other,
      },
      latency: { headersUs: latencyStats(this.headersUs), endUs: latencyStats(this.endUs) },
      bytes: { requestBodies: this.requestBodies, responseBodies: this.responseBodies },
      cping: { count: this.cpings, noCPong: this.noCPong, rttUs: latencyStats(this.rttUs) },
      connections: {
        opened: this.opened,
        closed: this.closed,
        closedBy: ranked(this.closedBy),
        bytesToContainer: this.bytesToContainer,
        bytesToWebServer: this.bytesToWebServer,
      },
      errors: { count: this.errors, byCode: ranked(this.errorCodes) },
      incomplete: { count: this.incomplete, byReason: ranked(this.incompleteReasons) },
      truncated: { ...this.truncated },
    };
  }

  private addExchange(e: ExchangeEvent): void {
    // The same check as replay's, so that what is counted malformed here is what replay skips.
    if (!isUsableExchange(e)) {
      this.malformed++;
      return;
    }
    const { request, response, timing } = e;
    const bytes = e.byteStrings === true;
    this.exchanges++;
    if (this.addTruncated(e.truncated)) this.truncated.exchanges++;
    this.seen(e.t, e.t + timing.endUs);
    this.firstRequestUs = Math.min(this.firstRequestUs, e.t);
    this.lastRequestUs = Math.max(this.lastRequestUs, e.t);
    bump(this.methods, key(request.method, bytes, '(none)'));
    this.statusClasses[classOf(response.status)]++;
    bump(this.routes, key(e.route, bytes, NONE_KEY));
    if (typeof e.worker === 'string') this.sawWorker = true;
    bump(this.workers, key(e.worker, false, NONE_KEY));
    bump(this.uris, foldUri(request.uri, { byteStrings: bytes }));
    if (finite(timing.headersUs)) record(this.headersUs, timing.headersUs);
    record(this.endUs, timing.endUs);
    this.requestBodies += request.body.length;
    this.responseBodies += response.body.length;
  }

  private addCPing(e: CPingEvent): void {
    if (e.rttUs !== null && !finite(e.rttUs)) {
      this.malformed++;
      return;
    }
    this.seen(e.t, e.t);
    this.cpings++;
    if (e.rttUs === null) this.noCPong++;
    else record(this.rttUs, e.rttUs);
  }

  private addConnection(e: ConnectionEvent): void {
    if (e.state !== 'open' && e.state !== 'close') {
      this.malformed++;
      return;
    }
    this.seen(e.t, e.t);
    if (e.state === 'open') {
      this.opened++;
      return;
    }
    this.closed++;
    bump(this.closedBy, key(e.reason, false, 'unknown'));
    if (finite(e.bytesToContainer)) this.bytesToContainer += e.bytesToContainer;
    if (finite(e.bytesToWebServer)) this.bytesToWebServer += e.bytesToWebServer;
  }

  private addIncomplete(e: IncompleteEvent): void {
    this.seen(e.t, e.t);
    this.incomplete++;
    if (this.addTruncated(e.truncated)) this.truncated.incomplete++;
    this.statusClasses.incomplete++;
    bump(this.incompleteReasons, key(e.reason, false, 'unknown'));
  }

  /** Whether the event is marked truncated; adds its missing bytes. */
  private addTruncated(t: unknown): boolean {
    if (typeof t !== 'object' || t === null) return false;
    const missing = (t as { missingBytes?: unknown }).missingBytes;
    if (finite(missing)) this.truncated.missingBytes += missing;
    return true;
  }

  private addError(e: ErrorEvent): void {
    this.seen(e.t, e.t);
    this.errors++;
    bump(this.errorCodes, key(e.code, false, 'unknown'));
  }

  private seen(start: number, end: number): void {
    if (start < this.firstUs) this.firstUs = start;
    if (end > this.lastUs) this.lastUs = end;
  }

  private at(us: number): string | null {
    const d = new Date(this.startMs + us / 1000);
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }
}

/** Streams a trace file (or stream) through a TraceSummaryBuilder. Throws TraceFormatError for a non-trace, and the fs error for an unreadable file. */
export async function summarizeTrace(
  input: string | NodeJS.ReadableStream,
  opts: TraceSummaryOptions = {},
): Promise<TraceSummary> {
  // eslint-disable-next-line prefer-const -- assigned after the callback that reads it is created
  let builder: TraceSummaryBuilder | undefined;
  // Issues come only while events are read, after the header: the builder exists by then.
  const read: TraceReadOptions = { onIssue: (err) => builder?.unreadableLine(err.line) };
  if (opts.maxLineBytes !== undefined) read.maxLineBytes = opts.maxLineBytes;
  const trace = await openTrace(input, read);
  builder = new TraceSummaryBuilder(trace.header, opts);
  for await (const event of trace.events) builder.add(event);
  return builder.build();
}

// --- the header, as far as its fields have the types the format gives them ----------------------

/**
 * The reader checks only the header's format and version: a field of another type (a damaged or
 * hand-made header) becomes unknown here rather than a TypeError in the table.
 */
function headerFacts(header: TraceHeader): TraceSummary['trace'] {
  const h = header as unknown as Record<string, unknown>;
  return {
    format: String(h.format),
    version: finite(h.version) ? h.version : 0,
    minorVersion: finite(h.minorVersion) ? h.minorVersion : 0,
    tool: typeof h.tool === 'string' ? h.tool : 'unknown',
    source: sourceFacts(h.source),
    startTime: typeof h.startTime === 'string' ? h.startTime : '',
    startTimeUs: finite(h.startTimeUs) ? h.startTimeUs : null,
    options: optionsFacts(h.options),
    ...derivationFacts(h.derivedBy),
  };
}

function derivationFacts(v: unknown): { derivedBy?: TraceDerivation[] } {
  if (!Array.isArray(v)) return {};
  const steps = v.filter(isRecord).flatMap((d): TraceDerivation[] =>
    d.kind === 'filter' && typeof d.input === 'string' && isRecord(d.options)
      ? [
          {
            kind: 'filter',
            input: d.input,
            tool: typeof d.tool === 'string' ? d.tool : '?',
            options: d.options,
            ids: d.ids === 'renumbered' ? 'renumbered' : 'kept',
          },
        ]
      : [],
  );
  return steps.length === 0 ? {} : { derivedBy: steps };
}

function sourceFacts(v: unknown): TraceSource | null {
  if (!isRecord(v)) return null;
  if (v.kind === 'pcap') {
    const ports = v.ports === 'auto' ? 'auto' : Array.isArray(v.ports) ? v.ports.filter(finite) : [];
    return { kind: 'pcap', file: typeof v.file === 'string' ? v.file : '?', ports };
  }
  if (v.kind === 'tap') {
    const taps = (Array.isArray(v.taps) ? v.taps : []).filter(isRecord).map((t) => ({
      listen: typeof t.listen === 'string' ? t.listen : '?',
      upstream: typeof t.upstream === 'string' ? t.upstream : '?',
      ...(typeof t.worker === 'string' ? { worker: t.worker } : {}),
    }));
    return { kind: 'tap', taps };
  }
  if (v.kind === 'har' && typeof v.file === 'string')
    return { kind: 'har', file: v.file, ...(typeof v.creator === 'string' ? { creator: v.creator } : {}) };
  if (v.kind === 'merge' && Array.isArray(v.inputs)) {
    const inputs = v.inputs.filter(isRecord).flatMap((i): MergeInput[] => {
      const source = sourceFacts(i.source);
      const options = optionsFacts(i.options);
      if (source === null || options === null || typeof i.file !== 'string' || typeof i.label !== 'string') return [];
      if (!finite(i.index) || !finite(i.offsetUs) || !finite(i.startTimeUs)) return [];
      const { derivedBy } = derivationFacts(i.derivedBy);
      return [
        {
          file: i.file,
          index: i.index,
          source,
          ...(derivedBy === undefined ? {} : { derivedBy }),
          startTimeUs: i.startTimeUs,
          offsetUs: i.offsetUs,
          label: i.label,
          options,
        },
      ];
    });
    return { kind: 'merge', inputs, ids: 'interleaved' };
  }
  return null;
}

function optionsFacts(v: unknown): TraceOptions | null {
  if (!isRecord(v) || typeof v.redact !== 'boolean' || !finite(v.maxBody)) return null;
  if (v.bodies !== 'none' && v.bodies !== 'request' && v.bodies !== 'all') return null;
  return { redact: v.redact, bodies: v.bodies, maxBody: v.maxBody };
}

// --- counting tables with a cap on distinct keys -------------------------------------------------

interface Tally {
  counts: Map<string, number>;
  cap: number;
  /** Counted after the cap was reached, under a key not already present. */
  other: number;
}

function tally(cap: number): Tally {
  return { counts: new Map(), cap, other: 0 };
}

function bump(t: Tally, k: string): void {
  const n = t.counts.get(k);
  if (n !== undefined) t.counts.set(k, n + 1);
  else if (t.counts.size < t.cap) t.counts.set(k, 1);
  else t.other++;
}

/** Most first, ties by name; the overflow as a last OTHER_KEY row. */
function ranked(t: Tally, limit = Infinity): Count[] {
  const rows = [...t.counts].map(([name, count]) => ({ name, count }));
  rows.sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out = rows.slice(0, limit);
  if (t.other > 0) out.push({ name: OTHER_KEY, count: t.other });
  return out;
}

/** A wire string as a printable, bounded table key. */
function key(s: unknown, byteStrings: boolean, missing: string): string {
  if (typeof s !== 'string') return missing;
  return cutKey(printable(byteStrings ? wireText(s) : s), MAX_KEY_LENGTH);
}

function classOf(status: unknown): StatusClass {
  return finite(status) ? statusClass(status) : 'other';
}

// --- latency: an HDR histogram for percentiles, exact count, sum and max -------------------------

interface LatencyAcc {
  hist: Histogram;
  count: number;
  sum: number;
  max: number;
}

function latencyAcc(): LatencyAcc {
  return { hist: newLatencyHistogram(TRACE_LATENCY_US), count: 0, sum: 0, max: 0 };
}

function record(acc: LatencyAcc, us: number): void {
  const v = clampUs(us, TRACE_LATENCY_US);
  acc.hist.recordValue(v);
  acc.count++;
  acc.sum += v;
  if (v > acc.max) acc.max = v;
}

function latencyStats(acc: LatencyAcc): LatencyStats {
  if (acc.count === 0) return { count: 0, mean: null, p50: null, p90: null, p99: null, p99_9: null, max: null };
  return {
    count: acc.count,
    mean: acc.sum / acc.count,
    p50: percentileUs(acc.hist, 50),
    p90: percentileUs(acc.hist, 90),
    p99: percentileUs(acc.hist, 99),
    p99_9: percentileUs(acc.hist, 99.9),
    max: acc.max,
  };
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A whole number of things, as a writer of ours puts it. */
function count(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

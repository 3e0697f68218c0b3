/**
 * The metrics monitor: trace events (as TapRecorderOptions.observe and ImportOptions.observe see
 * them) turned into Prometheus metrics on a private prom-client Registry. docs/metrics.md lists
 * every metric; docs/grafana-dashboard.json reads them.
 *
 * Labels are bounded so a long run cannot grow the series without end: `worker` is the tap's mod_jk
 * worker name, else the container address (at most MAX_WORKER_LABELS, then `other`); `method` one of the
 * AJP method table's names or `other`; `status_class` 1xx..5xx or `other`; `uri` from UriGroups;
 * error `code` a stable AJP_ERR_/TAP_ERR_/CAPTURE_ERR_ code (at most MAX_CODE_LABELS).
 *
 * Cost: observe() runs on the tap's thread once per event. What an event updates is kept in plain
 * cells (preset-families.ts says why not prom-client's own Counter and Histogram there), looked up
 * once per series and kept in WorkerSeries, so an exchange costs a few additions and no string
 * building but the URI label's, whose raw URI -> label cache is bounded (uri-groups.ts).
 * What events do not carry (bytes forwarded, connections open now, trace work dropped) is read at
 * scrape time from a LiveFigures source (the TapRecorder), through prom-client Counter and Gauge
 * collect() callbacks; prom-client renders everything, with its process metrics.
 */
import { collectDefaultMetrics, Counter, exponentialBuckets, Gauge, Registry } from 'prom-client';
import { METHOD_CODES } from '../../protocol/index.js';
import type { ConnectionEvent, ExchangeEvent, IncompleteEvent, TraceEvent } from '../../trace/index.js';
import { CounterFamily, HistogramFamily, type CounterCell, type HistogramCell } from './preset-families.js';
import { UriGroups, type UriGroupOptions } from './uri-groups.js';

/** Time to headers and to end: AJP exchanges from a sub-millisecond static hit to a 30 s report. */
export const LATENCY_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;
/** CPing/CPong is a loopback or LAN round trip: 50 µs to 1 s. */
export const CPING_BUCKETS_S = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
] as const;
/** Body sizes, 64 B to 64 MiB in steps of 4. */
export const BODY_BUCKETS_BYTES: readonly number[] = exponentialBuckets(64, 4, 11);

export const MAX_WORKER_LABELS = 64;
export const MAX_CODE_LABELS = 64;
export const OTHER_LABEL = 'other';
/**
 * Connections remembered for their worker at most: a connection whose close never comes (its
 * decoder failed, TAP_ERR_DECODER) must not be remembered forever; past this the oldest is forgotten.
 */
export const MAX_TRACKED_CONNECTIONS = 65_536;
/** Events of a connection whose open was not seen (an error before it, a capture joined late). */
export const UNKNOWN_WORKER = 'unknown';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', OTHER_LABEL] as const;

function statusClassIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5;
}

/** Live figures the events do not carry, per tap, read at scrape time. */
export interface LiveTapFigures {
  /** The tap's worker name, else its upstream address: the same `worker` label its events get. */
  label: string;
  open: number;
  bytesToContainer: number;
  bytesToWebServer: number;
  upstreamFailures: number;
  resets: number;
  tracesShed: number;
}

export interface LiveFigures {
  taps: readonly LiveTapFigures[];
  /** Trace events the output could not take (the traffic was forwarded). */
  eventsDropped: number;
  exchangesDropped: number;
}

export interface AjpMetricsOptions {
  uriGroups?: UriGroupOptions;
  /** prom-client's process and Node.js metrics (CPU, memory, event-loop lag, GC); default true. */
  processMetrics?: boolean;
}

type Families = ReturnType<AjpMetrics['createFamilies']>;

/** The cells of one worker label, kept so an event finds its series without building a key. */
class WorkerSeries {
  /** method -> status class index -> exchanges counter. */
  readonly exchanges = new Map<string, (CounterCell | undefined)[]>();
  readonly headers: (HistogramCell | undefined)[] = [];
  readonly end: (HistogramCell | undefined)[] = [];
  readonly uris = new Map<string, { duration: HistogramCell; byClass: (CounterCell | undefined)[] }>();
  readonly requestBody: HistogramCell;
  readonly responseBody: HistogramCell;
  readonly cpingRtt: HistogramCell;
  readonly cpingNoPong: CounterCell;
  readonly opened: CounterCell;
  /** From connection events: what open connections and bytes are when no live figures are given. */
  open = 0;
  bytesToContainer = 0;
  bytesToWebServer = 0;

  constructor(
    readonly label: string,
    m: Families,
  ) {
    this.requestBody = m.requestBody.cell(label);
    this.responseBody = m.responseBody.cell(label);
    this.cpingRtt = m.cpingRtt.cell(label);
    this.cpingNoPong = m.cpingsWithoutPong.cell(label);
    this.opened = m.connections.cell(label);
  }
}

export class AjpMetrics {
  readonly registry = new Registry();
  private readonly uriGroups: UriGroups;
  private readonly workers = new Map<string, WorkerSeries>();
  /** conn -> its worker's series, while the connection is open (CPing and error events carry only conn). */
  private readonly conns = new Map<number, WorkerSeries>();
  private readonly errorCodes = new Set<string>();
  private live: (() => LiveFigures) | undefined;

  /** The metric families: exported names are docs/metrics.md's. */
  readonly families = this.createFamilies();

  constructor(opts: AjpMetricsOptions = {}) {
    this.uriGroups = new UriGroups(opts.uriGroups);
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  private createFamilies() {
    const registers = [this.registry];
    const openConnections: Gauge<'worker'> = new Gauge({
      name: 'ajpbench_open_connections',
      help: 'Connections open now, by worker',
      labelNames: ['worker'] as const,
      registers,
      collect: () => this.collectOpen(openConnections),
    });
    const bytes: Counter<'worker' | 'direction'> = new Counter({
      name: 'ajpbench_bytes_total',
      help: 'Bytes forwarded, by worker and direction (to_container, to_web_server); from a capture: counted when the connection closes',
      labelNames: ['worker', 'direction'] as const,
      registers,
      collect: () => this.collectBytes(bytes),
    });
    const tapEvents: Counter<'worker' | 'kind'> = new Counter({
      name: 'ajpbench_tap_events_total',
      help: 'What the tap did beside the trace, by worker and kind (upstream_connect_failed, reset_passed_on, trace_shed)',
      labelNames: ['worker', 'kind'] as const,
      registers,
      collect: () => this.collectTapEvents(tapEvents),
    });
    const dropped: Counter<'kind'> = new Counter({
      name: 'ajpbench_trace_dropped_total',
      help: 'Trace work dropped because the trace output could not keep up (the traffic was forwarded), by kind (events, exchanges)',
      labelNames: ['kind'] as const,
      registers,
      collect: () => {
        const live = this.readLive();
        dropped.reset();
        dropped.labels('events').inc(live?.eventsDropped ?? 0);
        dropped.labels('exchanges').inc(live?.exchangesDropped ?? 0);
      },
    });
    const uriGroups: Gauge = new Gauge({
      name: 'ajpbench_uri_groups',
      help: 'Values the uri label can take now (rule names, admitted patterns, other, (none))',
      registers,
      collect: () => uriGroups.set(this.uriGroups.labels),
    });
    return {
      openConnections,
      bytes,
      tapEvents,
      dropped,
      uriGroups,
      exchanges: new CounterFamily(
        'ajpbench_exchanges_total',
        'AJP exchanges completed (End Response seen), by worker, request method and response status class',
        ['worker', 'method', 'status_class'],
      ).registerWith(this.registry),
      incomplete: new CounterFamily(
        'ajpbench_incomplete_exchanges_total',
        'Forward Requests that ended without an End Response, by worker and reason (closed, reset, end, gap, error)',
        ['worker', 'reason'],
      ).registerWith(this.registry),
      headers: new HistogramFamily(
        'ajpbench_time_to_headers_seconds',
        'From the Forward Request to Send Headers, by worker and status class',
        ['worker', 'status_class'],
        LATENCY_BUCKETS_S,
      ).registerWith(this.registry),
      end: new HistogramFamily(
        'ajpbench_exchange_duration_seconds',
        'From the Forward Request to End Response, by worker and status class',
        ['worker', 'status_class'],
        LATENCY_BUCKETS_S,
      ).registerWith(this.registry),
      uriDuration: new HistogramFamily(
        'ajpbench_uri_duration_seconds',
        'From the Forward Request to End Response, by worker and URI group (bounded: --uri-group, --uri-top)',
        ['worker', 'uri'],
        LATENCY_BUCKETS_S,
      ).registerWith(this.registry),
      uriExchanges: new CounterFamily(
        'ajpbench_uri_exchanges_total',
        'AJP exchanges completed, by worker, URI group and status class',
        ['worker', 'uri', 'status_class'],
      ).registerWith(this.registry),
      requestBody: new HistogramFamily(
        'ajpbench_request_body_bytes',
        'Request body length of completed exchanges, by worker',
        ['worker'],
        BODY_BUCKETS_BYTES,
      ).registerWith(this.registry),
      responseBody: new HistogramFamily(
        'ajpbench_response_body_bytes',
        'Response body length of completed exchanges, by worker',
        ['worker'],
        BODY_BUCKETS_BYTES,
      ).registerWith(this.registry),
      cpingRtt: new HistogramFamily(
        'ajpbench_cping_rtt_seconds',
        'CPing to CPong round trip, by worker',
        ['worker'],
        CPING_BUCKETS_S,
      ).registerWith(this.registry),
      cpingsWithoutPong: new CounterFamily(
        'ajpbench_cpings_without_pong_total',
        'CPings that got no CPong (the connection went on or closed without one), by worker; answered ones are ajpbench_cping_rtt_seconds_count',
        ['worker'],
      ).registerWith(this.registry),
      connections: new CounterFamily('ajpbench_connections_total', 'Connections opened by the web server, by worker', [
        'worker',
      ]).registerWith(this.registry),
      connectionsClosed: new CounterFamily(
        'ajpbench_connections_closed_total',
        'Connections closed, by worker and reason (fin, rst, end, error)',
        ['worker', 'reason'],
      ).registerWith(this.registry),
      errors: new CounterFamily(
        'ajpbench_errors_total',
        'Trace error events (AJP_ERR_* decode errors, TAP_ERR_* and CAPTURE_ERR_*), by worker and code',
        ['worker', 'code'],
      ).registerWith(this.registry),
    };
  }

  /** Read live figures (the recorder's) at every scrape. */
  readLiveFrom(source: () => LiveFigures): void {
    this.live = source;
  }

  /** The scrape: the text format and its Content-Type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    // Registry.metrics() renders every metric in one go on the tap's thread (about 1.4 ms for two
    // workers, 40 URI groups and the process metrics here); metric by metric, with a turn of the
    // event loop between them, the sockets that became ready meanwhile are served between slices.
    // The text is the same as metrics()'s for the Prometheus format: the metrics joined by a blank line.
    const parts: string[] = [];
    for (const m of this.registry.getMetricsAsArray()) {
      parts.push(await this.registry.getSingleMetricAsString(m.name));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { contentType: this.registry.contentType, body: `${parts.join('\n\n')}\n` };
  }

  /** A TraceObserver: one trace event into the metrics. Never throws on a well-formed event. */
  readonly observe = (e: TraceEvent): void => {
    switch (e.event) {
      case 'exchange':
        this.exchange(e);
        break;
      case 'incomplete':
        this.incomplete(e);
        break;
      case 'cping': {
        const w = this.conns.get(e.conn) ?? this.worker(UNKNOWN_WORKER);
        if (e.rttUs === null) w.cpingNoPong.inc();
        else w.cpingRtt.observe(e.rttUs / 1e6);
        break;
      }
      case 'connection':
        this.connection(e);
        break;
      case 'error': {
        const w = (e.conn === undefined ? undefined : this.conns.get(e.conn)) ?? this.worker(UNKNOWN_WORKER);
        const code = this.errorCodes.has(e.code) || this.errorCodes.size < MAX_CODE_LABELS ? e.code : OTHER_LABEL;
        this.errorCodes.add(code);
        this.families.errors.cell(w.label, code).inc();
        break;
      }
      case 'dropped':
        break; // counted from the live figures (the observer sees events before the output drops any)
    }
  };

  private exchange(e: ExchangeEvent): void {
    const w = this.worker(e.worker ?? e.upstream);
    const k = statusClassIndex(e.response.status);
    const method = METHOD_CODES.has(e.request.method) ? e.request.method : OTHER_LABEL;
    let byClass = w.exchanges.get(method);
    if (byClass === undefined) w.exchanges.set(method, (byClass = []));
    (byClass[k] ??= this.families.exchanges.cell(w.label, method, STATUS_CLASSES[k] as string)).inc();
    const endS = e.timing.endUs / 1e6;
    if (e.timing.headersUs !== null)
      (w.headers[k] ??= this.families.headers.cell(w.label, STATUS_CLASSES[k] as string)).observe(
        e.timing.headersUs / 1e6,
      );
    (w.end[k] ??= this.families.end.cell(w.label, STATUS_CLASSES[k] as string)).observe(endS);
    const uri = this.uriGroups.label(e.request.uri, e.byteStrings === true);
    let u = w.uris.get(uri);
    if (u === undefined) {
      u = { duration: this.families.uriDuration.cell(w.label, uri), byClass: [] };
      w.uris.set(uri, u);
    }
    u.duration.observe(endS);
    (u.byClass[k] ??= this.families.uriExchanges.cell(w.label, uri, STATUS_CLASSES[k] as string)).inc();
    w.requestBody.observe(e.request.body.length);
    w.responseBody.observe(e.response.body.length);
  }

  private incomplete(e: IncompleteEvent): void {
    const w = this.worker(e.worker ?? e.upstream);
    this.families.incomplete.cell(w.label, e.reason).inc();
  }

  private connection(e: ConnectionEvent): void {
    if (e.state === 'open') {
      const w = this.worker(e.worker ?? e.upstream);
      if (this.conns.size >= MAX_TRACKED_CONNECTIONS) this.conns.delete(this.conns.keys().next().value as number);
      this.conns.set(e.conn, w);
      w.opened.inc();
      w.open++;
      return;
    }
    const w = this.conns.get(e.conn) ?? this.worker(e.worker ?? e.upstream);
    this.conns.delete(e.conn);
    w.open = Math.max(0, w.open - 1);
    w.bytesToContainer += e.bytesToContainer ?? 0;
    w.bytesToWebServer += e.bytesToWebServer ?? 0;
    this.families.connectionsClosed.cell(w.label, e.reason ?? 'end').inc();
  }

  /** The series of a worker label, created on first use; past MAX_WORKER_LABELS labels, `other`'s. */
  private worker(label: string): WorkerSeries {
    const w = this.workers.get(label);
    if (w !== undefined) return w;
    const name = this.workers.size < MAX_WORKER_LABELS ? label : OTHER_LABEL;
    const created = this.workers.get(name) ?? new WorkerSeries(name, this.families);
    this.workers.set(name, created);
    return created;
  }

  private readLive(): LiveFigures | undefined {
    try {
      return this.live?.();
    } catch {
      return undefined; // a scrape never fails for a figure it cannot read
    }
  }

  private collectOpen(g: Gauge<'worker'>): void {
    g.reset();
    const live = this.readLive();
    if (live === undefined) for (const w of this.workers.values()) g.labels(w.label).set(w.open);
    else for (const [label, t] of sumByLabel(live.taps)) g.labels(label).set(t.open);
  }

  private collectBytes(c: Counter<'worker' | 'direction'>): void {
    c.reset();
    const live = this.readLive();
    const rows =
      live === undefined
        ? [...this.workers.values()].map((w) => [w.label, w] as const)
        : [...sumByLabel(live.taps)].map(([label, t]) => [label, t] as const);
    for (const [label, t] of rows) {
      c.labels(label, 'to_container').inc(t.bytesToContainer);
      c.labels(label, 'to_web_server').inc(t.bytesToWebServer);
    }
  }

  private collectTapEvents(c: Counter<'worker' | 'kind'>): void {
    c.reset();
    const live = this.readLive();
    if (live === undefined) return;
    for (const [label, t] of sumByLabel(live.taps)) {
      c.labels(label, 'upstream_connect_failed').inc(t.upstreamFailures);
      c.labels(label, 'reset_passed_on').inc(t.resets);
      c.labels(label, 'trace_shed').inc(t.tracesShed);
    }
  }
}

/** Taps that share a label (two taps to one upstream without worker names) are one series. */
function sumByLabel(taps: readonly LiveTapFigures[]): Map<string, Omit<LiveTapFigures, 'label'>> {
  const out = new Map<string, Omit<LiveTapFigures, 'label'>>();
  for (const t of taps) {
    const s = out.get(t.label);
    if (s === undefined) out.set(t.label, { ...t });
    else
      for (const k of [
        'open',
        'bytesToContainer',
        'bytesToWebServer',
        'upstreamFailures',
        'resets',
        'tracesShed',
      ] as const)
        s[k] += t[k];
  }
  return out;
}

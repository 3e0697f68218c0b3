/**
 * Trace format v1: the contract between capture (tap, pcap import), replay and reports.
 * JSON Lines: one TraceHeader line, then one TraceEvent per line in the order events completed.
 * docs/trace-format.md describes every field; docs/trace-format.schema.json is the JSON Schema.
 *
 * Compatibility: readers accept any 1.x; a new optional field is a minor change, anything a v1
 * reader would misread is a new major version (and v1 readers refuse it with a clear error).
 *
 * Strings: text as UTF-8. An exchange whose strings are not all valid UTF-8 is written with
 * `byteStrings: true`, and then every string in it is the wire bytes one character per byte
 * (ISO-8859-1), so that replay reproduces the bytes exactly either way.
 */
import type { FORWARD_REQUEST_FIELDS, ForwardRequest } from '../protocol/index.js';

export const TRACE_FORMAT = 'ajpbench-trace';
export const TRACE_VERSION = 1;
/**
 * 1: `truncated` on exchange and incomplete events (salvage from damaged captures).
 * 2: derived traces say what produced them: `derivedBy` (filter), the `merge` and `har` sources;
 *    and the `diff` event (a mirrored or replayed exchange compared with its primary).
 */
export const TRACE_MINOR_VERSION = 2;

export type BodyPolicy = 'none' | 'request' | 'all';

export interface TraceOptions {
  /** Authorization values, cookie values (but the JSESSIONID route suffix) replaced by REDACTED. */
  redact: boolean;
  bodies: BodyPolicy;
  /** Body bytes kept at most; longer bodies keep length and hash and are marked truncated. */
  maxBody: number;
}

export type TraceSource =
  | { kind: 'pcap'; file: string; ports: number[] | 'auto' }
  | { kind: 'tap'; taps: { listen: string; upstream: string; worker?: string }[] }
  | MergeSource
  | HarSource;

/**
 * One input of a merged trace (minor 2): where it came from and how its events were moved. Input `index`
 * (1-based) of `count` had its `conn` and `id` numbers n turned into (n - 1) × count + index, so that they
 * stay distinct and each maps back to the input's own.
 */
export interface MergeInput {
  file: string;
  index: number;
  source: TraceSource;
  derivedBy?: TraceDerivation[];
  /** The input's own start, microseconds since the Unix epoch, before the offset. */
  startTimeUs: number;
  /** Added to the input's clock (a host whose clock ran behind gets a positive offset), microseconds. */
  offsetUs: number;
  /** The worker label its events without one were given. */
  label: string;
  options: TraceOptions;
}

/** Traces from several taps or captures merged in time order (`ajpbench merge`, minor 2). */
export interface MergeSource {
  kind: 'merge';
  inputs: MergeInput[];
  /** How conn and id numbers were made distinct: see MergeInput. */
  ids: 'interleaved';
}

/** A HAR file (a browser's recording) turned into a trace (`ajpbench import file.har`, minor 2). */
export interface HarSource {
  kind: 'har';
  file: string;
  /** The HAR's creator ("WebInspector 537.36"), when it names one. */
  creator?: string;
}

/** A transformation a derived trace went through after its source, e.g. `ajpbench filter` (minor 2). */
export interface TraceDerivation {
  kind: 'filter';
  /** The input file (`-` for stdin). */
  input: string;
  /** The ajpbench that did it. */
  tool: string;
  /** The filter's options as given (selectors, sampling, transforms). */
  options: Record<string, unknown>;
  /** Exchange ids kept as in the input (with gaps) or renumbered 1, 2, ... in output order. */
  ids: 'kept' | 'renumbered';
}

export interface TraceHeader {
  format: typeof TRACE_FORMAT;
  version: number;
  minorVersion: number;
  /** The ajpbench that wrote it. */
  tool: string;
  source: TraceSource;
  /** ISO 8601 time of the trace start; every event's `t` counts microseconds from it. */
  startTime: string;
  /** The same instant in microseconds since the Unix epoch (startTime has only milliseconds). */
  startTimeUs: number;
  options: TraceOptions;
  /** Minor 2: what the trace went through after its source, oldest first (absent: nothing). */
  derivedBy?: TraceDerivation[];
}

/** [name, value] in wire order; a null value (0xFFFF string) stays null. */
export type HeaderPair = [string, string | null];

export interface TraceBody {
  length: number;
  sha256: string;
  /** Base64 of the bytes kept (all of them unless truncated); absent when the policy keeps none. */
  data?: string;
  /** Longer than maxBody: `data` holds only the first maxBody bytes. */
  truncated?: boolean;
}

/**
 * The ForwardRequest fields the trace writes in a form of its own (declared in TraceRequest), or
 * not at all: `type` (the event says it), `methodCode` (a method outside the table travels as
 * the stored_method attribute, and replay sends it that way again).
 */
type TraceRequestOwnForm = 'type' | 'methodCode' | 'headers' | 'attributes';

/**
 * A Forward Request as the trace writes it: the codec's ForwardRequest (src/protocol/messages.ts),
 * with the same names and values for method, protocol, uri, remoteAddr, remoteHost, serverName,
 * serverPort and isSsl, except that its strings are text (see the top of this file). Where the
 * JSON form differs it is declared here: headers as [name, value] pairs (coded or not is told by
 * the name, §4.2), attributes split into the single-valued ones by name, `query` (query_string)
 * and `reqAttributes`, and the request body (§6), which the codec carries in Body messages.
 */
export interface TraceRequest extends Omit<ForwardRequest, TraceRequestOwnForm> {
  /** The query_string attribute, without '?'. */
  query: string | null;
  /** In wire order; a name in the table's lowercase spelling went coded (§4.2). */
  headers: HeaderPair[];
  /** Single-valued attributes by spec name (route, remote_user, ssl_cipher, ssl_key_size, ...). Never the secret. */
  attributes: Record<string, string | number | null>;
  /** req_attribute pairs in wire order. */
  reqAttributes: HeaderPair[];
  /** Transfer-Encoding: chunked with no Content-Length: the body came only on Get Body Chunk. */
  chunked?: boolean;
  body: TraceBody;
}

export interface TraceResponse {
  status: number;
  message: string | null;
  headers: HeaderPair[];
  body: TraceBody;
  /** The End Response reuse flag. */
  reuse: boolean;
}

export interface TraceTiming {
  /** From the Forward Request to Send Headers, microseconds; null when no headers came. */
  headersUs: number | null;
  /** From the Forward Request to End Response, microseconds. */
  endUs: number;
}

export type RouteSource = 'set-cookie' | 'cookie' | 'attribute';

/**
 * An exchange a capture holds only in part (minor version 1): bytes of it were on the wire but not
 * in the capture (a snaplen that cut its packets, lost segments). What was captured is written as
 * usual; `request` and `response` name the first part of each that was not wholly captured: every
 * field before it is exact, `headers` then lists the headers wholly captured, and the fields from
 * it on hold placeholders (null, 0, false, empty lists; a body its captured bytes only).
 */
export interface Truncation {
  /** Bytes of this exchange on the wire that the capture lacks (both directions, as far as known). */
  missingBytes: number;
  /** The first Forward Request field (or the body) not wholly captured; absent: the request is whole. */
  request?: (typeof FORWARD_REQUEST_FIELDS)[number] | 'body';
  /** The first part of the response not wholly captured; `end`: End Response was not seen. Absent: whole. */
  response?: 'status' | 'message' | 'headers' | 'body' | 'end';
}

export interface ExchangeEvent {
  event: 'exchange';
  id: number;
  conn: number;
  /** Forward Request time, microseconds since the trace start. */
  t: number;
  /** The container side of the connection (ip:port). */
  upstream: string;
  /** Tap label of the worker (mod_jk worker name) when recorded through `record --tap`. */
  worker?: string;
  request: TraceRequest;
  response: TraceResponse;
  timing: TraceTiming;
  /** Backend route: the jvmRoute suffix of JSESSIONID (Set-Cookie, else request cookie), else the route attribute. */
  route: string | null;
  routeSource: RouteSource | null;
  /** Get Body Chunk requests the container made. */
  bodyRequests: number;
  byteStrings?: true;
  /** The capture lacks bytes of this exchange: what is missing (minor version 1). */
  truncated?: Truncation;
}

export interface CPingEvent {
  event: 'cping';
  conn: number;
  t: number;
  /** CPing to CPong, microseconds; null when no CPong came. */
  rttUs: number | null;
}

export interface ConnectionEvent {
  event: 'connection';
  conn: number;
  t: number;
  state: 'open' | 'close';
  /** The web server side (ip:port). */
  client: string;
  upstream: string;
  worker?: string;
  /** For close: fin, rst, end (of capture or of recording), error. */
  reason?: 'fin' | 'rst' | 'end' | 'error';
  /** For close: bytes each way over the connection's life. */
  bytesToContainer?: number;
  bytesToWebServer?: number;
}

export interface IncompleteEvent {
  event: 'incomplete';
  id: number;
  conn: number;
  t: number;
  upstream: string;
  worker?: string;
  /** Why it stopped: the connection closed or reset, the capture ended, or bytes were missing (a gap). */
  reason: 'closed' | 'reset' | 'end' | 'gap' | 'error';
  /** The message types seen, in order. */
  seen: string[];
  request: TraceRequest | null;
  status: number | null;
  byteStrings?: true;
  /** The capture lacks bytes of this exchange: what is missing (minor version 1). */
  truncated?: Truncation;
}

export interface ErrorEvent {
  event: 'error';
  t: number;
  conn?: number;
  direction?: 'to-container' | 'to-web-server';
  /** Stable code: AJP_ERR_... from the codec, CAPTURE_ERR_... and TAP_ERR_... from capture. */
  code: string;
  message: string;
  offset?: number;
  skipped?: number;
}

/**
 * Trace work the tap shed because its output could not keep up (the traffic itself was forwarded):
 * how many exchanges and events are missing from the trace, and the span of their `t`.
 */
export interface DroppedEvent {
  event: 'dropped';
  /** When the output caught up and this was written. */
  t: number;
  /** TAP_ERR_TRACE_BEHIND. */
  code: string;
  /** `exchange` and `incomplete` events dropped: Forward Requests forwarded but not in the trace. */
  exchanges: number;
  /** Every event dropped (connections, CPings and errors too). */
  events: number;
  /** The earliest and latest `t` of the dropped events. */
  from: number;
  to: number;
}

/** What a diff event says of one difference (src/verdict/diff/response-diff.ts makes them). */
export interface DiffEntry {
  kind: 'status' | 'header' | 'body' | 'no-response';
  /** The key it is grouped and learned as noise by: `status`, `header:x-served-by`, `body:$.items[*].id`, `body:line 12`, `body`. */
  field: string;
  /** The exact place when it says more than `field` (`body:$.items[3].id`). */
  path?: string;
  /** Short renderings (at most 120 characters); null where the side has nothing (a header or key absent). */
  before: string | null;
  after: string | null;
  /** Primary and secondary differ here too (learned for this URI pattern): not counted as a difference of the candidate. */
  noise: boolean;
}

/**
 * (minor version 2) An exchange whose candidate answer differed from the primary's (`record --mirror`,
 * `diff -o`): the differences, noise or not. Exchanges that compared equal write no event.
 */
export interface DiffEvent {
  event: 'diff';
  /** When the comparison was made. */
  t: number;
  /** The exchange compared: its `id` in this trace (record --mirror) or in the trace replayed (diff). */
  id: number;
  uri: string | null;
  /** The URI folded as the differences are grouped (`/orders/{n}`). */
  pattern: string;
  /** differs: at least one difference is not noise; noise: all of them are. */
  outcome: 'differs' | 'noise';
  /** In the order found, at most 32. */
  differences: DiffEntry[];
  /** Differences beyond those listed. */
  more?: number;
}

export type TraceEvent =
  ExchangeEvent | CPingEvent | ConnectionEvent | IncompleteEvent | ErrorEvent | DroppedEvent | DiffEvent;
export type TraceEventName = TraceEvent['event'];

/**
 * Turns the decoded messages of one AJP connection into trace events: an `exchange` per
 * Forward Request that reached End Response, an `incomplete` for one cut off, a `cping` per
 * CPing. Both the pcap importer and the tap feed it; it knows nothing of where bytes came from.
 */
import {
  findAttribute,
  hasChunkedBody,
  type AjpMessage,
  type Direction,
  type ForwardRequest,
  type FrameInfo,
  type SendHeaders,
} from '../protocol/index.js';
import { BodyAccumulator } from './body-accumulator.js';
import { redactHeaders, redactUri } from './redaction.js';
import { findRoute } from './session-route.js';
import { toTraceStrings } from './trace-strings.js';
import type {
  ExchangeEvent,
  HeaderPair,
  IncompleteEvent,
  TraceEvent,
  TraceOptions,
  TraceRequest,
  TraceResponse,
  Truncation,
} from './trace-types.js';

export interface AssemblerContext {
  conn: number;
  upstream: string;
  worker?: string;
  options: TraceOptions;
  /** Absolute time of the trace start, µs; event times count from it. */
  startUs: number;
  nextId(): number;
  /** `detail` comes with an `exchange` event when `detailBytes` is set, never otherwise. */
  emit(event: TraceEvent, detail?: ExchangeDetail): void;
  /**
   * Hand every exchange's ExchangeDetail to `emit`, holding each body's bytes up to this many
   * (whatever `options.bodies` keeps in the trace). Unset: no detail, no bytes held beyond the trace's.
   * A function is asked at each Forward Request: 0 or less means no detail for that exchange (a
   * mirror whose queue is full would drop it anyway), so its bodies are not held for nothing.
   */
  detailBytes?: DetailBytes;
}

/** AssemblerContext.detailBytes: a bound for every exchange, or one decided at each Forward Request. */
export type DetailBytes = number | (() => number);

/**
 * What a live observer (the mirror) gets beside an `exchange` event and the trace never holds: the
 * request as it went to the container, before redaction, and the bytes of both bodies. Every field
 * is the observer's to keep: the bodies are copies, the request is the decoder's object.
 */
export interface ExchangeDetail {
  /** The Forward Request as decoded (wire strings, one char per byte), unredacted, without the secret attribute. */
  request: ForwardRequest;
  /** Request body bytes, the first `detailBytes` of `event.request.body.length`. */
  requestBody: Buffer;
  /** Response headers as received (wire strings), unredacted. */
  responseHeaders: HeaderPair[];
  /** Response body bytes, the first `detailBytes` of `event.response.body.length`. */
  responseBody: Buffer;
}

/** `seen` keeps the first message types of an exchange; a long upload need not list every packet. */
const SEEN_LIMIT = 32;

interface InProgress {
  id: number;
  startUs: number;
  request: ForwardRequest;
  requestBody: BodyAccumulator;
  headers: SendHeaders | undefined;
  headersUs: number | undefined;
  responseBody: BodyAccumulator;
  bodyRequests: number;
  seen: string[];
  /** Salvage: bytes of this exchange the capture lacks, and the first part of each side not wholly captured. */
  missingBytes: number;
  requestCut: Truncation['request'];
  responseCut: Truncation['response'];
  /** When the last of it was seen (a truncated exchange may end unseen). */
  lastUs: number;
  /** Its ExchangeDetail goes with the event (detailBytes said so at its Forward Request). */
  detail: boolean;
}

export class ExchangeAssembler {
  private current: InProgress | undefined;
  private cpingUs: number | undefined;
  private exchanges = 0;

  constructor(private readonly ctx: AssemblerContext) {}

  /** Exchanges completed on this connection. */
  get completed(): number {
    return this.exchanges;
  }

  get inProgress(): boolean {
    return this.current !== undefined;
  }

  /** A CPing was seen and its CPong has not come yet. */
  get awaitingCPong(): boolean {
    return this.cpingUs !== undefined;
  }

  /** `info.cut`: the message was decoded from the part of its frame a capture holds (FrameInfo). */
  message(msg: AjpMessage, timeUs: number, info?: FrameInfo): void {
    const cur = this.current;
    if (cur !== undefined) {
      if (cur.seen.length < SEEN_LIMIT) cur.seen.push(msg.type);
      // A Forward Request or a CPing belongs to what comes next (see endUnseen).
      if (msg.type !== 'forward-request' && msg.type !== 'cping') cur.lastUs = timeUs;
      if (info?.cut !== undefined && msg.type !== 'forward-request') this.cutIn(cur, msg.type, info.cut.cutAt);
    }
    switch (msg.type) {
      case 'forward-request':
        // A new request while one is open: the old one never ended (the web server gave up on
        // it), unless the capture lacks bytes of it: then its end was not captured.
        if (cur !== undefined) this.endUnseen(cur);
        this.flushCPing();
        this.begin(msg, timeUs);
        if (info?.cut !== undefined) this.cutIn(this.current as InProgress, msg.type, info.cut.cutAt);
        break;
      case 'body':
        cur?.requestBody.add(msg.data);
        break;
      case 'get-body-chunk':
        if (cur !== undefined) cur.bodyRequests++;
        break;
      case 'send-headers':
        if (cur !== undefined && cur.headers === undefined) {
          cur.headers = msg;
          cur.headersUs = timeUs;
        }
        break;
      case 'send-body-chunk':
        cur?.responseBody.add(msg.data);
        break;
      case 'end-response':
        if (cur !== undefined) this.finish(cur, msg.reuse, timeUs);
        break;
      case 'cping':
        // The web server sends a CPing only between requests: a truncated exchange ended unseen.
        if (cur !== undefined && cur.missingBytes > 0) this.endUnseen(cur);
        this.flushCPing();
        this.cpingUs = timeUs;
        break;
      case 'cpong':
        if (this.cpingUs !== undefined) {
          this.ctx.emit({
            event: 'cping',
            conn: this.ctx.conn,
            t: this.rel(this.cpingUs),
            rttUs: Math.round(timeUs - this.cpingUs),
          });
          this.cpingUs = undefined;
        }
        break;
      case 'shutdown':
      case 'ping':
        break;
    }
  }

  /**
   * `missing` bytes of one direction were not captured. An exchange in progress carries the loss
   * (it will be written `truncated`) and goes on: returns true. With none, returns false.
   */
  lost(direction: Direction, missing: number, timeUs: number): boolean {
    const cur = this.current;
    if (cur === undefined) return false;
    cur.missingBytes += missing;
    cur.lastUs = timeUs;
    if (direction === 'to-container') cur.requestCut ??= 'body';
    else cur.responseCut ??= cur.headers === undefined ? 'status' : 'body';
    return true;
  }

  /** A message decoded from a cut frame: the first part of its side that the capture lacks. */
  private cutIn(cur: InProgress, type: AjpMessage['type'], cutAt: string): void {
    if (type === 'forward-request') cur.requestCut ??= cutAt as Truncation['request'];
    else if (type === 'body') cur.requestCut ??= 'body';
    else if (type === 'send-headers') cur.responseCut ??= cutAt === 'status' || cutAt === 'message' ? cutAt : 'headers';
    else if (type === 'send-body-chunk') cur.responseCut ??= 'body';
  }

  /** The next request (or a CPing) came while this one was open. */
  private endUnseen(cur: InProgress): void {
    if (cur.missingBytes === 0) {
      this.cutOff('error');
      return;
    }
    // AJP serves one request at a time per connection: the previous one ended, its end not captured.
    cur.responseCut ??= 'end';
    this.finish(cur, true, cur.lastUs);
  }

  /** The connection ended or lost bytes: an open exchange becomes `incomplete`. */
  cutOff(reason: IncompleteEvent['reason']): void {
    const cur = this.current;
    this.current = undefined;
    if (reason !== 'gap') this.flushCPing();
    else this.cpingUs = undefined;
    if (cur === undefined) return;
    const { request, byteStrings } = toTraceStrings(this.traceRequest(cur), null);
    const event: IncompleteEvent = {
      event: 'incomplete',
      id: cur.id,
      conn: this.ctx.conn,
      t: this.rel(cur.startUs),
      upstream: this.ctx.upstream,
      ...(this.ctx.worker === undefined ? {} : { worker: this.ctx.worker }),
      reason,
      seen: cur.seen,
      request,
      status: cur.headers?.status ?? null,
    };
    if (byteStrings) event.byteStrings = true;
    if (cur.missingBytes > 0) event.truncated = truncation(cur);
    this.ctx.emit(event);
  }

  private begin(request: ForwardRequest, timeUs: number): void {
    const { bodies, maxBody } = this.ctx.options;
    const d = this.ctx.detailBytes;
    const retain = Math.max(0, (typeof d === 'function' ? d() : d) ?? 0);
    this.current = {
      detail: d !== undefined && (retain > 0 || typeof d === 'number'),
      id: this.ctx.nextId(),
      startUs: timeUs,
      request,
      requestBody: new BodyAccumulator(bodies !== 'none', maxBody, retain),
      headers: undefined,
      headersUs: undefined,
      responseBody: new BodyAccumulator(bodies === 'all', maxBody, retain),
      bodyRequests: 0,
      seen: ['forward-request'],
      missingBytes: 0,
      requestCut: undefined,
      responseCut: undefined,
      lastUs: timeUs,
    };
  }

  private finish(cur: InProgress, reuse: boolean, timeUs: number): void {
    this.current = undefined;
    this.exchanges++;
    const headers = cur.headers;
    const rawResponse: TraceResponse = {
      status: headers?.status ?? 0,
      message: headers?.message ?? null,
      headers: pairs(headers?.headers ?? []),
      body: cur.responseBody.toTrace(),
      reuse,
    };
    const rawRequest = this.traceRequest(cur, false);
    // The route is read before redaction, although redaction keeps the route suffix anyway.
    const { route, routeSource } = findRoute(
      rawRequest.headers,
      rawRequest.uri,
      rawResponse.headers,
      findAttribute(cur.request, 'route'),
    );
    const redact = this.ctx.options.redact;
    const response = redact ? { ...rawResponse, headers: redactHeaders(rawResponse.headers) } : rawResponse;
    const request = redact ? this.redactRequest(rawRequest) : rawRequest;
    const text = toTraceStrings(request, response);
    const event: ExchangeEvent = {
      event: 'exchange',
      id: cur.id,
      conn: this.ctx.conn,
      t: this.rel(cur.startUs),
      upstream: this.ctx.upstream,
      ...(this.ctx.worker === undefined ? {} : { worker: this.ctx.worker }),
      request: text.request as TraceRequest,
      response: text.response as TraceResponse,
      timing: {
        headersUs: cur.headersUs === undefined ? null : Math.round(cur.headersUs - cur.startUs),
        endUs: Math.round(timeUs - cur.startUs),
      },
      route,
      routeSource,
      bodyRequests: cur.bodyRequests,
      ...(text.byteStrings ? { byteStrings: true as const } : {}),
      ...(cur.missingBytes > 0 ? { truncated: truncation(cur) } : {}),
    };
    if (!cur.detail) return this.ctx.emit(event);
    this.ctx.emit(event, {
      request: withoutSecret(cur.request),
      requestBody: cur.requestBody.retained(),
      responseHeaders: rawResponse.headers,
      responseBody: cur.responseBody.retained(),
    });
  }

  private traceRequest(cur: InProgress, redact = this.ctx.options.redact): TraceRequest {
    const r = cur.request;
    const attributes: TraceRequest['attributes'] = {};
    const reqAttributes: HeaderPair[] = [];
    let query: string | null = null;
    for (const a of r.attributes) {
      if (a.name === 'secret') continue; // never written, whatever the options
      if (a.name === 'req_attribute') reqAttributes.push([a.key ?? '', a.value]);
      else if (a.name === 'query_string') query = a.value;
      else attributes[a.name] = a.value;
    }
    const chunked = hasChunkedBody(r.headers);
    const request: TraceRequest = {
      method: r.method,
      protocol: r.protocol,
      uri: r.uri,
      query,
      remoteAddr: r.remoteAddr,
      remoteHost: r.remoteHost,
      serverName: r.serverName,
      serverPort: r.serverPort,
      isSsl: r.isSsl,
      headers: pairs(r.headers),
      attributes,
      reqAttributes,
      ...(chunked ? { chunked: true } : {}),
      body: cur.requestBody.toTrace(),
    };
    return redact ? this.redactRequest(request) : request;
  }

  private redactRequest(r: TraceRequest): TraceRequest {
    return { ...r, uri: redactUri(r.uri), headers: redactHeaders(r.headers) };
  }

  /** A CPing that got no CPong before something else happened. */
  private flushCPing(): void {
    if (this.cpingUs === undefined) return;
    this.ctx.emit({ event: 'cping', conn: this.ctx.conn, t: this.rel(this.cpingUs), rttUs: null });
    this.cpingUs = undefined;
  }

  private rel(timeUs: number): number {
    return Math.round(timeUs - this.ctx.startUs);
  }
}

function truncation(cur: InProgress): Truncation {
  return {
    missingBytes: cur.missingBytes,
    ...(cur.requestCut === undefined ? {} : { request: cur.requestCut }),
    ...(cur.responseCut === undefined ? {} : { response: cur.responseCut }),
  };
}

/** The production secret (§8) is the production web server's: an observer that sends the request on adds its own. */
function withoutSecret(r: ForwardRequest): ForwardRequest {
  return r.attributes.some((a) => a.name === 'secret')
    ? { ...r, attributes: r.attributes.filter((a) => a.name !== 'secret') }
    : r;
}

function pairs(headers: readonly { name: string; value: string | null }[]): HeaderPair[] {
  return headers.map((h) => [h.name, h.value]);
}

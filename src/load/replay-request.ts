/**
 * A trace exchange made ready to send again: the recorded Forward Request (method, URI, headers in
 * order, attributes, route) in the codec's byte strings, the request body, and what the recorded
 * response was (for --verify). `--rewrite-host`, `--header` and `--drop-header` are applied here,
 * once per exchange; clients cache their wire form (an encoded AJP frame, an HTTP header list) on
 * the object, so a looped trace is encoded once.
 */
import {
  findAttribute,
  hasChunkedBody,
  METHOD_STORED,
  REQUEST_HEADER_CODES,
  type AjpAttribute,
  type AjpHeader,
  type ForwardRequest,
} from '../protocol/index.js';
import { toWireString, type ExchangeEvent, type HeaderPair, type TraceBody } from '../trace/index.js';
import type { SessionTag } from './request-result.js';

export interface RewriteOptions {
  /** New Host header value (host or host:port); also server_name (and server_port) for AJP. */
  rewriteHost?: string;
  /** `--header 'Name: value'`: replaces every header of that name (case-insensitive) in place, or is appended. */
  setHeaders?: [string, string][];
  /** `--drop-header Name`: removed wherever it appears (case-insensitive). */
  dropHeaders?: string[];
}

export interface ExpectedResponse {
  status: number;
  /** SHA-256 (hex) of the whole recorded response body. */
  bodySha256: string;
  /** Recorded response headers (wire strings). */
  headers: HeaderPair[];
}

/**
 * One request to send: the codec's Forward Request itself (its strings are byte strings, one char
 * per byte, and `attributes` are in mod_jk's order, §4.3, without the secret: the AJP client adds
 * it), so the AJP client encodes it as it is; and beside it what the HTTP client and the reports need.
 */
export interface ReplayRequest extends ForwardRequest {
  exchangeId: number;
  /** Recorded Forward Request time, µs since the trace start. */
  t: number;
  /** The URI as the trace shows it (for reports). */
  displayUri: string;
  /** The query_string attribute's value (also among `attributes`), for the HTTP request line. */
  query: string | null;
  /** Transfer-Encoding: chunked without Content-Length (§6.5). */
  chunked: boolean;
  body: Buffer;
  expected: ExpectedResponse;
  /**
   * `--sessions` (load/session-source.ts): the session this request is step `sessionStep` of, and
   * when the session's previous request ended (run clock, ms): it is not due before then. Set on
   * the fresh copy made for each send of a session's request, never on the trace's own request.
   */
  session?: SessionTag;
  sessionStep?: number;
  sessionReadyMs?: number;
  /** Client caches (the owner is the encoder that made it). */
  ajpFrame?: Buffer;
  ajpFrameOwner?: object;
  httpHeaders?: string[];
  httpHeadersForwarded?: boolean;
  /** The HTTP/1.1 request bytes (Http1RequestEncoder) and the settings they were encoded for. */
  http1Bytes?: Buffer;
  http1Key?: string;
}

/** mod_jk/httpd attribute order (§4.3); query_string comes from TraceRequest.query. */
const ATTRIBUTE_ORDER = [
  'context',
  'servlet_path',
  'remote_user',
  'auth_type',
  'query_string',
  'route',
  'ssl_cert',
  'ssl_cipher',
  'ssl_session',
  'ssl_key_size',
  'stored_method',
] as const;

/**
 * The longest request body a replay sends. A trace that kept fewer bytes than a body had is padded
 * to its recorded length in memory, once per exchange in the read-ahead: a recorded upload of
 * gigabytes would exhaust memory, so such an exchange is skipped and reported instead.
 */
export const MAX_REPLAY_BODY_BYTES = 1024 ** 3;

/** Request body bytes: the kept bytes, padded with zero bytes to the recorded length when the trace kept fewer. */
export function requestBody(b: TraceBody): Buffer {
  if (b.length > MAX_REPLAY_BODY_BYTES)
    throw new RangeError(`request.body.length ${b.length} is above 1 GiB, the longest body a replay sends`);
  const kept = b.data === undefined || b.data === '' ? Buffer.alloc(0) : Buffer.from(b.data, 'base64');
  if (kept.length >= b.length) return kept.length === b.length ? kept : kept.subarray(0, b.length);
  const body = Buffer.alloc(b.length);
  kept.copy(body);
  return body;
}

export function toReplayRequest(ex: ExchangeEvent, rw: RewriteOptions = {}): ReplayRequest {
  const bs = ex.byteStrings === true;
  const w = (s: string): string => toWireString(s, bs);
  const wn = (s: string | null): string | null => (s === null ? null : toWireString(s, bs));
  const r = ex.request;
  // §4.2: the trace writes a coded name in the table's lowercase spelling and a string name as the
  // client spelled it, so a header is coded iff its name is exactly a table name.
  let headers: AjpHeader[] = r.headers.map(([n, v]) => ({
    name: w(n),
    value: wn(v),
    coded: REQUEST_HEADER_CODES.has(n),
  }));
  let serverName = wn(r.serverName);
  let serverPort = r.serverPort;
  if (rw.dropHeaders !== undefined && rw.dropHeaders.length > 0) {
    const drop = new Set(rw.dropHeaders.map((d) => d.toLowerCase()));
    headers = headers.filter((h) => !drop.has(h.name.toLowerCase()));
  }
  if (rw.rewriteHost !== undefined) {
    headers = setHeader(headers, 'host', rw.rewriteHost);
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(rw.rewriteHost);
    if (m !== null) {
      serverName = m[1] as string;
      if (m[2] !== undefined) serverPort = Number(m[2]);
    }
  }
  for (const [n, v] of rw.setHeaders ?? []) headers = setHeader(headers, n, v);
  const attributes: AjpAttribute[] = [];
  for (const name of ATTRIBUTE_ORDER) {
    if (name === 'query_string') {
      if (r.query !== null) attributes.push({ name, value: w(r.query) });
      continue;
    }
    if (!(name in r.attributes)) continue;
    const v = r.attributes[name];
    if (name === 'ssl_key_size') {
      if (typeof v === 'number') attributes.push({ name, value: v });
    } else
      attributes.push({ name, value: typeof v === 'string' ? w(v) : v === null || v === undefined ? null : String(v) });
  }
  for (const [k, v] of r.reqAttributes) attributes.push({ name: 'req_attribute', key: w(k), value: wn(v) });
  return {
    type: 'forward-request',
    // A method outside the table travels as the stored_method attribute, with method byte 0xFF (§4).
    ...(attributes.some((a) => a.name === 'stored_method') ? { methodCode: METHOD_STORED } : {}),
    exchangeId: ex.id,
    t: ex.t,
    displayUri: r.uri ?? '',
    method: w(r.method),
    protocol: wn(r.protocol),
    uri: wn(r.uri),
    query: wn(r.query),
    remoteAddr: wn(r.remoteAddr),
    remoteHost: wn(r.remoteHost),
    serverName,
    serverPort,
    isSsl: r.isSsl,
    headers,
    attributes,
    chunked: r.chunked === true,
    body: requestBody(r.body),
    expected: {
      status: ex.response.status,
      bodySha256: ex.response.body.sha256,
      headers: ex.response.headers.map(([n, v]) => [w(n), wn(v)]),
    },
  };
}

/**
 * A Forward Request as decoded live (a mirror's copy of what a tap forwarded): sent again as it came,
 * in its wire strings and attribute order, with its body bytes. The production secret is not in it
 * (ExchangeDetail drops it): the client's encoder adds its own (§8). `ex` gives id, time and the
 * recorded response, as for a trace exchange.
 */
export function replayRequestFromWire(fr: ForwardRequest, body: Buffer, ex: ExchangeEvent): ReplayRequest {
  return {
    ...fr,
    exchangeId: ex.id,
    t: ex.t,
    displayUri: ex.request.uri ?? '',
    query: findAttribute(fr, 'query_string') ?? null,
    chunked: hasChunkedBody(fr.headers),
    body,
    expected: { status: ex.response.status, bodySha256: ex.response.body.sha256, headers: [] },
  };
}

/** Replaces the first header of this name in place (dropping later ones), or appends it. */
function setHeader(headers: AjpHeader[], name: string, value: string): AjpHeader[] {
  const lower = name.toLowerCase();
  const out: AjpHeader[] = [];
  let placed = false;
  for (const h of headers) {
    if (h.name.toLowerCase() !== lower) out.push(h);
    else if (!placed) {
      out.push({ name: h.name, value, coded: h.coded === true });
      placed = true;
    }
  }
  // mod_jk codes a known name whatever its case (§4.2).
  if (!placed) out.push({ name, value, coded: REQUEST_HEADER_CODES.has(lower) });
  return out;
}

/** Parses `--header 'Name: value'`. */
export function parseHeaderFlag(text: string): [string, string] {
  const i = text.indexOf(':');
  const name = i > 0 ? text.slice(0, i).trim() : '';
  if (name === '' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
    throw new RangeError(`expected 'Name: value', got ${JSON.stringify(text)}`);
  return [name, text.slice(i + 1).trim()];
}

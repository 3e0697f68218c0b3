/**
 * A HAR file (a browser session saved from developer tools, or one `ajpbench export` wrote) as a
 * trace, so that it can be inspected and replayed over AJP. Each entry becomes an exchange: the
 * Forward Request from the HAR request, the response from the HAR response.
 *
 * The HAR's own fields are the truth for what they say (method, URL, headers, status, bodies, times);
 * `_ajpbench`, when an entry has it (exported by ajpbench), gives what HAR cannot: AJP attributes,
 * remote address, connection and exchange numbers, hashes of bodies not kept, null header values.
 * For a browser's HAR the rest is derived, as mod_jk would send it: request header names in AJP's
 * code table go lowercase (coded), HTTP/2 pseudo-headers are dropped (`:authority` becomes Host),
 * a body gets a Content-Length, and connections are assigned as a web server's pool would use them:
 * one request at a time on each, the lowest free one first.
 *
 * HAR is one JSON document, so it is read whole (har-parse.ts): the HAR file, not the trace, bounds the memory.
 */
import { createHash } from 'node:crypto';
import { REQUEST_HEADER_CODES } from '../protocol/index.js';
import type { Har, HarContent, HarEntry, HarNameValue, HarPostData } from './har-types.js';
import { redactHeaders, redactUri } from './redaction.js';
import { findRoute } from './session-route.js';
import {
  TRACE_MINOR_VERSION,
  type ExchangeEvent,
  type HeaderPair,
  type TraceBody,
  type TraceHeader,
  type TraceOptions,
  type TraceRequest,
} from './trace-types.js';
import type { TraceWriter } from './trace-writer.js';

export interface HarImportOptions {
  /** How the header names the source file. */
  sourceName: string;
  tool: string;
  trace: TraceOptions;
}

export interface HarImportSummary {
  entries: number;
  exchanges: number;
  /** Entries whose URL is not http or https (data:, blob:, chrome-extension:, ws:): nothing AJP could carry. */
  notHttp: number;
}

/** The hash of a body whose bytes a HAR does not hold (content without text): unknown, said as 64 zeros. */
export const UNKNOWN_SHA256 = '0'.repeat(64);
const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** Writes the trace of a parsed HAR to the writer `open` makes. */
export async function importHar(
  har: Har,
  open: (header: TraceHeader) => Promise<TraceWriter>,
  opts: HarImportOptions,
): Promise<HarImportSummary> {
  const exported = har.log._ajpbench?.startTimeUs;
  const traceStartUs = typeof exported === 'number' && Number.isSafeInteger(exported) ? exported : undefined;
  const entries = har.log.entries.filter((e) => /^https?:\/\//i.test(e.request.url));
  const events = harExchanges(entries, opts.trace, traceStartUs);
  // The trace starts with its first request, or where the trace it was exported from started.
  const first = events[0]?.startUs ?? Date.now() * 1000;
  const startUs = traceStartUs !== undefined && traceStartUs <= first ? traceStartUs : first;
  const creator = har.log.creator;
  const writer = await open({
    format: 'ajpbench-trace',
    version: 1,
    minorVersion: TRACE_MINOR_VERSION,
    tool: opts.tool,
    source: {
      kind: 'har',
      file: opts.sourceName,
      ...(isRecord(creator) && typeof creator.name === 'string'
        ? { creator: `${creator.name}${typeof creator.version === 'string' ? ` ${creator.version}` : ''}` }
        : {}),
    },
    startTime: new Date(Math.floor(startUs / 1000)).toISOString(),
    startTimeUs: startUs,
    options: opts.trace,
  });
  try {
    // A recorder writes each exchange when it ends: the same order here.
    const byEnd = events
      .map((x) => ({ ...x.event, t: x.startUs - startUs }))
      .sort((a, b) => a.t + a.timing.endUs - (b.t + b.timing.endUs) || a.id - b.id);
    for (const e of byEnd) {
      const wait = writer.write(e);
      if (wait !== undefined) await wait;
    }
  } finally {
    await writer.close();
  }
  return {
    entries: har.log.entries.length,
    exchanges: events.length,
    notHttp: har.log.entries.length - entries.length,
  };
}

interface Converted {
  startUs: number;
  event: ExchangeEvent;
}

/** Every entry as an exchange (its `t` still to be set), in start order, with ids and connections assigned. */
function harExchanges(entries: HarEntry[], options: TraceOptions, traceStartUs: number | undefined): Converted[] {
  const out = entries.map((entry) => ({
    startUs: startUsOf(entry, traceStartUs),
    event: exchangeOf(entry, options),
  }));
  out.sort((a, b) => a.startUs - b.startUs);
  const extras = entries.map((e) => e._ajpbench);
  const idsKnown = extras.every((x) => x !== undefined) && new Set(extras.map((x) => x?.id)).size === extras.length;
  if (!idsKnown) out.forEach((x, i) => (x.event.id = i + 1));
  if (!extras.every((x) => x !== undefined)) assignConnections(out);
  return out;
}

/** The lowest-numbered connection free when each request starts (AJP carries one request at a time). */
function assignConnections(exchanges: Converted[]): void {
  const busyUntil: number[] = [];
  for (const x of exchanges) {
    let conn = busyUntil.findIndex((until) => until <= x.startUs);
    if (conn < 0) conn = busyUntil.push(0) - 1;
    busyUntil[conn] = x.startUs + x.event.timing.endUs;
    x.event.conn = conn + 1;
  }
}

/**
 * When the request started, microseconds since the epoch. startedDateTime has milliseconds; an ajpbench
 * export also keeps the trace's start and the exchange's `t`, whose sum is used when it agrees with it.
 */
function startUsOf(entry: HarEntry, traceStartUs: number | undefined): number {
  const logged = Date.parse(entry.startedDateTime) * 1000;
  const t = entry._ajpbench?.t;
  if (traceStartUs === undefined || t === undefined) return logged;
  const exact = traceStartUs + t;
  return Math.floor(exact / 1000) * 1000 === logged ? exact : logged;
}

function exchangeOf(entry: HarEntry, options: TraceOptions): ExchangeEvent {
  const x = entry._ajpbench;
  const url = splitUrl(entry.request.url);
  let requestHeaders = x?.request.headers ?? requestHeadersOf(entry.request.headers, url.authority, x !== undefined);
  let responseHeaders = x?.response.headers ?? entry.response.headers.map(pairOf);
  const requestBytes = postDataBytes(entry.request.postData);
  if (x === undefined && requestBytes.length > 0 && !requestHeaders.some(([n]) => n.toLowerCase() === 'content-length'))
    requestHeaders = [...requestHeaders, ['content-length', String(requestBytes.length)]];
  let uri = x?.request.uri ?? url.path;
  if (options.redact) {
    requestHeaders = redactHeaders(requestHeaders);
    responseHeaders = redactHeaders(responseHeaders);
    uri = redactUri(uri) ?? uri;
  }
  const protocol =
    x !== undefined && (x.request.protocol ?? 'HTTP/1.1') === entry.request.httpVersion
      ? x.request.protocol
      : httpVersionOf(entry.request.httpVersion);
  const request: TraceRequest = {
    method: entry.request.method,
    protocol,
    uri,
    query: x?.request.query ?? url.query,
    remoteAddr: x?.request.remoteAddr ?? null,
    remoteHost: x?.request.remoteHost ?? null,
    serverName: x?.request.serverName ?? url.host,
    serverPort: x?.request.serverPort ?? url.port,
    isSsl: x?.request.isSsl ?? url.scheme === 'https',
    headers: requestHeaders,
    attributes: x?.request.attributes ?? {},
    reqAttributes: x?.request.reqAttributes ?? [],
    ...(x?.request.chunked === true ? { chunked: true } : {}),
    body: traceBody(
      requestBytes,
      entry.request.postData !== undefined,
      x?.request.body,
      options.bodies !== 'none',
      options.maxBody,
    ),
  };
  const content = contentBytes(entry.response.content);
  const statusText = entry.response.statusText;
  const message =
    x !== undefined && (x.response.message ?? '') === statusText
      ? x.response.message
      : statusText === ''
        ? null
        : statusText;
  const response = {
    status: entry.response.status,
    message,
    headers: responseHeaders,
    body: traceBody(
      content ?? Buffer.alloc(0),
      content !== undefined,
      x?.response.body,
      options.bodies === 'all',
      options.maxBody,
      entry.response.content.size,
    ),
    reuse: x?.response.reuse ?? true,
  };
  const route = findRoute(requestHeaders, uri, responseHeaders, stringOrNull(request.attributes.route));
  return {
    event: 'exchange',
    id: x?.id ?? 0,
    conn: x?.conn ?? 0,
    t: 0,
    upstream:
      x?.upstream ??
      `${entry.serverIPAddress !== undefined && entry.serverIPAddress !== '' ? bracketed(entry.serverIPAddress) : url.host}:${url.port}`,
    ...(x?.worker === undefined ? {} : { worker: x.worker }),
    request,
    response,
    timing: x?.timing ?? timingOf(entry),
    route: route.route,
    routeSource: route.routeSource,
    bodyRequests: x?.bodyRequests ?? 0,
    ...(x?.byteStrings === true ? { byteStrings: true as const } : {}),
    ...(x?.truncated === undefined ? {} : { truncated: x.truncated }),
  };
}

/** Browser request headers as mod_jk sends them: pseudo-headers dropped (`:authority` → Host), coded names lowercase. */
function requestHeadersOf(headers: HarNameValue[], authority: string, exact: boolean): HeaderPair[] {
  if (exact) return headers.map(pairOf);
  const out: HeaderPair[] = [];
  for (const h of headers) {
    if (h.name.startsWith(':')) continue;
    const lower = h.name.toLowerCase();
    out.push([REQUEST_HEADER_CODES.has(lower) ? lower : h.name, h.value]);
  }
  if (!out.some(([n]) => n.toLowerCase() === 'host')) {
    const a = headers.find((h) => h.name.toLowerCase() === ':authority')?.value ?? authority;
    if (a !== '') out.unshift(['host', a]);
  }
  return out;
}

/** wait is to the first byte of the response (Send Headers), receive the rest; what the browser spent before is not AJP's. */
function timingOf(entry: HarEntry): ExchangeEvent['timing'] {
  const t = entry.timings;
  const ms = (v: number | undefined): number => (typeof v === 'number' && v > 0 ? v : 0);
  const headersUs = Math.round((ms(t.send) + ms(t.wait)) * 1000);
  return { headersUs, endUs: headersUs + Math.round(ms(t.receive) * 1000) };
}

/**
 * A trace body from the bytes a HAR holds. `present`: the HAR holds the body (perhaps empty); `meta`:
 * an export's length and hash, which stand when the bytes are those it hashed (or are absent).
 */
function traceBody(
  bytes: Buffer,
  present: boolean,
  meta: Omit<TraceBody, 'data'> | undefined,
  keep: boolean,
  maxBody: number,
  size?: number,
): TraceBody {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let whole = { length: bytes.length, sha256 };
  if (meta !== undefined && (!present || meta.truncated === true)) whole = { length: meta.length, sha256: meta.sha256 };
  else if (!present && size !== undefined && size > 0) whole = { length: size, sha256: UNKNOWN_SHA256 };
  if (!keep) return whole;
  // A body that is empty is kept as such; one the HAR does not hold is not.
  if (!present) return whole.length === 0 && whole.sha256 === EMPTY_SHA256 ? { ...whole, data: '' } : whole;
  const cut = bytes.length > maxBody || meta?.truncated === true;
  return { ...whole, data: bytes.subarray(0, maxBody).toString('base64'), ...(cut ? { truncated: true } : {}) };
}

function postDataBytes(p: HarPostData | undefined): Buffer {
  if (p?.text === undefined) return Buffer.alloc(0);
  return p._encoding === 'base64' ? Buffer.from(p.text, 'base64') : Buffer.from(p.text, 'utf8');
}

function contentBytes(c: HarContent): Buffer | undefined {
  if (c.text === undefined) return undefined;
  return c.encoding === 'base64' ? Buffer.from(c.text, 'base64') : Buffer.from(c.text, 'utf8');
}

interface SplitUrl {
  scheme: string;
  authority: string;
  host: string;
  port: number;
  /** The path as written (not normalized: the trace keeps what the client sent). */
  path: string;
  query: string | null;
}

function splitUrl(url: string): SplitUrl {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/i.exec(url);
  const scheme = (m?.[1] ?? 'http').toLowerCase();
  const authority = (m?.[2] ?? '').replace(/^[^@]*@/, '');
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(authority);
  const port = hp?.[2] === undefined ? (scheme === 'https' ? 443 : 80) : Number(hp[2]);
  return {
    scheme,
    authority,
    host: (hp?.[1] ?? authority).replace(/^\[|\]$/g, ''),
    port,
    path: m === null ? url : m[3] === '' || m[3] === undefined ? '/' : m[3],
    query: m?.[4] ?? null,
  };
}

/**
 * The protocol string as httpd hands it to mod_jk (its r->protocol): "HTTP/1.1", "HTTP/2.0". Browsers
 * write "http/2.0", "h2" or "h3"; an empty one is taken for HTTP/1.1.
 */
export function httpVersionOf(v: string): string {
  const lower = v.trim().toLowerCase();
  if (lower === '') return 'HTTP/1.1';
  if (lower === 'h2' || lower === 'http/2') return 'HTTP/2.0';
  if (lower === 'h3' || lower === 'http/3') return 'HTTP/3.0';
  return lower.toUpperCase();
}

function pairOf(h: HarNameValue): HeaderPair {
  return [h.name, h.value];
}

function bracketed(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

function stringOrNull(v: string | number | null | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

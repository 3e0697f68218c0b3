/**
 * A trace as HAR 1.2, for browser developer tools and HAR viewers: one entry per exchange, with the
 * request (method, URL, headers, cookies, query, body), the response (status, headers, cookies, body
 * when recorded) and timings (wait: to Send Headers; receive: from there to End Response).
 *
 * Streaming: the document is written entry by entry, never held whole. HAR prefers entries by start
 * time, a trace holds them by completion: a window of REORDER_WINDOW entries puts them back in start
 * order (exact unless more than that many exchanges overlap one slow one).
 */
import { exchangeProblem } from './exchange-shape.js';
import type { Har, HarAjpExtras, HarContent, HarCookie, HarEntry, HarNameValue, HarPostData } from './har-types.js';
import type { TraceFormatError } from './trace-errors.js';
import { openTrace } from './trace-reader.js';
import { traceStartUs } from './trace-start.js';
import { StartOrder } from './start-order.js';
import type { ExchangeEvent, HeaderPair, TraceBody, TraceHeader } from './trace-types.js';

/** Where the HAR text goes, a line at a time (the sink ends each); a returned promise is awaited (back-pressure). */
export interface LineSink {
  line(text: string): Promise<void> | undefined;
}

export interface HarExportOptions {
  /** "ajpbench" and its version, for log.creator. */
  creatorVersion: string;
  onIssue?: (err: TraceFormatError) => void;
  onMalformed?: (what: string) => void;
}

export interface HarExportSummary {
  entries: number;
  /** Events that are not exchanges (incomplete, connection, CPing, error): HAR has no place for them. */
  otherEvents: number;
  malformed: number;
  unreadable: number;
}

const REORDER_WINDOW = 4096;

export async function exportHar(
  input: string | NodeJS.ReadableStream,
  sink: LineSink,
  opts: HarExportOptions,
): Promise<HarExportSummary> {
  const sum: HarExportSummary = { entries: 0, otherEvents: 0, malformed: 0, unreadable: 0 };
  const { header, events } = await openTrace(input, {
    onIssue: (e) => {
      sum.unreadable++;
      opts.onIssue?.(e);
    },
  });
  const head: Omit<Har['log'], 'entries'> = {
    version: '1.2',
    creator: { name: 'ajpbench', version: opts.creatorVersion },
    comment:
      'AJP13 exchanges between a web server and Tomcat, as seen by ajpbench; _ajpbench holds what HAR cannot say',
    pages: [],
    _ajpbench: header,
  };
  // One entry a line; each but the last ends with a comma, so an entry is written when the next one comes.
  await sink.line(`${JSON.stringify({ log: head }).slice(0, -2)},"entries":[`); // "}}" closes it at the end
  const window = new StartOrder();
  let pending: string | undefined;
  const emit = async (e: ExchangeEvent): Promise<void> => {
    if (pending !== undefined) await sink.line(`${pending},`);
    pending = JSON.stringify(harEntryOf(e, header));
    sum.entries++;
  };
  for await (const e of events) {
    if (e.event !== 'exchange') {
      sum.otherEvents++;
      continue;
    }
    const problem = exchangeProblem(e);
    if (problem !== undefined) {
      if (sum.malformed++ < 5) opts.onMalformed?.(`exchange ${String(e.id)}: ${problem}`);
      continue;
    }
    window.push(e);
    if (window.size > REORDER_WINDOW) await emit(window.pop());
  }
  while (window.size > 0) await emit(window.pop());
  if (pending !== undefined) await sink.line(pending);
  await sink.line(']}}');
  return sum;
}

/** One exchange as a HAR entry. */
export function harEntryOf(e: ExchangeEvent, header: TraceHeader): HarEntry {
  const r = e.request;
  const headersUs = e.timing.headersUs;
  const waitMs = (headersUs ?? e.timing.endUs) / 1000;
  const receiveMs = headersUs === null ? 0 : Math.max(0, e.timing.endUs - headersUs) / 1000;
  const host = serverAddress(e.upstream);
  return {
    startedDateTime: new Date(Math.floor((traceStartUs(header) + e.t) / 1000)).toISOString(),
    time: waitMs + receiveMs,
    request: {
      method: r.method,
      url: urlOf(e),
      httpVersion: r.protocol ?? 'HTTP/1.1',
      cookies: requestCookies(r.headers),
      headers: harHeaders(r.headers),
      queryString: queryParams(r.query),
      ...(r.body.data === undefined || r.body.length === 0 ? {} : { postData: postDataOf(r.body, r.headers) }),
      headersSize: -1,
      bodySize: r.body.length,
    },
    response: {
      status: e.response.status,
      statusText: e.response.message ?? '',
      httpVersion: r.protocol ?? 'HTTP/1.1',
      cookies: responseCookies(e.response.headers),
      headers: harHeaders(e.response.headers),
      content: contentOf(e.response.body, e.response.headers),
      redirectURL: headerValue(e.response.headers, 'location') ?? '',
      headersSize: -1,
      bodySize: e.response.body.length,
    },
    cache: {},
    // AJP has no DNS, connect or TLS step per request, and the Forward Request's send is not timed apart.
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: waitMs, receive: receiveMs },
    ...(host === undefined ? {} : { serverIPAddress: host }),
    connection: String(e.conn),
    _ajpbench: extrasOf(e),
  };
}

function extrasOf(e: ExchangeEvent): HarAjpExtras {
  const r = e.request;
  const anyNull = (h: HeaderPair[]): boolean => h.some(([, v]) => v === null);
  return {
    id: e.id,
    conn: e.conn,
    t: e.t,
    upstream: e.upstream,
    ...(e.worker === undefined ? {} : { worker: e.worker }),
    route: e.route,
    routeSource: e.routeSource,
    bodyRequests: e.bodyRequests,
    ...(e.byteStrings === true ? { byteStrings: true as const } : {}),
    ...(e.truncated === undefined ? {} : { truncated: e.truncated }),
    timing: e.timing,
    request: {
      // The URL's path and query were made URL-safe: the exact ones.
      ...(r.uri !== null && urlSafe(r.uri) !== r.uri ? { uri: r.uri } : {}),
      ...(r.query !== null && urlSafe(r.query) !== r.query ? { query: r.query } : {}),
      protocol: r.protocol,
      remoteAddr: r.remoteAddr,
      remoteHost: r.remoteHost,
      serverName: r.serverName,
      serverPort: r.serverPort,
      isSsl: r.isSsl,
      attributes: r.attributes,
      reqAttributes: r.reqAttributes,
      ...(r.chunked === true ? { chunked: true } : {}),
      body: bodyMeta(r.body),
      ...(anyNull(r.headers) ? { headers: r.headers } : {}),
    },
    response: {
      message: e.response.message,
      reuse: e.response.reuse,
      body: bodyMeta(e.response.body),
      ...(anyNull(e.response.headers) ? { headers: e.response.headers } : {}),
    },
  };
}

/** scheme://host/uri?query: the Host header the client sent, else the server name and port AJP carried. */
export function urlOf(e: ExchangeEvent): string {
  const r = e.request;
  const scheme = r.isSsl ? 'https' : 'http';
  const defaultPort = r.isSsl ? 443 : 80;
  const host =
    headerValue(r.headers, 'host') ??
    `${r.serverName ?? 'localhost'}${r.serverPort === defaultPort || r.serverPort === 0 ? '' : `:${r.serverPort}`}`;
  return `${scheme}://${host}${urlSafe(r.uri ?? '/')}${r.query === null ? '' : `?${urlSafe(r.query)}`}`;
}

/**
 * What a URL may not hold as it is (spaces, controls, quotes, non-ASCII: HAR viewers and the schema's
 * `uri` format refuse them) percent-encoded; `%` escapes already there stay. The exact string goes
 * into `_ajpbench` when this changed it.
 */
export function urlSafe(s: string): string {
  return s.replace(/[^\x21-\x7e]|["<>\\^`{|}]/g, (c) => encodeURIComponent(c));
}

function harHeaders(headers: HeaderPair[]): HarNameValue[] {
  return headers.map(([name, value]) => ({ name, value: value ?? '' }));
}

function headerValue(headers: HeaderPair[], lower: string): string | undefined {
  for (const [n, v] of headers) if (v !== null && n.toLowerCase() === lower) return v;
  return undefined;
}

function requestCookies(headers: HeaderPair[]): HarCookie[] {
  const out: HarCookie[] = [];
  for (const [n, v] of headers) {
    if (v === null || n.toLowerCase() !== 'cookie') continue;
    for (const part of v.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) out.push({ name: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() });
    }
  }
  return out;
}

function responseCookies(headers: HeaderPair[]): HarCookie[] {
  const out: HarCookie[] = [];
  for (const [n, v] of headers) {
    if (v === null || n.toLowerCase() !== 'set-cookie') continue;
    const [first = '', ...attrs] = v.split(';');
    const eq = first.indexOf('=');
    if (eq <= 0) continue;
    const c: HarCookie = { name: first.slice(0, eq).trim(), value: first.slice(eq + 1).trim() };
    for (const a of attrs) {
      const [k = '', ...rest] = a.split('=');
      const key = k.trim().toLowerCase();
      const val = rest.join('=').trim();
      if (key === 'path') c.path = val;
      else if (key === 'domain') c.domain = val;
      else if (key === 'httponly') c.httpOnly = true;
      else if (key === 'secure') c.secure = true;
      else if (key === 'expires' && Number.isFinite(Date.parse(val))) c.expires = new Date(val).toISOString();
    }
    out.push(c);
  }
  return out;
}

/** The query string's parameters, decoded as a browser shows them (a bad escape stays as it was). */
function queryParams(query: string | null): HarNameValue[] {
  if (query === null || query === '') return [];
  return query.split('&').map((part) => {
    const eq = part.indexOf('=');
    return eq < 0
      ? { name: decode(part), value: '' }
      : { name: decode(part.slice(0, eq)), value: decode(part.slice(eq + 1)) };
  });
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function postDataOf(body: TraceBody, headers: HeaderPair[]): HarPostData {
  const bytes = Buffer.from(body.data ?? '', 'base64');
  const text = utf8Text(bytes);
  return {
    mimeType: headerValue(headers, 'content-type') ?? '',
    ...(text === undefined ? { text: body.data ?? '', _encoding: 'base64' as const } : { text }),
    ...(body.truncated === true ? { comment: `truncated: the first ${bytes.length} of ${body.length} bytes` } : {}),
  };
}

function contentOf(body: TraceBody, headers: HeaderPair[]): HarContent {
  const mimeType = headerValue(headers, 'content-type') ?? 'x-unknown';
  if (body.data === undefined)
    return body.length === 0 ? { size: 0, mimeType } : { size: body.length, mimeType, comment: 'body not recorded' };
  const bytes = Buffer.from(body.data, 'base64');
  const text = utf8Text(bytes);
  return {
    size: body.length,
    mimeType,
    ...(text === undefined ? { text: body.data, encoding: 'base64' } : { text }),
    ...(body.truncated === true ? { comment: `truncated: the first ${bytes.length} of ${body.length} bytes` } : {}),
  };
}

/** The bytes as text when they are valid UTF-8 without NUL, else undefined (then base64). */
function utf8Text(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  return !text.includes('\0') && Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

function bodyMeta(b: TraceBody): Omit<TraceBody, 'data'> {
  return { length: b.length, sha256: b.sha256, ...(b.truncated === true ? { truncated: true } : {}) };
}

/** The IP address of `ip:port` or `[v6]:port`, for serverIPAddress; undefined for anything else. */
function serverAddress(endpoint: string): string | undefined {
  const v6 = /^\[([0-9a-f:.]+)\]:\d+$/i.exec(endpoint);
  if (v6 !== null) return v6[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(endpoint);
  return v4?.[1];
}

/**
 * HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/, W3C's draft of it), the parts ajpbench
 * writes and reads. Times are milliseconds; -1 means "does not apply". Custom fields start with `_`
 * (as the spec asks): `_ajpbench` carries what HAR has no place for (AJP attributes, connection and
 * exchange numbers, body hashes), so that trace → HAR → trace loses nothing.
 */
import type { ExchangeEvent, HeaderPair, TraceBody, TraceHeader, TraceRequest } from './trace-types.js';

export interface HarNameValue {
  name: string;
  value: string;
  comment?: string;
}

export interface HarCookie extends HarNameValue {
  path?: string;
  domain?: string;
  expires?: string | null;
  httpOnly?: boolean;
  secure?: boolean;
}

export interface HarPostData {
  mimeType: string;
  text?: string;
  params?: HarNameValue[];
  comment?: string;
  /** `base64` when `text` holds a body that is not UTF-8 text (HAR 1.2 has no encoding for postData). */
  _encoding?: 'base64';
}

export interface HarContent {
  size: number;
  compression?: number;
  mimeType: string;
  text?: string;
  encoding?: string;
  comment?: string;
}

export interface HarRequest {
  method: string;
  url: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  queryString: HarNameValue[];
  postData?: HarPostData;
  headersSize: number;
  bodySize: number;
  comment?: string;
}

export interface HarResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  content: HarContent;
  redirectURL: string;
  headersSize: number;
  bodySize: number;
  comment?: string;
}

export interface HarTimings {
  blocked?: number;
  dns?: number;
  connect?: number;
  send: number;
  wait: number;
  receive: number;
  ssl?: number;
  comment?: string;
}

/**
 * What an entry exported from a trace keeps beside the HAR fields. `request.headers` and
 * `response.headers` are there only when HAR cannot hold them (a null value); bodies keep their
 * length and hash (`data` is in postData / content.text).
 */
export interface HarAjpExtras {
  id: number;
  conn: number;
  t: number;
  upstream: string;
  worker?: string;
  route: string | null;
  routeSource: ExchangeEvent['routeSource'];
  bodyRequests: number;
  byteStrings?: true;
  truncated?: ExchangeEvent['truncated'];
  timing: ExchangeEvent['timing'];
  request: Pick<
    TraceRequest,
    'protocol' | 'remoteAddr' | 'remoteHost' | 'serverName' | 'serverPort' | 'isSsl' | 'attributes' | 'reqAttributes'
  > & {
    /** The exact path and query, when the URL holds them percent-encoded (a space, a byte string). */
    uri?: string;
    query?: string;
    chunked?: boolean;
    body: Omit<TraceBody, 'data'>;
    headers?: HeaderPair[];
  };
  response: { message: string | null; reuse: boolean; body: Omit<TraceBody, 'data'>; headers?: HeaderPair[] };
}

export interface HarEntry {
  pageref?: string;
  startedDateTime: string;
  time: number;
  request: HarRequest;
  response: HarResponse;
  cache: Record<string, unknown>;
  timings: HarTimings;
  serverIPAddress?: string;
  connection?: string;
  comment?: string;
  _ajpbench?: HarAjpExtras;
}

export interface HarLog {
  version: string;
  creator: { name: string; version: string; comment?: string };
  browser?: { name: string; version: string };
  pages?: unknown[];
  entries: HarEntry[];
  comment?: string;
  /** The header of the trace it was exported from. */
  _ajpbench?: TraceHeader;
}

export interface Har {
  log: HarLog;
}

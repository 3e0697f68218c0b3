/**
 * AJP13 wire constants, named as in the protocol reference (shared/ajp13.md, cited as §n).
 * Every table here is the single source for both the decoder and the encoder.
 */

/** §1: the two magics. Web server → container packets start `12 34`, container → web server `41 42` ("AB"). */
export const MAGIC_TO_CONTAINER = 0x1234;
export const MAGIC_TO_WEB_SERVER = 0x4142;

/** §1: packet size limits, header included. Tomcat `packetSize`, mod_jk `max_packet_size`. */
export const DEFAULT_MAX_PACKET_SIZE = 8192;
export const MIN_MAX_PACKET_SIZE = 8192;
export const MAX_MAX_PACKET_SIZE = 65536;
export const FRAME_HEADER_SIZE = 4;

/** §2: a string length of 0xFFFF means null; nothing follows it. */
export const NULL_STRING_LENGTH = 0xffff;

/** §3: message type codes (the first payload byte). */
export const enum MessageCode {
  ForwardRequest = 0x02, // JK_AJP13_FORWARD_REQUEST, WS→C
  SendBodyChunk = 0x03, // JK_AJP13_SEND_BODY_CHUNK, C→WS
  SendHeaders = 0x04, // JK_AJP13_SEND_HEADERS, C→WS
  EndResponse = 0x05, // JK_AJP13_END_RESPONSE, C→WS
  GetBodyChunk = 0x06, // JK_AJP13_GET_BODY_CHUNK, C→WS
  Shutdown = 0x07, // JK_AJP13_SHUTDOWN, WS→C
  Ping = 0x08, // JK_AJP13_PING_REQUEST, WS→C
  CPong = 0x09, // JK_AJP13_CPONG_REPLY, C→WS
  CPing = 0x0a, // JK_AJP13_CPING_REQUEST, WS→C
}

/** §4: method codes. Index = code; code 0 and 28–254 are invalid. */
export const METHOD_NAMES: readonly (string | undefined)[] = [
  undefined,
  'OPTIONS',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'TRACE',
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'ACL',
  'REPORT',
  'VERSION-CONTROL',
  'CHECKIN',
  'CHECKOUT',
  'UNCHECKOUT',
  'SEARCH',
  'MKWORKSPACE',
  'UPDATE',
  'LABEL',
  'MERGE',
  'BASELINE-CONTROL', // Tomcat and mod_jk spelling; the old document wrote BASELINE_CONTROL
  'MKACTIVITY',
];

/** §4: SC_M_JK_STORED: the real method travels in the stored_method attribute (0x0D). */
export const METHOD_STORED = 0xff;

export const METHOD_CODES: ReadonlyMap<string, number> = new Map(
  METHOD_NAMES.flatMap((name, code) => (name === undefined ? [] : [[name, code] as const])),
);

/** §4.1: a header name whose first uint16 has high byte 0xA0 is coded; the low byte indexes the tables below. */
export const CODED_HEADER_HIGH = 0xa0;

/** §4.2: request header codes A001–A00E, decoded to these lowercase names (as Tomcat does). */
export const REQUEST_HEADER_NAMES: readonly (string | undefined)[] = [
  undefined,
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'authorization',
  'connection',
  'content-type',
  'content-length',
  'cookie',
  'cookie2',
  'host',
  'pragma',
  'referer',
  'user-agent',
];

/** §5.1: response header codes A001–A00B, in Tomcat's exact case. */
export const RESPONSE_HEADER_NAMES: readonly (string | undefined)[] = [
  undefined,
  'Content-Type',
  'Content-Language',
  'Content-Length',
  'Date',
  'Last-Modified',
  'Location',
  'Set-Cookie',
  'Set-Cookie2',
  'Servlet-Engine',
  'Status',
  'WWW-Authenticate',
];

/** Lowercase name → low byte of the code; mod_jk and httpd match request header names case-insensitively. */
export const REQUEST_HEADER_CODES: ReadonlyMap<string, number> = indexByLowercase(REQUEST_HEADER_NAMES);
/** Lowercase name → low byte; used when encoding a response header that has no explicit coded flag. */
export const RESPONSE_HEADER_CODES: ReadonlyMap<string, number> = indexByLowercase(RESPONSE_HEADER_NAMES);

function indexByLowercase(names: readonly (string | undefined)[]): ReadonlyMap<string, number> {
  return new Map(names.flatMap((name, code) => (name === undefined ? [] : [[name.toLowerCase(), code] as const])));
}

/** §4.3: attribute codes. */
export const enum AttributeCode {
  Context = 0x01,
  ServletPath = 0x02,
  RemoteUser = 0x03,
  AuthType = 0x04,
  QueryString = 0x05,
  Route = 0x06,
  SslCert = 0x07,
  SslCipher = 0x08,
  SslSession = 0x09,
  ReqAttribute = 0x0a,
  SslKeySize = 0x0b,
  Secret = 0x0c,
  StoredMethod = 0x0d,
  AreDone = 0xff,
}

/** Spec names of the attributes whose value is one string (everything but req_attribute and ssl_key_size). */
export type StringAttributeName =
  | 'context'
  | 'servlet_path'
  | 'remote_user'
  | 'auth_type'
  | 'query_string'
  | 'route'
  | 'ssl_cert'
  | 'ssl_cipher'
  | 'ssl_session'
  | 'secret'
  | 'stored_method';

export type AttributeName = StringAttributeName | 'req_attribute' | 'ssl_key_size';

/** Index = attribute code; the spec names used in messages, traces and docs. */
export const ATTRIBUTE_NAMES: readonly (AttributeName | undefined)[] = [
  undefined,
  'context',
  'servlet_path',
  'remote_user',
  'auth_type',
  'query_string',
  'route',
  'ssl_cert',
  'ssl_cipher',
  'ssl_session',
  'req_attribute',
  'ssl_key_size',
  'secret',
  'stored_method',
];

export const ATTRIBUTE_CODES: ReadonlyMap<AttributeName, number> = new Map(
  ATTRIBUTE_NAMES.flatMap((name, code) => (name === undefined ? [] : [[name, code] as const])),
);

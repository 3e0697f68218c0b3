/**
 * Payload → typed message, one small parser per message type (§4, §5, §6).
 * Parsers throw PayloadError, which the caller turns into an AjpProtocolError at the frame
 * boundary; the framing itself is unaffected because every packet carries its own length.
 */
import {
  ATTRIBUTE_NAMES,
  AttributeCode,
  CODED_HEADER_HIGH,
  MessageCode,
  METHOD_NAMES,
  METHOD_STORED,
  NULL_STRING_LENGTH,
  REQUEST_HEADER_NAMES,
  RESPONSE_HEADER_NAMES,
  type StringAttributeName,
} from './constants.js';
import { PayloadError } from './errors.js';
import type {
  AjpHeader,
  AjpMessage,
  BodyChunk,
  Direction,
  ForwardRequest,
  PrefixField,
  SendBodyChunk,
  SendHeaders,
  ToContainerMessage,
  ToWebServerMessage,
} from './messages.js';
import { PayloadReader } from './payload-reader.js';

export interface MessageDecodeOptions {
  /**
   * Strict (a peer's view): reject unknown header codes, trailing bytes and a missing final NUL.
   * Lenient (a sniffer's view, the default): name unknown codes `unknown-0xa0nn`, ignore trailing
   * bytes as mod_jk does, accept a string NUL missing at the very end.
   */
  strict?: boolean;
}

// Decoding is synchronous and never re-entered, so one reader serves every call.
const reader = new PayloadReader();

/** A WS → C payload read as a typed message (never as a body packet; see decodeBody). */
export function decodeToContainer(payload: Buffer, opts: MessageDecodeOptions = {}): ToContainerMessage {
  const strict = opts.strict === true;
  const r = reader.reset(payload, !strict);
  const code = r.u8('type');
  let msg: ToContainerMessage;
  switch (code) {
    case MessageCode.ForwardRequest:
      msg = readForwardRequest(r, strict);
      break;
    case MessageCode.Shutdown:
      msg = { type: 'shutdown' };
      break;
    case MessageCode.Ping:
      msg = { type: 'ping' };
      break;
    case MessageCode.CPing:
      msg = { type: 'cping' };
      break;
    default:
      throw new PayloadError('AJP_ERR_UNKNOWN_TYPE', `type 0x${hex2(code)} is not a web-server→container message`, 0);
  }
  if (strict) noTrailing(r);
  return msg;
}

/** §6: a WS → C body packet: `u16 n` then n bytes; an empty payload is the bare end-of-body form. */
export function decodeBody(payload: Buffer, opts: MessageDecodeOptions = {}): BodyChunk {
  if (payload.length === 0) return { type: 'body', data: payload, bare: true };
  const r = reader.reset(payload, true);
  const n = r.u16('body length');
  if (n > payload.length - 2) {
    throw new PayloadError(
      'AJP_ERR_BAD_BODY_LENGTH',
      `body chunk says ${n} bytes, packet holds ${payload.length - 2}`,
      0,
    );
  }
  if (opts.strict === true && n !== payload.length - 2) {
    throw new PayloadError('AJP_ERR_TRAILING_BYTES', `${payload.length - 2 - n} byte(s) after the body chunk`, 2 + n);
  }
  return { type: 'body', data: payload.subarray(2, 2 + n) };
}

/** A C → WS payload read as a typed message. */
export function decodeToWebServer(payload: Buffer, opts: MessageDecodeOptions = {}): ToWebServerMessage {
  const strict = opts.strict === true;
  const r = reader.reset(payload, !strict);
  const code = r.u8('type');
  let msg: ToWebServerMessage;
  switch (code) {
    case MessageCode.SendHeaders:
      msg = readSendHeaders(r, strict);
      break;
    case MessageCode.SendBodyChunk:
      msg = readSendBodyChunk(r, strict);
      break;
    case MessageCode.EndResponse:
      // §5.3: httpd reuses on any non-zero byte; Tomcat sends exactly 00 or 01.
      msg = { type: 'end-response', reuse: r.u8('reuse') !== 0 };
      break;
    case MessageCode.GetBodyChunk:
      msg = { type: 'get-body-chunk', requestedLength: r.u16('requested length') };
      break;
    case MessageCode.CPong:
      msg = { type: 'cpong' };
      break;
    default:
      throw new PayloadError('AJP_ERR_UNKNOWN_TYPE', `type 0x${hex2(code)} is not a container→web-server message`, 0);
  }
  if (strict) noTrailing(r);
  return msg;
}

/**
 * Salvage (a capture that holds only the first bytes of a frame, see FrameInfo.cut): the message
 * decoded from a prefix of its payload, with the first field the prefix does not wholly hold.
 * Forward Request, Send Headers, Send Body Chunk and body packets can be read in part; a prefix
 * too short for its type byte, or of another type, gives undefined. `bodyPacket`: read a
 * web-server→container payload as a body packet (the caller knows the exchange state).
 */
export function decodePrefix(
  direction: Direction,
  payload: Buffer,
  bodyPacket = false,
): { msg: AjpMessage; cutAt: PrefixField | undefined } | undefined {
  if (payload.length === 0) return undefined;
  if (bodyPacket) {
    // u16 n, then the n bytes the packet carries: those captured.
    return { msg: { type: 'body', data: payload.subarray(Math.min(2, payload.length)) }, cutAt: 'data' };
  }
  const r = reader.reset(payload, true);
  const code = r.u8('type');
  const progress: Progress = { at: 'type' };
  try {
    // A prefix that decodes whole (the cut fell in bytes after the message): no field is missing.
    if (direction === 'to-container') {
      if (code !== MessageCode.ForwardRequest) return undefined;
      return { msg: readForwardRequest(r, false, emptyForwardRequest(), progress), cutAt: undefined };
    }
    if (code === MessageCode.SendHeaders)
      return { msg: readSendHeaders(r, false, undefined, progress), cutAt: undefined };
    if (code === MessageCode.SendBodyChunk) {
      progress.at = 'data';
      const n = r.u16('chunk length');
      return {
        msg: { type: 'send-body-chunk', data: r.buf.subarray(r.pos, Math.min(r.end, r.pos + n)) },
        cutAt: 'data',
      };
    }
    return undefined;
  } catch (e) {
    if (!(e instanceof PayloadError) || !PREFIX_ENDS.has(e.code)) return undefined;
    const msg = progress.partial;
    if (msg === undefined) return undefined;
    const field = CUT_STRINGS[progress.at];
    if (field !== undefined && progress.start !== undefined)
      (msg as unknown as Record<string, unknown>)[field] = cutString(payload, progress.start);
    return { msg, cutAt: progress.at };
  }
}

/** Codes that mean the payload ran out: where a prefix ends. */
const PREFIX_ENDS: ReadonlySet<string> = new Set(['AJP_ERR_TRUNCATED', 'AJP_ERR_MISSING_TERMINATOR']);

/** Which field a reader is on (and where it starts), and the message filled so far (for decodePrefix). */
interface Progress {
  at: PrefixField;
  start?: number;
  partial?: ForwardRequest | SendHeaders;
}

function mark(progress: Progress, at: PrefixField, start: number): void {
  progress.at = at;
  progress.start = start;
}

/** The string fields a prefix may cut: they keep the characters captured. */
const CUT_STRINGS: Partial<
  Record<PrefixField, 'protocol' | 'uri' | 'remoteAddr' | 'remoteHost' | 'serverName' | 'message'>
> = {
  protocol: 'protocol',
  uri: 'uri',
  remoteAddr: 'remoteAddr',
  remoteHost: 'remoteHost',
  serverName: 'serverName',
  message: 'message',
};

/** What a prefix holds of the §2 string at `start` (its u16 length, then the bytes): null if not even the length. */
function cutString(buf: Buffer, start: number): string | null {
  if (start + 2 > buf.length) return null;
  const len = buf.readUInt16BE(start);
  if (len === NULL_STRING_LENGTH) return null;
  return buf.toString('latin1', start + 2, Math.min(buf.length, start + 2 + len));
}

function emptyForwardRequest(): ForwardRequest {
  return {
    type: 'forward-request',
    method: '',
    methodCode: 0,
    protocol: null,
    uri: null,
    remoteAddr: null,
    remoteHost: null,
    serverName: null,
    serverPort: 0,
    isSsl: false,
    headers: [],
    attributes: [],
  };
}

/**
 * Fills `fr` field by field (its defaults are the placeholders of a prefix), naming in `progress`
 * the field being read, so that a prefix cut anywhere keeps every field before the cut.
 */
function readForwardRequest(
  r: PayloadReader,
  strict: boolean,
  fr: ForwardRequest = emptyForwardRequest(),
  progress?: Progress,
): ForwardRequest {
  if (progress !== undefined) {
    progress.partial = fr;
    progress.at = 'method';
  }
  const methodCode = r.u8('method');
  const tableMethod = METHOD_NAMES[methodCode];
  if (tableMethod === undefined && methodCode !== METHOD_STORED) {
    throw new PayloadError('AJP_ERR_BAD_METHOD', `method code ${methodCode} is not defined`, 1);
  }
  fr.methodCode = methodCode;
  if (tableMethod !== undefined) fr.method = tableMethod;
  if (progress !== undefined) mark(progress, 'protocol', r.pos);
  fr.protocol = r.str('protocol');
  if (progress !== undefined) mark(progress, 'uri', r.pos);
  fr.uri = r.str('req_uri');
  if (progress !== undefined) mark(progress, 'remoteAddr', r.pos);
  fr.remoteAddr = r.str('remote_addr');
  if (progress !== undefined) mark(progress, 'remoteHost', r.pos);
  fr.remoteHost = r.str('remote_host');
  if (progress !== undefined) mark(progress, 'serverName', r.pos);
  fr.serverName = r.str('server_name');
  if (progress !== undefined) mark(progress, 'serverPort', r.pos);
  fr.serverPort = r.u16('server_port');
  if (progress !== undefined) mark(progress, 'isSsl', r.pos);
  fr.isSsl = r.u8('is_ssl') !== 0;
  if (progress !== undefined) mark(progress, 'headers', r.pos);
  readHeaders(r, REQUEST_HEADER_NAMES, strict, fr.headers);
  if (progress !== undefined) mark(progress, 'attributes', r.pos);
  const attributes = fr.attributes;
  let storedMethod: string | null | undefined;
  for (;;) {
    if (r.remaining === 0) {
      throw new PayloadError('AJP_ERR_MISSING_TERMINATOR', 'the attribute list ends without 0xFF', r.pos);
    }
    const at = r.pos;
    const code = r.u8('attribute code');
    if (code === AttributeCode.AreDone) break;
    if (code === AttributeCode.ReqAttribute) {
      attributes.push({ name: 'req_attribute', key: r.str('req_attribute name'), value: r.str('req_attribute value') });
    } else if (code === AttributeCode.SslKeySize) {
      // §4.3: an integer, not a string, in all four implementations.
      attributes.push({ name: 'ssl_key_size', value: r.u16('ssl_key_size') });
    } else {
      const name = ATTRIBUTE_NAMES[code] as StringAttributeName | undefined;
      if (name === undefined) {
        // §4.3: the value length of an unknown code is unknown, so nothing after it can be read.
        throw new PayloadError('AJP_ERR_UNKNOWN_ATTRIBUTE', `attribute code 0x${hex2(code)} is not defined`, at);
      }
      const value = r.str(name);
      if (code === AttributeCode.StoredMethod) {
        storedMethod = value;
        if (tableMethod === undefined && value !== null) fr.method = value;
      }
      attributes.push({ name, value });
    }
  }
  if (tableMethod === undefined && (storedMethod === undefined || storedMethod === null))
    throw new PayloadError('AJP_ERR_BAD_METHOD', 'method 0xFF (stored) without a stored_method attribute', 1);
  return fr;
}

function readSendHeaders(
  r: PayloadReader,
  strict: boolean,
  sh: SendHeaders = { type: 'send-headers', status: 0, message: null, headers: [] },
  progress?: Progress,
): SendHeaders {
  if (progress !== undefined) {
    progress.partial = sh;
    progress.at = 'status';
  }
  sh.status = r.u16('status');
  if (progress !== undefined) mark(progress, 'message', r.pos);
  sh.message = r.str('status message');
  if (progress !== undefined) mark(progress, 'headers', r.pos);
  readHeaders(r, RESPONSE_HEADER_NAMES, strict, sh.headers);
  return sh;
}

function readSendBodyChunk(r: PayloadReader, strict: boolean): SendBodyChunk {
  const n = r.u16('chunk length');
  const data = r.bytes(n, 'chunk data');
  // §5.2: Tomcat always pads with one 00; mod_jk accepts it missing. Encoders pad, decoders accept both.
  if (r.remaining === 0) {
    if (strict) throw new PayloadError('AJP_ERR_TRUNCATED', 'the pad byte after the chunk is missing', r.pos);
    return { type: 'send-body-chunk', data, unpadded: true };
  }
  r.pos++;
  return { type: 'send-body-chunk', data };
}

/** §4.1: num_headers, then (name, value) pairs; a name is a 0xA0nn code or a string. */
function readHeaders(
  r: PayloadReader,
  table: readonly (string | undefined)[],
  strict: boolean,
  headers: AjpHeader[] = [],
): AjpHeader[] {
  const count = r.u16('num_headers');
  for (let i = 0; i < count; i++) {
    const peek = r.peekU16();
    let name: string | null;
    let coded: boolean;
    if (peek >> 8 === CODED_HEADER_HIGH) {
      r.pos += 2;
      coded = true;
      name = table[peek & 0xff] ?? null;
      if (name === null) {
        if (strict) {
          throw new PayloadError(
            'AJP_ERR_UNKNOWN_HEADER_CODE',
            `header code 0x${peek.toString(16)} is not defined`,
            r.pos - 2,
          );
        }
        name = unknownHeaderName(peek);
      }
    } else {
      coded = false;
      name = r.str('header name');
      if (name === null) throw new PayloadError('AJP_ERR_NULL_HEADER_NAME', `header ${i} has a null name`, r.pos - 2);
    }
    headers.push({ name, value: r.str(name), coded });
  }
  return headers;
}

/** §9: when sniffing, an undefined code keeps its number in the name so that it re-encodes. */
export function unknownHeaderName(code: number): string {
  return `unknown-0x${code.toString(16).padStart(4, '0')}`;
}

function noTrailing(r: PayloadReader): void {
  if (r.remaining > 0)
    throw new PayloadError('AJP_ERR_TRAILING_BYTES', `${r.remaining} byte(s) after the message`, r.pos);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}

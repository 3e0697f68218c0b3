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
  REQUEST_HEADER_NAMES,
  RESPONSE_HEADER_NAMES,
  type StringAttributeName,
} from './constants.js';
import { PayloadError } from './errors.js';
import type {
  AjpAttribute,
  AjpHeader,
  BodyChunk,
  ForwardRequest,
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

function readForwardRequest(r: PayloadReader, strict: boolean): ForwardRequest {
  const methodCode = r.u8('method');
  const tableMethod = METHOD_NAMES[methodCode];
  if (tableMethod === undefined && methodCode !== METHOD_STORED) {
    throw new PayloadError('AJP_ERR_BAD_METHOD', `method code ${methodCode} is not defined`, 1);
  }
  const protocol = r.str('protocol');
  const uri = r.str('req_uri');
  const remoteAddr = r.str('remote_addr');
  const remoteHost = r.str('remote_host');
  const serverName = r.str('server_name');
  const serverPort = r.u16('server_port');
  const isSsl = r.u8('is_ssl') !== 0;
  const headers = readHeaders(r, REQUEST_HEADER_NAMES, strict);
  const attributes: AjpAttribute[] = [];
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
      if (code === AttributeCode.StoredMethod) storedMethod = value;
      attributes.push({ name, value });
    }
  }
  let method: string;
  if (tableMethod !== undefined) method = tableMethod;
  else if (storedMethod !== undefined && storedMethod !== null) method = storedMethod;
  else throw new PayloadError('AJP_ERR_BAD_METHOD', 'method 0xFF (stored) without a stored_method attribute', 1);
  return {
    type: 'forward-request',
    method,
    methodCode,
    protocol,
    uri,
    remoteAddr,
    remoteHost,
    serverName,
    serverPort,
    isSsl,
    headers,
    attributes,
  };
}

function readSendHeaders(r: PayloadReader, strict: boolean): SendHeaders {
  const status = r.u16('status');
  const message = r.str('status message');
  const headers = readHeaders(r, RESPONSE_HEADER_NAMES, strict);
  return { type: 'send-headers', status, message, headers };
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
function readHeaders(r: PayloadReader, table: readonly (string | undefined)[], strict: boolean): AjpHeader[] {
  const count = r.u16('num_headers');
  const headers: AjpHeader[] = [];
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

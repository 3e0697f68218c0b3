/**
 * Typed AJP13 messages: one interface per message, unions tagged by `type`.
 * The `type` strings are the names used everywhere (decode output, traces, docs).
 *
 * Strings are byte strings: each character is one byte (ISO-8859-1 decoding), so whatever bytes
 * a peer sent come back unchanged when encoded again (§2: AJP defines no character set).
 * Use `utf8View()` to show them as UTF-8. `null` is the 0xFFFF null string, distinct from ''.
 *
 * Buffer ownership: a `data` Buffer in a decoded message is a view. It points either into the
 * chunk the caller pushed (when the frame arrived whole in one chunk) or into a buffer the decoder
 * allocated for that one frame (when it spanned chunks). The decoder never writes to either again,
 * so a view stays valid as long as the caller does not overwrite the chunks it pushed.
 */
import type { StringAttributeName } from './constants.js';

export type Direction = 'to-container' | 'to-web-server';

/** One header as it travelled. `coded` says whether the name went as an 0xA0nn code (§4.1). */
export interface AjpHeader {
  name: string;
  value: string | null;
  /**
   * true: sent as a code (the name is the table's spelling); false: sent as a string with exactly
   * these bytes. Omitted when building a message: the encoder codes a name found in the table,
   * case-insensitively, as mod_jk and httpd do.
   */
  coded?: boolean;
}

/** §4.3 attributes, in the order they travelled. */
export type AjpAttribute =
  | { name: StringAttributeName; value: string | null }
  | { name: 'ssl_key_size'; value: number }
  | { name: 'req_attribute'; key: string | null; value: string | null };

/**
 * §4: WS → C, type 0x02. The one Forward Request model: the trace's request (TraceRequest,
 * src/trace/trace-types.ts) is this type with its own JSON form for the fields where that differs,
 * and what the load clients send (ReplayRequest, src/load/replay-request.ts) is this type plus
 * what a replay needs beside it.
 */
export interface ForwardRequest {
  type: 'forward-request';
  /** The effective method: the table name, or the stored_method value when `methodCode` is 0xFF. */
  method: string;
  /** The method byte as sent (1–27, or 0xFF = stored). Omitted when building: derived from `method`. */
  methodCode?: number;
  protocol: string | null;
  uri: string | null;
  remoteAddr: string | null;
  remoteHost: string | null;
  serverName: string | null;
  serverPort: number;
  isSsl: boolean;
  headers: AjpHeader[];
  attributes: AjpAttribute[];
}

/**
 * §6: WS → C request body packet (no type byte). An empty `data` ends the body.
 * `bare` marks the 4-byte form `12 34 00 00` (mod_jk) as opposed to `12 34 00 02 00 00`.
 */
export interface BodyChunk {
  type: 'body';
  data: Buffer;
  bare?: boolean;
}

export interface Shutdown {
  type: 'shutdown';
}
export interface Ping {
  type: 'ping';
}
export interface CPing {
  type: 'cping';
}

/** §5.1: C → WS, type 0x04. */
export interface SendHeaders {
  type: 'send-headers';
  status: number;
  message: string | null;
  headers: AjpHeader[];
}

/** §5.2: C → WS, type 0x03. `unpadded` marks a chunk that came without the trailing 00 pad. */
export interface SendBodyChunk {
  type: 'send-body-chunk';
  data: Buffer;
  unpadded?: boolean;
}

/** §5.3: C → WS, type 0x05. */
export interface EndResponse {
  type: 'end-response';
  reuse: boolean;
}

/** §5.4: C → WS, type 0x06. */
export interface GetBodyChunk {
  type: 'get-body-chunk';
  requestedLength: number;
}

/** §7.1: C → WS, type 0x09. */
export interface CPong {
  type: 'cpong';
}

export type ToContainerMessage = ForwardRequest | BodyChunk | Shutdown | Ping | CPing;
export type ToWebServerMessage = SendHeaders | SendBodyChunk | EndResponse | GetBodyChunk | CPong;
export type AjpMessage = ToContainerMessage | ToWebServerMessage;
export type MessageType = AjpMessage['type'];

export const MESSAGE_TYPES: readonly MessageType[] = [
  'forward-request',
  'body',
  'shutdown',
  'ping',
  'cping',
  'send-headers',
  'send-body-chunk',
  'end-response',
  'get-body-chunk',
  'cpong',
];

/** Where a decoded frame sat in its byte stream. */
export interface FrameInfo {
  direction: Direction;
  /** Offset of the frame's first magic byte from the start of that direction's stream. */
  offset: number;
  /** Bytes on the wire, header included (payload length + 4). */
  length: number;
  /**
   * Salvage from a capture that lacks bytes (snaplen, a lost segment): the message was decoded from
   * the first `captured` bytes of the frame (header included) and `cutAt` names the first field
   * not wholly inside them. Every field before it is exact; a list (headers, attributes) holds its
   * whole entries; a field from `cutAt` on holds a placeholder (null, 0, false, an empty list) or,
   * for body data, the bytes captured. Absent for a whole frame.
   */
  cut?: { captured: number; cutAt: PrefixField };
}

/** The Forward Request's fields after its type byte, in wire order (§4). */
export const FORWARD_REQUEST_FIELDS = [
  'method',
  'protocol',
  'uri',
  'remoteAddr',
  'remoteHost',
  'serverName',
  'serverPort',
  'isSsl',
  'headers',
  'attributes',
] as const;

/** The fields of a message in wire order, as a cut frame names the first one it lacks (FrameInfo.cut). */
export type PrefixField = 'type' | (typeof FORWARD_REQUEST_FIELDS)[number] | 'status' | 'message' | 'data';

/** First value of a string attribute, or undefined when absent. */
export function findAttribute(req: ForwardRequest, name: StringAttributeName): string | null | undefined {
  for (const a of req.attributes) if (a.name === name && isStringAttribute(a)) return a.value;
  return undefined;
}

export function isStringAttribute(a: AjpAttribute): a is { name: StringAttributeName; value: string | null } {
  return a.name !== 'ssl_key_size' && a.name !== 'req_attribute';
}

/** First header with this name, compared case-insensitively (§9: one header may arrive in any case). */
export function findHeader(headers: readonly AjpHeader[], name: string): string | null | undefined {
  const lower = name.toLowerCase();
  for (const h of headers) if (h.name.length === lower.length && h.name.toLowerCase() === lower) return h.value;
  return undefined;
}

/**
 * Transfer-Encoding: chunked with no Content-Length (§6.5): the body comes only when the container
 * asks for it with Get Body Chunk, and its length is known only at its empty last packet.
 */
export function hasChunkedBody(headers: readonly AjpHeader[]): boolean {
  return (
    findHeader(headers, 'content-length') === undefined &&
    /chunked/i.test(findHeader(headers, 'transfer-encoding') ?? '')
  );
}

/** A byte string (one char per byte) shown as UTF-8 when its bytes are valid UTF-8, else unchanged. */
export function utf8View(s: string): string {
  // Pure ASCII is the same either way; only look further when a byte ≥ 0x80 is present.
  if (!/[\x80-\xff]/.test(s)) return s;
  const bytes = Buffer.from(s, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text, 'utf8') === bytes.length && !text.includes('\ufffd') ? text : s;
}

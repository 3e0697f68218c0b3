/**
 * Encoders for every AJP13 message (§3–§6).
 *
 * One writer per encoder. Frames are written one after another into a slab (64 KiB) and handed
 * out as views; a region once handed out is never written again, so a frame stays valid while a
 * socket holds it, and no frame is copied out of a scratch buffer. The header is reserved first
 * and the length filled in at the end (pg-protocol's serializer). Constant messages are built once
 * and shared: do not write into them.
 */
import {
  ATTRIBUTE_CODES,
  AttributeCode,
  CODED_HEADER_HIGH,
  DEFAULT_MAX_PACKET_SIZE,
  FRAME_HEADER_SIZE,
  MAGIC_TO_CONTAINER,
  MAGIC_TO_WEB_SERVER,
  MessageCode,
  METHOD_CODES,
  METHOD_STORED,
  NULL_STRING_LENGTH,
  REQUEST_HEADER_CODES,
  RESPONSE_HEADER_CODES,
} from './constants.js';
import { AjpEncodeError } from './errors.js';
import { checkMaxPacketSize } from './frame-decoder.js';
import type { AjpAttribute, AjpHeader, AjpMessage, ForwardRequest, SendHeaders } from './messages.js';

export interface EncoderOptions {
  /** Largest packet, header included (8192–65536); larger messages are refused, as peers would. */
  maxPacketSize?: number;
}

const SLAB_SIZE = 64 * 1024;
/** Strings up to this length are written by a JS loop (see str()). */
const SHORT_STRING = 96;

export const CPING_FRAME: Buffer = Buffer.from([0x12, 0x34, 0x00, 0x01, MessageCode.CPing]);
export const CPONG_FRAME: Buffer = Buffer.from([0x41, 0x42, 0x00, 0x01, MessageCode.CPong]);
export const SHUTDOWN_FRAME: Buffer = Buffer.from([0x12, 0x34, 0x00, 0x01, MessageCode.Shutdown]);
export const PING_FRAME: Buffer = Buffer.from([0x12, 0x34, 0x00, 0x01, MessageCode.Ping]);
/** §6.4 end of body, mod_jk form. */
export const EMPTY_BODY_FRAME: Buffer = Buffer.from([0x12, 0x34, 0x00, 0x00]);
/** §6.4 end of body, mod_proxy_ajp form. */
export const EMPTY_BODY_FRAME_LONG: Buffer = Buffer.from([0x12, 0x34, 0x00, 0x02, 0x00, 0x00]);
export const END_RESPONSE_REUSE_FRAME: Buffer = Buffer.from([0x41, 0x42, 0x00, 0x02, MessageCode.EndResponse, 0x01]);
export const END_RESPONSE_CLOSE_FRAME: Buffer = Buffer.from([0x41, 0x42, 0x00, 0x02, MessageCode.EndResponse, 0x00]);

const UNKNOWN_HEADER = /^unknown-0xa0([0-9a-f]{2})$/i;

export class AjpEncoder {
  readonly maxPacketSize: number;
  private slab: Buffer;
  private used = 0;
  // The frame being written: where it starts, the write position, and the limit.
  private start = 0;
  private pos = 0;
  private limit = 0;

  constructor(opts: EncoderOptions = {}) {
    this.maxPacketSize = checkMaxPacketSize(opts.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE);
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, this.maxPacketSize));
  }

  /** Largest body chunk one packet carries: a request body packet (§6) holds max − 6 bytes. */
  get maxRequestBodyChunk(): number {
    return this.maxPacketSize - 6;
  }

  /** Largest Send Body Chunk: max − 8 (type, length, pad), 8184 by default as Tomcat sends. */
  get maxResponseBodyChunk(): number {
    return this.maxPacketSize - 8;
  }

  encode(msg: AjpMessage): Buffer {
    switch (msg.type) {
      case 'forward-request':
        return this.forwardRequest(msg);
      case 'body':
        return msg.data.length === 0 && msg.bare === true ? EMPTY_BODY_FRAME : this.body(msg.data);
      case 'shutdown':
        return SHUTDOWN_FRAME;
      case 'ping':
        return PING_FRAME;
      case 'cping':
        return CPING_FRAME;
      case 'send-headers':
        return this.sendHeaders(msg);
      case 'send-body-chunk':
        return this.sendBodyChunk(msg.data, msg.unpadded !== true);
      case 'end-response':
        return msg.reuse ? END_RESPONSE_REUSE_FRAME : END_RESPONSE_CLOSE_FRAME;
      case 'get-body-chunk':
        return this.getBodyChunk(msg.requestedLength);
      case 'cpong':
        return CPONG_FRAME;
    }
  }

  /** §4. Throws AjpEncodeError when it does not fit one packet (§1: no continuation; mod_jk says 413). */
  forwardRequest(req: ForwardRequest): Buffer {
    this.begin(MAGIC_TO_CONTAINER);
    const methodCode = req.methodCode ?? METHOD_CODES.get(req.method) ?? METHOD_STORED;
    this.u8(MessageCode.ForwardRequest);
    this.u8(methodCode);
    this.str(req.protocol);
    this.str(req.uri);
    this.str(req.remoteAddr);
    this.str(req.remoteHost);
    this.str(req.serverName);
    this.u16(req.serverPort, 'server_port');
    this.u8(req.isSsl ? 1 : 0);
    this.headers(req.headers, REQUEST_HEADER_CODES);
    let storedMethodSent = false;
    for (const a of req.attributes) {
      if (a.name === 'stored_method') storedMethodSent = true;
      this.attribute(a);
    }
    if (methodCode === METHOD_STORED && !storedMethodSent) {
      this.u8(AttributeCode.StoredMethod);
      this.str(req.method);
    }
    this.u8(AttributeCode.AreDone);
    return this.finish();
  }

  /** §6: one request body packet, `u16 n` + n bytes (no type byte, no pad). */
  body(data: Buffer): Buffer {
    this.begin(MAGIC_TO_CONTAINER);
    this.u16(data.length, 'body length');
    this.bytes(data);
    return this.finish();
  }

  /** §5.1. */
  sendHeaders(msg: Pick<SendHeaders, 'status' | 'message' | 'headers'>): Buffer {
    this.begin(MAGIC_TO_WEB_SERVER);
    this.u8(MessageCode.SendHeaders);
    this.u16(msg.status, 'status');
    this.str(msg.message);
    this.headers(msg.headers, RESPONSE_HEADER_CODES);
    return this.finish();
  }

  /** §5.2: `03`, u16 n, n bytes, and the pad byte peers expect (httpd requires it). */
  sendBodyChunk(data: Buffer, pad = true): Buffer {
    this.begin(MAGIC_TO_WEB_SERVER);
    this.u8(MessageCode.SendBodyChunk);
    this.u16(data.length, 'chunk length');
    this.bytes(data);
    if (pad) this.u8(0);
    return this.finish();
  }

  /** §5.3: exactly 01 or 00 (mod_jk treats anything else as an error). */
  endResponse(reuse: boolean): Buffer {
    return reuse ? END_RESPONSE_REUSE_FRAME : END_RESPONSE_CLOSE_FRAME;
  }

  /** §5.4. */
  getBodyChunk(requestedLength: number): Buffer {
    this.begin(MAGIC_TO_WEB_SERVER);
    this.u8(MessageCode.GetBodyChunk);
    this.u16(requestedLength, 'requested length');
    return this.finish();
  }

  private begin(magic: number): void {
    if (this.slab.length - this.used < this.maxPacketSize) {
      // Regions already handed out stay with their frames; start a fresh slab.
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, this.maxPacketSize));
      this.used = 0;
    }
    this.start = this.used;
    this.limit = this.start + this.maxPacketSize;
    const s = this.slab;
    s[this.start] = magic >> 8;
    s[this.start + 1] = magic & 0xff;
    this.pos = this.start + FRAME_HEADER_SIZE;
  }

  private finish(): Buffer {
    const n = this.pos - this.start - FRAME_HEADER_SIZE;
    this.slab[this.start + 2] = n >> 8;
    this.slab[this.start + 3] = n & 0xff;
    // Keep the next frame 8-byte aligned; the waste is at most 7 bytes a frame.
    this.used = (this.pos + 7) & ~7;
    return this.slab.subarray(this.start, this.pos);
  }

  private room(n: number): void {
    if (this.pos + n > this.limit) {
      throw new AjpEncodeError(
        `the message does not fit in one packet of ${this.maxPacketSize} bytes (raise maxPacketSize on both sides)`,
      );
    }
  }

  private u8(v: number): void {
    this.room(1);
    this.slab[this.pos++] = v;
  }

  private u16(v: number, field: string): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff)
      throw new AjpEncodeError(`${field} must be an integer 0–65535, got ${v}`);
    this.room(2);
    this.slab[this.pos++] = v >> 8;
    this.slab[this.pos++] = v & 0xff;
  }

  private bytes(data: Buffer): void {
    this.room(data.length);
    this.pos += data.copy(this.slab, this.pos);
  }

  /**
   * §2 string: u16 length, bytes, NUL; null as FF FF. A byte string (every char ≤ 0xFF, as the
   * decoder produces) goes out byte for byte; text with wider characters goes out as UTF-8.
   */
  private str(s: string | null): void {
    if (s === null) {
      this.room(2);
      this.slab[this.pos++] = 0xff;
      this.slab[this.pos++] = 0xff;
      return;
    }
    const n = s.length;
    if (n <= SHORT_STRING) {
      // Short strings byte by byte in JS: cheaper than a call into the Buffer binding.
      this.room(n + 3);
      const slab = this.slab;
      const at = this.pos + 2;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0xff) break;
        slab[at + i] = c;
      }
      if (i === n) {
        slab[this.pos] = n >> 8;
        slab[this.pos + 1] = n & 0xff;
        slab[at + n] = 0;
        this.pos = at + n + 1;
        return;
      }
    }
    const latin1 = !/[^\x00-\xff]/.test(s);
    const len = latin1 ? n : Buffer.byteLength(s, 'utf8');
    if (len >= NULL_STRING_LENGTH)
      throw new AjpEncodeError(`a string of ${len} bytes is longer than AJP allows (65534)`);
    this.room(len + 3);
    this.slab[this.pos++] = len >> 8;
    this.slab[this.pos++] = len & 0xff;
    this.pos += this.slab.write(s, this.pos, len, latin1 ? 'latin1' : 'utf8');
    this.slab[this.pos++] = 0;
  }

  private headers(headers: readonly AjpHeader[], codes: ReadonlyMap<string, number>): void {
    this.u16(headers.length, 'num_headers');
    for (const h of headers) {
      const code = h.coded === false ? undefined : headerCode(h.name, codes);
      if (code !== undefined) {
        this.room(2);
        this.slab[this.pos++] = CODED_HEADER_HIGH;
        this.slab[this.pos++] = code;
      } else if (h.coded === true) {
        throw new AjpEncodeError(`header ${JSON.stringify(h.name)} is marked coded but has no code`);
      } else {
        // §4.1: a string name of 0xA000 bytes or more would read as a code.
        if (h.name.length >= 0xa000) throw new AjpEncodeError('a header name must be shorter than 40960 bytes');
        this.str(h.name);
      }
      this.str(h.value);
    }
  }

  private attribute(a: AjpAttribute): void {
    const code = ATTRIBUTE_CODES.get(a.name);
    if (code === undefined) throw new AjpEncodeError(`unknown attribute ${JSON.stringify(a.name)}`);
    this.u8(code);
    if (a.name === 'ssl_key_size') this.u16(a.value, 'ssl_key_size');
    else if (a.name === 'req_attribute') {
      this.str(a.key);
      this.str(a.value);
    } else this.str(a.value);
  }
}

/** The code for a header name, matched case-insensitively as mod_jk does (§4.2). */
function headerCode(name: string, codes: ReadonlyMap<string, number>): number | undefined {
  const code = codes.get(name.toLowerCase());
  if (code !== undefined) return code;
  const unknown = UNKNOWN_HEADER.exec(name);
  return unknown === null ? undefined : Number.parseInt(unknown[1] as string, 16);
}

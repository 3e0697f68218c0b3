/**
 * An HTTP/1.1 response parser (RFC 9112) fed Buffers by its caller, as llhttp is in Node and
 * undici: it knows nothing of sockets. It finds the head, reports the status and each header,
 * frames the body (Content-Length, chunked with extensions and trailers, or until the connection
 * closes), skips 1xx interim responses, and starts over for the next response (pipelining).
 *
 * Buffers: body bytes are handed out as (chunk, start, end) views into the caller's chunk, valid
 * only during the call (the client may read into one reused buffer). Only a head that spans
 * chunks is copied, into `pending`. Limits are checked as bytes arrive, before buffering more.
 */

/** Longest response head (status line and headers), and longest trailer section: Node's and undici's 16 KiB, times 4. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Longest chunk-size line (size and extensions). */
const MAX_CHUNK_LINE = 4096;
/** Most hex digits in a chunk size: 2^48 bytes is beyond any body a replay reads. */
const MAX_CHUNK_SIZE_DIGITS = 12;

/** The bytes are not a valid HTTP/1.1 response: the connection cannot be trusted any further. */
export class Http1ParseError extends Error {
  override readonly name = 'Http1ParseError';
}

/** What the parser reports, in order: start, headers, complete, body views, end. */
export interface Http1ResponseSink {
  /**
   * A final response (status 200-599) begins. Returns whether the request it answers was a HEAD
   * (RFC 9112 §6.3: no body follows whatever the headers say).
   */
  onResponseStart(status: number): boolean;
  /** One header field; `lower` is its name in lowercase, `value` trimmed. */
  onHeader(lower: string, value: string): void;
  onHeadersComplete(): void;
  /** Body bytes `chunk[start, end)`: a view valid only during the call. */
  onBody(chunk: Buffer, start: number, end: number): void;
  /** The response ended; `keepAlive`: the connection may carry the next one. */
  onResponseEnd(keepAlive: boolean): void;
}

const enum State {
  Head,
  Length,
  UntilClose,
  ChunkSize,
  ChunkExt,
  ChunkData,
  ChunkDataEnd,
  Trailers,
}

const LF = 0x0a;
const CR = 0x0d;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?:[ \t].*)?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PREFIX = 'HTTP/';

export class Http1ResponseParser {
  private state = State.Head;
  /** A head begun in an earlier chunk (a copy). */
  private pending: Buffer | null = null;
  private remaining = 0;
  private keepAlive = true;
  private chunkDigits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  /** Set by halt(): the bytes after a response that closes the connection belong to nothing. */
  private halted = false;

  constructor(private readonly sink: Http1ResponseSink) {}

  /** Whether a response is partly read (a close now would cut it short). */
  get midResponse(): boolean {
    return this.state !== State.Head || this.pending !== null;
  }

  /**
   * Feeds `chunk[0, end)` (the client's reused read buffer is not cut to a view first); throws
   * Http1ParseError on anything that is not a response.
   */
  push(chunk: Buffer, end = chunk.length): void {
    let i = 0;
    while (i < end && !this.halted) {
      switch (this.state) {
        case State.Head:
          i = this.head(chunk, i, end);
          break;
        case State.Length: {
          const n = Math.min(this.remaining, end - i);
          this.sink.onBody(chunk, i, i + n);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finish();
          break;
        }
        case State.UntilClose:
          this.sink.onBody(chunk, i, end);
          i = end;
          break;
        case State.ChunkData: {
          const n = Math.min(this.remaining, end - i);
          this.sink.onBody(chunk, i, i + n);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.lineBytes = 0;
          }
          break;
        }
        default:
          i = this.chunkedFraming(chunk, i, end);
      }
    }
  }

  /** Stops reading (the connection is closing): push() returns, now and from then on. */
  halt(): void {
    this.halted = true;
  }

  /**
   * The connection closed (EOF). A response read until close ends here (keepAlive false); between
   * responses nothing happens; otherwise the response was cut short: Http1ParseError says where.
   */
  close(): void {
    if (this.state === State.UntilClose) {
      this.state = State.Head;
      this.sink.onResponseEnd(false);
      return;
    }
    if (!this.midResponse || this.halted) return;
    const where =
      this.state === State.Head
        ? 'in the response head'
        : this.state === State.Length
          ? `with ${this.remaining} body bytes still to come`
          : 'in a chunked body';
    throw new Http1ParseError(`the connection closed ${where}`);
  }

  /** Reads the head once all of it is here; returns the index after what it consumed. */
  private head(chunk: Buffer, start: number, chunkEnd: number): number {
    const pending = this.pending;
    const buf = pending === null ? chunk : Buffer.concat([pending, chunk.subarray(start, chunkEnd)]);
    const from = pending === null ? start : 0;
    const end = pending === null ? chunkEnd : buf.length;
    // Garbage is refused at once rather than after MAX_HEAD_BYTES of it.
    const seen = Math.min(end - from, PREFIX.length);
    for (let k = 0; k < seen; k++) {
      if (buf[from + k] !== PREFIX.charCodeAt(k))
        throw new Http1ParseError(
          `not an HTTP/1.x response: ${JSON.stringify(buf.toString('latin1', from, from + 16))}`,
        );
    }
    const headEnd = findHeadEnd(buf, from, end);
    if (headEnd < 0) {
      if (end - from > MAX_HEAD_BYTES)
        throw new Http1ParseError(`the response head is longer than ${MAX_HEAD_BYTES} bytes`);
      // A copy: the caller's chunk may be its reused read buffer.
      this.pending = pending === null ? Buffer.from(chunk.subarray(start, chunkEnd)) : buf;
      return chunkEnd;
    }
    if (headEnd - from > MAX_HEAD_BYTES)
      throw new Http1ParseError(`the response head is longer than ${MAX_HEAD_BYTES} bytes`);
    this.pending = null;
    this.parseHead(buf.toString('latin1', from, headEnd));
    // Index into `chunk` just past the head (the pending bytes came before `start`).
    return pending === null ? headEnd : start + (headEnd - pending.length);
  }

  private parseHead(text: string): void {
    let eol = text.indexOf('\n');
    const statusLine = trimCr(text.slice(0, eol));
    const m = STATUS_LINE.exec(statusLine);
    if (m === null) throw new Http1ParseError(`bad status line ${JSON.stringify(statusLine.slice(0, 80))}`);
    const minor = m[1] as string;
    const status = Number(m[2]);
    if (status < 100) throw new Http1ParseError(`bad status ${status}`);
    // 1xx (RFC 9110 §15.2): interim, its headers say nothing about the final response. 101 would
    // switch protocols, which a replayed request never asks for.
    if (status < 200) {
      if (status === 101) throw new Http1ParseError('101 Switching Protocols in answer to a plain request');
      return;
    }
    const noBody = this.sink.onResponseStart(status) || status === 204 || status === 304;
    let length = -1;
    let chunked = false;
    let transferEncoding = false;
    let connClose = false;
    let connKeepAlive = false;
    let pos = eol + 1;
    while (pos < text.length) {
      eol = text.indexOf('\n', pos);
      if (eol < 0) eol = text.length;
      const line = trimCr(text.slice(pos, eol));
      pos = eol + 1;
      if (line === '') break;
      const colon = line.indexOf(':');
      const c0 = line.charCodeAt(0);
      if (colon <= 0 || c0 === 0x20 || c0 === 0x09)
        throw new Http1ParseError(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon);
      if (!TOKEN.test(name)) throw new Http1ParseError(`bad header name ${JSON.stringify(name.slice(0, 80))}`);
      const lower = name.toLowerCase();
      const value = line.slice(colon + 1).trim();
      switch (lower) {
        case 'content-length': {
          if (!/^\d{1,15}$/.test(value)) throw new Http1ParseError(`bad Content-Length ${JSON.stringify(value)}`);
          const n = Number(value);
          if (length >= 0 && n !== length) throw new Http1ParseError('two different Content-Length headers');
          length = n;
          break;
        }
        case 'transfer-encoding':
          transferEncoding = true;
          // §6.1: chunked is the final coding when the body is chunked at all.
          chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
          break;
        case 'connection':
          if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) connClose = true;
          else if (/(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(value)) connKeepAlive = true;
          break;
      }
      this.sink.onHeader(lower, value);
    }
    this.sink.onHeadersComplete();
    // HTTP/1.0 closes unless it says keep-alive (RFC 9112 §9.3).
    this.keepAlive = !connClose && (minor === '1' || connKeepAlive);
    if (noBody) return this.finish();
    if (transferEncoding) {
      // §6.3: Transfer-Encoding wins over Content-Length, and such a message may be an attack on
      // the framing: the connection is not reused after it. Not chunked: read until close.
      if (length >= 0) this.keepAlive = false;
      if (chunked) {
        this.state = State.ChunkSize;
        this.remaining = 0;
        this.chunkDigits = 0;
        this.lineBytes = 0;
        return;
      }
      this.keepAlive = false;
      this.state = State.UntilClose;
      return;
    }
    if (length === 0) return this.finish();
    if (length > 0) {
      this.remaining = length;
      this.state = State.Length;
      return;
    }
    this.keepAlive = false;
    this.state = State.UntilClose;
  }

  /** Chunk sizes, extensions, the CRLF after each chunk's data, trailers: byte by byte. */
  private chunkedFraming(chunk: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end) {
      const b = chunk[i] as number;
      switch (this.state) {
        case State.ChunkSize: {
          const d = hexValue(b);
          if (d >= 0) {
            if (++this.chunkDigits > MAX_CHUNK_SIZE_DIGITS) throw new Http1ParseError('chunk size too large');
            this.remaining = this.remaining * 16 + d;
          } else if (this.chunkDigits === 0) {
            throw new Http1ParseError(`bad chunk size byte 0x${b.toString(16)}`);
          } else if (b === LF) {
            i++;
            if (this.chunkSizeDone()) return i;
            continue;
          } else if (b === 0x3b || b === 0x20 || b === 0x09 || b === CR) {
            this.state = State.ChunkExt;
            this.lineBytes = this.chunkDigits;
            continue;
          } else throw new Http1ParseError(`bad chunk size byte 0x${b.toString(16)}`);
          break;
        }
        case State.ChunkExt:
          if (b === LF) {
            i++;
            if (this.chunkSizeDone()) return i;
            continue;
          }
          if (++this.lineBytes > MAX_CHUNK_LINE) throw new Http1ParseError('chunk extensions too long');
          break;
        case State.ChunkDataEnd:
          // CRLF after the data (a bare LF is tolerated, as llhttp's lenient mode does not: RFC 9112 §2.2 allows it).
          if (b === CR && this.lineBytes === 0) this.lineBytes = 1;
          else if (b === LF) {
            this.state = State.ChunkSize;
            this.remaining = 0;
            this.chunkDigits = 0;
            this.lineBytes = 0;
          } else throw new Http1ParseError('no CRLF after the chunk data');
          break;
        case State.Trailers:
          if (b === LF) {
            if (this.lineBytes === 0) {
              i++;
              this.finish();
              return i;
            }
            this.lineBytes = 0;
          } else if (b !== CR || this.lineBytes > 0) {
            this.lineBytes++;
          }
          if (++this.trailerBytes > MAX_HEAD_BYTES)
            throw new Http1ParseError(`the trailers are longer than ${MAX_HEAD_BYTES} bytes`);
          break;
        default:
          return i;
      }
      i++;
    }
    return i;
  }

  /** The size line ended: true when chunk data follows (push() reads it), false for the last chunk. */
  private chunkSizeDone(): boolean {
    if (this.remaining > 0) {
      this.state = State.ChunkData;
      return true;
    }
    // The last chunk: trailer fields (not kept: no recorded response has them), then an empty line.
    this.state = State.Trailers;
    this.lineBytes = 0;
    this.trailerBytes = 0;
    return false;
  }

  private finish(): void {
    this.state = State.Head;
    this.sink.onResponseEnd(this.keepAlive);
  }
}

/** Index just past the empty line that ends the head (LF LF or LF CR LF), or -1. */
function findHeadEnd(buf: Buffer, from: number, end: number): number {
  let i = buf.indexOf(LF, from);
  while (i >= 0 && i < end) {
    if (i + 1 >= end) return -1;
    const next = buf[i + 1];
    if (next === LF) return i + 2;
    if (next === CR) {
      if (i + 2 >= end) return -1;
      if (buf[i + 2] === LF) return i + 3;
    }
    i = buf.indexOf(LF, i + 1);
  }
  return -1;
}

function trimCr(line: string): string {
  return line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * Splits a byte stream into text lines with a bound on line length. readline keeps a whole line
 * in memory whatever its length, so one 600 MiB line (a damaged trace, a binary file) ends in a
 * RangeError and a gigabyte of memory; here a line longer than `maxBytes` is counted and skipped
 * as its bytes arrive, never gathered. Lines end at '\n'; a '\r' before it is dropped (CRLF).
 *
 * Fed Buffers by its caller (no streams in here). A line that lies within one chunk is decoded
 * straight from it; only a line spanning chunks is copied, once, when its end arrives.
 */

/** A line's text, or TOO_LONG for a line over the bound (skipped unread). */
export type Line = string | typeof TOO_LONG;
export const TOO_LONG = null;

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  /** Views into earlier chunks holding the start of the current line. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** The current line went over the bound: its bytes are dropped until its end. */
  private skipping = false;

  /** `maxBytes`: the longest line kept, in bytes before its '\n'. May be changed between pushes. */
  constructor(public maxBytes: number) {}

  /** The line in progress is already over the bound (its end has not come yet). */
  get overBound(): boolean {
    return this.skipping;
  }

  /** Appends to `out` every line that `chunk` completes. */
  push(chunk: Buffer, out: Line[]): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl < 0) break;
      out.push(this.complete(chunk, start, nl));
      start = nl + 1;
    }
    if (start < chunk.length && !this.skipping) {
      const rest = chunk.length - start;
      if (this.partBytes + rest > this.maxBytes) this.skip();
      else {
        this.parts.push(start === 0 ? chunk : chunk.subarray(start));
        this.partBytes += rest;
      }
    }
  }

  /** The input ended: the last line, if it had no line end. */
  end(out: Line[]): void {
    if (this.skipping) out.push(TOO_LONG);
    else if (this.partBytes > 0) out.push(this.complete(Buffer.alloc(0), 0, 0));
    this.parts = [];
    this.partBytes = 0;
    this.skipping = false;
  }

  /** The line that ends at `chunk[end]` (exclusive), starting with the parts held. */
  private complete(chunk: Buffer, start: number, end: number): Line {
    if (this.skipping) {
      this.skipping = false;
      return TOO_LONG;
    }
    if (this.partBytes === 0) return this.decode(chunk, start, end);
    const total = this.partBytes + (end - start);
    const parts = this.parts;
    this.parts = [];
    this.partBytes = 0;
    if (total > this.maxBytes) return TOO_LONG;
    parts.push(chunk.subarray(start, end));
    const whole = Buffer.concat(parts, total);
    return this.decode(whole, 0, whole.length);
  }

  private decode(buf: Buffer, start: number, end: number): Line {
    if (end - start > this.maxBytes) return TOO_LONG;
    return buf.toString('utf8', start, end > start && buf[end - 1] === CR ? end - 1 : end);
  }

  private skip(): void {
    this.skipping = true;
    this.parts = [];
    this.partBytes = 0;
  }
}

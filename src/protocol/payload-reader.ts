/**
 * A cursor over one packet payload, reading the §2 data types. Used by the message decoders only.
 *
 * Speed: strings are not made one binding call each (≈100 ns apiece on a 2-core VM). The whole
 * payload is turned into one latin1 string on the first string read and each field is a
 * `substring` of it (≈20 ns), which V8 shares rather than copies. 25 fields of a Forward
 * Request took 3.1 µs one by one against 0.6 µs this way, measured on the 2-core VM.
 */
import { NULL_STRING_LENGTH } from './constants.js';
import { PayloadError } from './errors.js';

export class PayloadReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  end = 0;
  /** Tolerate a missing string NUL at the very end of the payload (§9, lenient sniffing). */
  lenient = true;
  private text: string | undefined;

  reset(payload: Buffer, lenient: boolean): this {
    this.buf = payload;
    this.pos = 0;
    this.end = payload.length;
    this.lenient = lenient;
    this.text = undefined;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(field: string): number {
    if (this.pos >= this.end) throw this.truncated(field, 1);
    return this.buf[this.pos++] as number;
  }

  u16(field: string): number {
    if (this.pos + 2 > this.end) throw this.truncated(field, 2);
    const b = this.buf;
    const v = ((b[this.pos] as number) << 8) | (b[this.pos + 1] as number);
    this.pos += 2;
    return v;
  }

  /** Next uint16 without consuming it, or -1 at the end of the payload. */
  peekU16(): number {
    if (this.pos + 2 > this.end) return -1;
    return ((this.buf[this.pos] as number) << 8) | (this.buf[this.pos + 1] as number);
  }

  /** §2 string: u16 length L (0xFFFF = null), L bytes, one NUL that is skipped without checking. */
  str(field: string): string | null {
    const len = this.u16(field);
    if (len === NULL_STRING_LENGTH) return null;
    const start = this.pos;
    const stop = start + len;
    if (stop > this.end) throw this.truncated(field, len);
    if (stop < this.end) this.pos = stop + 1;
    else if (this.lenient) this.pos = stop;
    else throw new PayloadError('AJP_ERR_TRUNCATED', `${field}: the NUL after the string is missing`, stop);
    if (len === 0) return '';
    this.text ??= this.buf.toString('latin1', 0, this.end);
    return this.text.substring(start, stop);
  }

  /** A view of the next n bytes (no copy). */
  bytes(n: number, field: string): Buffer {
    if (this.pos + n > this.end) throw this.truncated(field, n);
    const view = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  private truncated(field: string, want: number): PayloadError {
    return new PayloadError(
      'AJP_ERR_TRUNCATED',
      `${field}: needs ${want} byte(s) at payload offset ${this.pos}, only ${this.end - this.pos} left`,
      this.pos,
    );
  }
}

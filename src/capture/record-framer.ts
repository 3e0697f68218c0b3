/**
 * Splits a byte stream fed in chunks into length-prefixed records (pcapng blocks), the way
 * pg-protocol's parser does: a record that lies inside one chunk is handed over as a view into
 * that chunk; only a record that spans chunks is copied, once, into a buffer of its exact size.
 * Nothing is ever written into a buffer after a record from it was handed over.
 */

export interface RecordFormat {
  /** Bytes needed before `recordLength` can be called (every record is at least this long). */
  readonly headerBytes: number;
  /**
   * Total length of the record starting at `offset` (at least `headerBytes` are readable there).
   * Throws when the length is impossible, so nothing is buffered for a corrupt length. Must not
   * change state: it may be called more than once for the same record.
   */
  recordLength(buf: Buffer, offset: number, streamOffset: number): number;
  /** One whole record: `buf[offset, offset + length)`, which starts at `streamOffset` in the input. */
  record(buf: Buffer, offset: number, length: number, streamOffset: number): void;
}

export class RecordFramer {
  /** Bytes of a record that spans chunks, gathered so far (its exact size once the length is known). */
  private carry: Buffer | undefined;
  private carryFill = 0;
  /** The spanning record's total length, or -1 while its header is still incomplete. */
  private carryLength = -1;
  /** Input offset of the next byte to be framed (the carry's start while one is held). */
  private position = 0;

  constructor(private readonly format: RecordFormat) {}

  /** Frames every whole record now available; keeps the tail of a record that goes on in the next chunk. */
  push(chunk: Buffer): void {
    let off = 0;
    if (this.carry !== undefined) {
      off = this.fillCarry(chunk);
      if (this.carry !== undefined) return; // still incomplete: the whole chunk went into it
    }
    const fmt = this.format;
    const end = chunk.length;
    const h = fmt.headerBytes;
    while (end - off >= h) {
      const len = fmt.recordLength(chunk, off, this.position);
      if (end - off < len) break;
      fmt.record(chunk, off, len, this.position);
      off += len;
      this.position += len;
    }
    if (off < end) this.startCarry(chunk.subarray(off));
  }

  /** Bytes of an incomplete record held at the end of the input (0 when it ended on a boundary). */
  get pendingBytes(): number {
    return this.carry === undefined ? 0 : this.carryFill;
  }

  /** Input offset where the pending (incomplete) record starts, or of the end when none is. */
  get offset(): number {
    return this.position;
  }

  private startCarry(rest: Buffer): void {
    const h = this.format.headerBytes;
    if (rest.length >= h) {
      this.carryLength = this.format.recordLength(rest, 0, this.position);
      this.carry = Buffer.allocUnsafe(this.carryLength);
    } else {
      this.carryLength = -1;
      this.carry = Buffer.allocUnsafe(h);
    }
    rest.copy(this.carry);
    this.carryFill = rest.length;
  }

  /** Moves bytes from `chunk` into the carry; returns how many it took. Emits the record when complete. */
  private fillCarry(chunk: Buffer): number {
    let carry = this.carry as Buffer;
    let used = 0;
    if (this.carryLength < 0) {
      const h = this.format.headerBytes;
      used = Math.min(h - this.carryFill, chunk.length);
      chunk.copy(carry, this.carryFill, 0, used);
      this.carryFill += used;
      if (this.carryFill < h) return used;
      this.carryLength = this.format.recordLength(carry, 0, this.position);
      const full = Buffer.allocUnsafe(this.carryLength);
      carry.copy(full, 0, 0, h);
      this.carry = carry = full;
    }
    const take = Math.min(this.carryLength - this.carryFill, chunk.length - used);
    chunk.copy(carry, this.carryFill, used, used + take);
    this.carryFill += take;
    used += take;
    if (this.carryFill === this.carryLength) {
      this.carry = undefined;
      this.format.record(carry, 0, this.carryLength, this.position);
      this.position += this.carryLength;
      this.carryFill = 0;
    }
    return used;
  }
}

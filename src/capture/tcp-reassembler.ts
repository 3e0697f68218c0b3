/**
 * Rebuilds one direction of a TCP connection from captured segments: releases bytes in sequence
 * order, drops what was already released (retransmissions, overlaps), holds segments that
 * arrived early until the gap before them is filled. Sequence numbers wrap at 2^32.
 *
 * Capture files (pcap import) and the end-to-end tests use it; a live tap does not need it
 * because the kernel already delivers the stream in order.
 */

export interface ReassemblerOptions {
  /** Bytes held out of order before the reassembler gives up on the gap and skips it. */
  maxPending?: number;
}

export interface GapReport {
  /** Sequence number where the missing bytes begin. */
  seq: number;
  /** How many bytes were never seen. */
  bytes: number;
}

/** What comes out, in stream order: bytes, or a count of bytes that will never come (a gap). */
export type Reassembled = Buffer | { gap: number };

interface Held {
  seq: number;
  /** null: known to be missing (the snaplen cut them off), `length` bytes long. */
  data: Buffer | null;
  length: number;
}

const MOD = 2 ** 32;

/** a − b in sequence space, as a signed distance (RFC 1982 style). */
function seqDiff(a: number, b: number): number {
  const d = (a - b + MOD) % MOD;
  return d >= MOD / 2 ? d - MOD : d;
}

export class TcpReassembler {
  private next: number | undefined;
  private finSeq: number | undefined;
  private pending: Held[] = [];
  private pendingBytes = 0;
  private readonly maxPending: number;
  /** Gaps skipped because the pending limit was reached, for the caller to report. */
  readonly gaps: GapReport[] = [];

  constructor(opts: ReassemblerOptions = {}) {
    this.maxPending = opts.maxPending ?? 4 * 1024 * 1024;
  }

  /** Sets the first expected sequence number (the SYN's seq + 1); otherwise the first segment sets it. */
  start(nextSeq: number): void {
    this.next ??= nextSeq >>> 0;
  }

  /** Adds a segment; returns what is now in order (possibly nothing), oldest first. */
  push(seq: number, data: Buffer): Reassembled[] {
    return this.add({ seq: seq >>> 0, data, length: data.length });
  }

  /** `length` bytes at `seq` were on the wire but not captured (snaplen): they come out as a gap. */
  pushMissing(seq: number, length: number): Reassembled[] {
    return this.add({ seq: seq >>> 0, data: null, length });
  }

  private add(held: Held): Reassembled[] {
    if (held.length === 0) return [];
    this.next ??= held.seq;
    const out: Reassembled[] = [];
    if (this.accept(held, out)) this.drain(out);
    if (this.pendingBytes > this.maxPending) this.skipGap(out);
    return out;
  }

  /** Bytes held waiting for a gap to fill. */
  get heldBytes(): number {
    return this.pendingBytes;
  }

  /** Releases what is in order; holds what is early. Returns whether anything was released. */
  private accept(held: Held, out: Reassembled[]): boolean {
    const next = this.next as number;
    const offset = seqDiff(next, held.seq);
    if (offset >= held.length) return false; // all of it was released already
    if (offset >= 0) {
      const fresh = held.length - offset;
      if (held.data === null) out.push({ gap: fresh });
      else out.push(offset === 0 ? held.data : held.data.subarray(offset));
      this.next = (next + fresh) % MOD;
      return true;
    }
    // Early: hold it, sorted by sequence number.
    let i = this.pending.length;
    while (i > 0 && seqDiff((this.pending[i - 1] as Held).seq, held.seq) > 0) i--;
    this.pending.splice(i, 0, held);
    this.pendingBytes += held.length;
    return false;
  }

  private drain(out: Reassembled[]): void {
    while (this.pending.length > 0) {
      const first = this.pending[0] as Held;
      if (seqDiff(first.seq, this.next as number) > 0) return;
      this.pending.shift();
      this.pendingBytes -= first.length;
      this.accept(first, out);
    }
  }

  /** Too much held behind a hole that never filled: give the hole up as a gap and go on. */
  private skipGap(out: Reassembled[]): void {
    const first = this.pending[0];
    if (first === undefined) return;
    const bytes = seqDiff(first.seq, this.next as number);
    this.gaps.push({ seq: this.next as number, bytes });
    out.push({ gap: bytes });
    this.next = first.seq;
    this.drain(out);
  }

  /**
   * The peer acknowledged everything before `ack`: it was delivered, so whatever of it the capture
   * lacks will never come. It comes out now as a gap (Wireshark's "ACKed unseen segment"), instead
   * of holding the bytes after the hole until the end of the capture.
   */
  acknowledged(ack: number): Reassembled[] {
    const out: Reassembled[] = [];
    if (this.next === undefined) return out;
    ack >>>= 0;
    // A FIN takes one sequence number of its own, and its acknowledgement counts it: no data there.
    if (this.finSeq !== undefined && seqDiff(ack, this.finSeq) > 0) ack = this.finSeq;
    while (seqDiff(ack, this.next) > 0) {
      const first = this.pending[0];
      const until = first !== undefined && seqDiff(first.seq, ack) < 0 ? first.seq : ack;
      const bytes = seqDiff(until, this.next);
      if (bytes > 0) {
        this.gaps.push({ seq: this.next, bytes });
        out.push({ gap: bytes });
        this.next = until;
      }
      this.drain(out);
      if (first === undefined || (bytes <= 0 && this.pending[0] === first)) break;
    }
    return out;
  }

  /** A FIN was seen: the stream's data ends at `seq` (the FIN segment's seq plus its payload length). */
  finished(seq: number): void {
    this.finSeq = seq >>> 0;
  }

  /** The end of the stream: bytes still held behind a hole come out after a gap for the hole. */
  flush(): Reassembled[] {
    const out: Reassembled[] = [];
    while (this.pending.length > 0) this.skipGap(out);
    return out;
  }
}

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

const MOD = 2 ** 32;

/** a − b in sequence space, as a signed distance (RFC 1982 style). */
function seqDiff(a: number, b: number): number {
  const d = (a - b + MOD) % MOD;
  return d >= MOD / 2 ? d - MOD : d;
}

export class TcpReassembler {
  private next: number | undefined;
  private pending: { seq: number; data: Buffer }[] = [];
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

  /** Adds a segment; returns the bytes that are now in order (possibly none), oldest first. */
  push(seq: number, data: Buffer): Buffer[] {
    if (data.length === 0) return [];
    seq >>>= 0;
    this.next ??= seq;
    const out: Buffer[] = [];
    this.accept(seq, data, out);
    if (out.length > 0) this.drain(out);
    if (this.pendingBytes > this.maxPending) this.skipGap(out);
    return out;
  }

  /** Bytes held waiting for a gap to fill. */
  get heldBytes(): number {
    return this.pendingBytes;
  }

  private accept(seq: number, data: Buffer, out: Buffer[]): void {
    const next = this.next as number;
    const offset = seqDiff(next, seq);
    if (offset >= data.length) return; // all of it was released already
    if (offset >= 0) {
      const fresh = offset === 0 ? data : data.subarray(offset);
      out.push(fresh);
      this.next = (next + fresh.length) % MOD;
      return;
    }
    // Early: hold it, sorted by sequence number.
    let i = this.pending.length;
    while (i > 0 && seqDiff((this.pending[i - 1] as { seq: number }).seq, seq) > 0) i--;
    this.pending.splice(i, 0, { seq, data });
    this.pendingBytes += data.length;
  }

  private drain(out: Buffer[]): void {
    while (this.pending.length > 0) {
      const first = this.pending[0] as { seq: number; data: Buffer };
      if (seqDiff(first.seq, this.next as number) > 0) return;
      this.pending.shift();
      this.pendingBytes -= first.data.length;
      this.accept(first.seq, first.data, out);
    }
  }

  private skipGap(out: Buffer[]): void {
    const first = this.pending[0];
    if (first === undefined) return;
    this.gaps.push({ seq: this.next as number, bytes: seqDiff(first.seq, this.next as number) });
    this.next = first.seq;
    this.drain(out);
  }
}

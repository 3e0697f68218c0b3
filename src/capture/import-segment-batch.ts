/**
 * The TCP segments a threaded import hands one worker for one chunk read, packed into one buffer
 * (transferred, not cloned: one postMessage per worker per chunk, never one per packet). Each
 * record: a fixed 40-byte head, the two addresses as text, then the captured payload.
 */
import type { Direction } from '../protocol/index.js';
import type { TcpSegment } from './capture-types.js';

const HEAD = 40;
const FLAG_SYN = 1;
const FLAG_ACK = 2;
const FLAG_FIN = 4;
const FLAG_RST = 8;
const FLAG_PSH = 16;

/** A batch's bytes: the first `length` of `bytes`. */
export interface SegmentBatch {
  bytes: ArrayBuffer;
  length: number;
}

/** A buffer on an ArrayBuffer of its own (never Node's shared pool), so that it can be transferred. */
function ownBuffer(size: number): Buffer {
  return Buffer.from(new ArrayBuffer(size));
}

/** Appends segments; `take()` hands over the bytes written and starts afresh. */
export class SegmentBatchWriter {
  private buf: Buffer;
  private used = 0;
  /** Segments written since the last take(). */
  count = 0;

  constructor(private readonly initialBytes = 64 * 1024) {
    this.buf = ownBuffer(initialBytes);
  }

  /** `packet`: the global index of the packet the segment came in (events are ordered by it). */
  add(seg: TcpSegment, direction: Direction, packet: number): void {
    const srcLen = seg.src.length;
    const dstLen = seg.dst.length;
    const size = HEAD + srcLen + dstLen + seg.payload.length;
    if (this.used + size > this.buf.length) this.grow(size);
    const b = this.buf;
    let o = this.used;
    b.writeDoubleLE(seg.timestampUs, o);
    b.writeDoubleLE(packet, o + 8);
    b.writeUInt32LE(seg.seq >>> 0, o + 16);
    b.writeUInt32LE(seg.ack >>> 0, o + 20);
    b.writeUInt32LE(seg.missingBytes, o + 24);
    b.writeUInt32LE(seg.payload.length, o + 28);
    b.writeUInt16LE(seg.srcPort, o + 32);
    b.writeUInt16LE(seg.dstPort, o + 34);
    const f = seg.flags;
    b[o + 36] =
      (f.syn ? FLAG_SYN : 0) |
      (f.ack ? FLAG_ACK : 0) |
      (f.fin ? FLAG_FIN : 0) |
      (f.rst ? FLAG_RST : 0) |
      (f.psh ? FLAG_PSH : 0);
    b[o + 37] = (direction === 'to-container' ? 0 : 1) | (seg.ipVersion === 6 ? 2 : 0);
    b[o + 38] = srcLen;
    b[o + 39] = dstLen;
    o += HEAD;
    o += b.write(seg.src, o, srcLen, 'latin1');
    o += b.write(seg.dst, o, dstLen, 'latin1');
    o += seg.payload.copy(b, o);
    this.used = o;
    this.count++;
  }

  /**
   * The batch written, or undefined when it is empty: its buffer is handed over whole (to be
   * transferred, not copied) with the length used, and the next batch gets a new one.
   */
  take(): SegmentBatch | undefined {
    if (this.count === 0) return undefined;
    const out = { bytes: this.buf.buffer as ArrayBuffer, length: this.used };
    // Sized for a batch like this one: few batches grow.
    this.buf = ownBuffer(Math.max(this.initialBytes, Math.ceil(this.used * 1.25)));
    this.used = 0;
    this.count = 0;
    return out;
  }

  private grow(size: number): void {
    const next = ownBuffer(Math.max(this.buf.length * 2, this.used + size, this.initialBytes));
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }
}

/**
 * Calls `each` for every segment of a batch, in order. Payloads are views into the batch (the
 * reassembler may keep them, as it keeps views into capture chunks on a single thread).
 */
export function readSegmentBatch(
  batch: SegmentBatch,
  each: (seg: TcpSegment, direction: Direction, packet: number) => void,
): void {
  const b = Buffer.from(batch.bytes, 0, batch.length);
  let o = 0;
  // Addresses repeat from segment to segment: the previous string is reused when the bytes match.
  let lastSrc = '';
  let lastDst = '';
  while (o < b.length) {
    const timestampUs = b.readDoubleLE(o);
    const packet = b.readDoubleLE(o + 8);
    const payloadLen = b.readUInt32LE(o + 28);
    const f = b[o + 36] as number;
    const d = b[o + 37] as number;
    const srcLen = b[o + 38] as number;
    const dstLen = b[o + 39] as number;
    let p = o + HEAD;
    const src = sameText(b, p, srcLen, lastSrc) ? lastSrc : (lastSrc = b.toString('latin1', p, p + srcLen));
    p += srcLen;
    const dst = sameText(b, p, dstLen, lastDst) ? lastDst : (lastDst = b.toString('latin1', p, p + dstLen));
    p += dstLen;
    const seg: TcpSegment = {
      timestampUs,
      ipVersion: (d & 2) !== 0 ? 6 : 4,
      src,
      srcPort: b.readUInt16LE(o + 32),
      dst,
      dstPort: b.readUInt16LE(o + 34),
      seq: b.readUInt32LE(o + 16),
      ack: b.readUInt32LE(o + 20),
      flags: {
        syn: (f & FLAG_SYN) !== 0,
        ack: (f & FLAG_ACK) !== 0,
        fin: (f & FLAG_FIN) !== 0,
        rst: (f & FLAG_RST) !== 0,
        psh: (f & FLAG_PSH) !== 0,
      },
      payload: b.subarray(p, p + payloadLen),
      missingBytes: b.readUInt32LE(o + 24),
    };
    o = p + payloadLen;
    each(seg, (d & 1) === 0 ? 'to-container' : 'to-web-server', packet);
  }
}

function sameText(b: Buffer, at: number, len: number, text: string): boolean {
  if (text.length !== len) return false;
  for (let i = 0; i < len; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

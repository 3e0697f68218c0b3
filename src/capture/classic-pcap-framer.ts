/**
 * Classic libpcap files read by our own record framer instead of pcap-parser: the same records,
 * but views into the read chunks instead of a copy of every chunk, and no per-packet events.
 * capture-reader uses it when asked to (`classicPcap: 'builtin'`); the default stays pcap-parser
 * as the product brief requires — see classic-pcap-reader.ts for what each costs.
 */
import {
  CaptureFormatError,
  MAX_RECORD_BYTES,
  type CapturedPacket,
  type CaptureIssue,
  type PacketSource,
} from './capture-types.js';
import { RecordFramer, type RecordFormat } from './record-framer.js';

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

export class ClassicPcapFramer implements PacketSource, RecordFormat {
  readonly headerBytes = RECORD_HEADER;
  private readonly framer = new RecordFramer(this);
  private header: Buffer | undefined = Buffer.allocUnsafe(GLOBAL_HEADER);
  private headerFill = 0;
  private le = true;
  private linkType = 0;
  /** 1 for µs files, 1000 for ns files: the fraction field's units per microsecond. */
  private fractionPerUs = 1;
  private packets = 0;
  private out: CapturedPacket[] = [];

  constructor(private readonly onIssue: (issue: CaptureIssue) => void) {}

  push(chunk: Buffer, out: CapturedPacket[]): void {
    this.out = out;
    if (this.header !== undefined) {
      const take = Math.min(GLOBAL_HEADER - this.headerFill, chunk.length);
      chunk.copy(this.header, this.headerFill, 0, take);
      this.headerFill += take;
      if (this.headerFill < GLOBAL_HEADER) return;
      this.globalHeader(this.header);
      this.header = undefined;
      chunk = chunk.subarray(take);
    }
    this.framer.push(chunk);
  }

  end(): void {
    if (this.header !== undefined) {
      throw new CaptureFormatError(
        'CAPTURE_ERR_TRUNCATED',
        `pcap: the input ends inside the ${GLOBAL_HEADER}-byte file header (${this.headerFill} bytes)`,
        0,
      );
    }
    const left = this.framer.pendingBytes;
    if (left > 0) {
      const at = GLOBAL_HEADER + this.framer.offset;
      this.onIssue({
        code: 'CAPTURE_ERR_TRUNCATED',
        message: `pcap: the input ends inside packet ${this.packets + 1} (${left} bytes of it at offset ${at}); every packet before it was read`,
        packet: this.packets + 1,
        offset: at,
      });
    }
  }

  recordLength(buf: Buffer, off: number, at: number): number {
    const capLen = this.le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
    if (capLen > MAX_RECORD_BYTES) {
      throw new CaptureFormatError(
        'CAPTURE_ERR_BAD_RECORD',
        `pcap: packet ${this.packets + 1} claims ${capLen} captured bytes (corrupt file?)`,
        GLOBAL_HEADER + at,
      );
    }
    return RECORD_HEADER + capLen;
  }

  record(buf: Buffer, off: number, len: number): void {
    this.packets++;
    const le = this.le;
    const sec = le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    const frac = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
    this.out.push({
      timestampUs: sec * 1e6 + (this.fractionPerUs === 1 ? frac : Math.floor(frac / this.fractionPerUs)),
      linkType: this.linkType,
      data: buf.subarray(off + RECORD_HEADER, off + len),
      originalLength: le ? buf.readUInt32LE(off + 12) : buf.readUInt32BE(off + 12),
      interfaceId: 0,
    });
  }

  private globalHeader(h: Buffer): void {
    const magic = h.readUInt32LE(0);
    this.le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
    this.fractionPerUs = magic === 0xa1b23c4d || magic === 0x4d3cb2a1 ? 1000 : 1;
    const major = this.le ? h.readUInt16LE(4) : h.readUInt16BE(4);
    if (major !== 2) {
      const minor = this.le ? h.readUInt16LE(6) : h.readUInt16BE(6);
      throw new CaptureFormatError(
        'CAPTURE_ERR_VERSION',
        `pcap: file format version ${major}.${minor}, only 2.x is supported`,
        4,
      );
    }
    // The upper bits carry FCS information (draft-ietf-opsawg-pcap §4, LinkType and additional information).
    this.linkType = (this.le ? h.readUInt32LE(20) : h.readUInt32BE(20)) & 0xffff;
  }
}

/**
 * pcapng (draft-ietf-opsawg-pcapng) block reader: sections with their own byte order, several
 * interfaces each with its link type, snaplen, if_tsresol and if_tsoffset; packets from Enhanced
 * (EPB), Simple (SPB) and obsolete Packet Blocks (PB). Every other block type is skipped whole.
 *
 * Written here because no maintained npm package fits: pcap-ng-parser 1.0.0 (one release,
 * EPB only, no if_tsresol) and its fork @cto.af/pcap-ng-parser (WHATWG streams, one await per
 * field, Date timestamps in ms) — see the capture-reader module comment.
 */
import {
  CaptureFormatError,
  MAX_RECORD_BYTES,
  type CapturedPacket,
  type CaptureIssue,
  type PacketSource,
} from './capture-types.js';
import { RecordFramer, type RecordFormat } from './record-framer.js';
import { timestampConverter, type TimestampConverter } from './pcapng-timestamp.js';

/** Block types (§10.1). The SHB type reads the same in both byte orders. */
const enum BlockType {
  SectionHeader = 0x0a0d0d0a,
  InterfaceDescription = 0x00000001,
  Packet = 0x00000002, // obsolete (Appendix A)
  SimplePacket = 0x00000003,
  EnhancedPacket = 0x00000006,
}

const enum OptionCode {
  EndOfOptions = 0,
  IfTsresol = 9,
  IfTsoffset = 14,
}

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
/** Type, total length and (for an SHB) the byte-order magic: enough to know any block's length. */
const BLOCK_HEADER = 12;

interface InterfaceInfo {
  linkType: number;
  /** 0 = no limit. */
  snaplen: number;
  toMicros: TimestampConverter;
}

const DEFAULT_TIMESTAMP = timestampConverter(6, 0);

export class PcapngReader implements PacketSource, RecordFormat {
  readonly headerBytes = BLOCK_HEADER;
  private readonly framer = new RecordFramer(this);
  private le = true;
  private inSection = false;
  private interfaces: InterfaceInfo[] = [];
  private out: CapturedPacket[] = [];
  /** Packet blocks seen so far (skipped ones too), to number packets the way Wireshark does. */
  private packets = 0;
  /** SPBs carry no timestamp: they get the last one seen in the section. */
  private lastTimestampUs = 0;

  constructor(private readonly onIssue: (issue: CaptureIssue) => void) {}

  push(chunk: Buffer, out: CapturedPacket[]): void {
    this.out = out;
    this.framer.push(chunk);
  }

  end(): void {
    const pending = this.framer.pendingBytes;
    if (pending === 0 && this.inSection) return;
    const at = this.framer.offset;
    if (!this.inSection) {
      throw new CaptureFormatError(
        'CAPTURE_ERR_TRUNCATED',
        `pcapng: the input ends inside the first section header block (${pending} bytes)`,
        at,
      );
    }
    this.onIssue({
      code: 'CAPTURE_ERR_TRUNCATED',
      message: `pcapng: the input ends inside a block (${pending} bytes of it at offset ${at}); every block before it was read`,
      packet: this.packets + 1,
      offset: at,
    });
  }

  recordLength(buf: Buffer, off: number, at: number): number {
    let le = this.le;
    if (buf.readUInt32LE(off) === BlockType.SectionHeader) {
      // The SHB announces its own byte order; its length field is already written in it.
      const bom = buf.readUInt32LE(off + 8);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (bom === BYTE_ORDER_MAGIC_SWAPPED) le = false;
      else
        throw new CaptureFormatError(
          'CAPTURE_ERR_BAD_BLOCK',
          `pcapng: section header with bad byte-order magic 0x${bom.toString(16)}`,
          at,
        );
    } else if (!this.inSection) {
      throw new CaptureFormatError(
        'CAPTURE_ERR_BAD_MAGIC',
        'pcapng: the file does not start with a section header block',
        at,
      );
    }
    const len = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
    // §3.1: the total length includes both length fields and is a multiple of 4.
    if (len < BLOCK_HEADER || len % 4 !== 0 || len > MAX_RECORD_BYTES) {
      throw new CaptureFormatError('CAPTURE_ERR_BAD_BLOCK', `pcapng: impossible block total length ${len}`, at);
    }
    return len;
  }

  record(buf: Buffer, off: number, len: number, at: number): void {
    const type = buf.readUInt32LE(off) === BlockType.SectionHeader ? BlockType.SectionHeader : this.u32(buf, off);
    if (type === BlockType.SectionHeader) this.sectionHeader(buf, off, len, at);
    const trailer = this.u32(buf, off + len - 4);
    if (trailer !== len) {
      throw new CaptureFormatError(
        'CAPTURE_ERR_BAD_BLOCK',
        `pcapng: block total length ${len} at the start but ${trailer} at the end`,
        at,
      );
    }
    switch (type) {
      case BlockType.InterfaceDescription:
        this.interfaceDescription(buf, off, len, at);
        break;
      case BlockType.EnhancedPacket:
        this.packetBlock(buf, off, len, at, this.u32(buf, off + 8));
        break;
      case BlockType.Packet:
        // Same layout as the EPB, with a 16-bit interface id followed by a 16-bit drops count.
        this.packetBlock(buf, off, len, at, this.u16(buf, off + 8));
        break;
      case BlockType.SimplePacket:
        this.simplePacket(buf, off, len, at);
        break;
      default:
        break; // NRB, ISB, DSB, custom and unknown blocks: nothing for a packet reader.
    }
  }

  private sectionHeader(buf: Buffer, off: number, len: number, at: number): void {
    if (len < 28)
      throw new CaptureFormatError(
        'CAPTURE_ERR_BAD_BLOCK',
        `pcapng: section header block of ${len} bytes (at least 28)`,
        at,
      );
    this.le = buf.readUInt32LE(off + 8) === BYTE_ORDER_MAGIC;
    const major = this.u16(buf, off + 12);
    if (major !== 1) {
      throw new CaptureFormatError(
        'CAPTURE_ERR_VERSION',
        `pcapng: section version ${major}.${this.u16(buf, off + 14)}, only 1.x is supported`,
        at,
      );
    }
    // Interface ids are per section (§4.1).
    this.interfaces = [];
    this.inSection = true;
  }

  private interfaceDescription(buf: Buffer, off: number, len: number, at: number): void {
    if (len < 20)
      throw new CaptureFormatError(
        'CAPTURE_ERR_BAD_BLOCK',
        `pcapng: interface description block of ${len} bytes (at least 20)`,
        at,
      );
    let tsresol = 6;
    let tsoffset = 0;
    const end = off + len - 4;
    for (let p = off + 16; p + 4 <= end;) {
      const code = this.u16(buf, p);
      const vlen = this.u16(buf, p + 2);
      if (code === OptionCode.EndOfOptions) break;
      const v = p + 4;
      if (v + vlen > end)
        throw new CaptureFormatError(
          'CAPTURE_ERR_BAD_BLOCK',
          `pcapng: option ${code} runs past its interface description block`,
          at,
        );
      if (code === OptionCode.IfTsresol && vlen >= 1) tsresol = buf.readUInt8(v);
      else if (code === OptionCode.IfTsoffset && vlen >= 8)
        tsoffset = Number(this.le ? buf.readBigInt64LE(v) : buf.readBigInt64BE(v));
      p = v + ((vlen + 3) & ~3); // values are padded to 32 bits
    }
    this.interfaces.push({
      linkType: this.u16(buf, off + 8),
      snaplen: this.u32(buf, off + 12),
      toMicros: tsresol === 6 && tsoffset === 0 ? DEFAULT_TIMESTAMP : timestampConverter(tsresol, tsoffset),
    });
  }

  /** EPB and PB: interface id, timestamp (high, low), captured length, original length, data. */
  private packetBlock(buf: Buffer, off: number, len: number, at: number, interfaceId: number): void {
    this.packets++;
    if (len < 32)
      throw new CaptureFormatError('CAPTURE_ERR_BAD_BLOCK', `pcapng: packet block of ${len} bytes (at least 32)`, at);
    const capLen = this.u32(buf, off + 20);
    if (28 + capLen + 4 > len) {
      throw new CaptureFormatError(
        'CAPTURE_ERR_BAD_BLOCK',
        `pcapng: captured length ${capLen} runs past its ${len}-byte block`,
        at,
      );
    }
    const itf = this.interfaces[interfaceId];
    if (itf === undefined) {
      this.unknownInterface(interfaceId, at);
      return;
    }
    const timestampUs = itf.toMicros(this.u32(buf, off + 12), this.u32(buf, off + 16));
    this.lastTimestampUs = timestampUs;
    this.out.push({
      timestampUs,
      linkType: itf.linkType,
      data: buf.subarray(off + 28, off + 28 + capLen),
      originalLength: this.u32(buf, off + 24),
      interfaceId,
    });
  }

  /** SPB (§4.4): interface 0, original length, data; the captured length is implied. */
  private simplePacket(buf: Buffer, off: number, len: number, at: number): void {
    this.packets++;
    if (len < 16)
      throw new CaptureFormatError(
        'CAPTURE_ERR_BAD_BLOCK',
        `pcapng: simple packet block of ${len} bytes (at least 16)`,
        at,
      );
    const itf = this.interfaces[0];
    if (itf === undefined) {
      this.unknownInterface(0, at);
      return;
    }
    const originalLength = this.u32(buf, off + 8);
    // "the minimum of the original length and the snaplen", and never past the block's padding.
    let capLen = Math.min(originalLength, len - 16);
    if (itf.snaplen > 0 && itf.snaplen < capLen) capLen = itf.snaplen;
    this.out.push({
      timestampUs: this.lastTimestampUs,
      linkType: itf.linkType,
      data: buf.subarray(off + 12, off + 12 + capLen),
      originalLength,
      interfaceId: 0,
    });
  }

  private unknownInterface(id: number, at: number): void {
    this.onIssue({
      code: 'CAPTURE_ERR_UNKNOWN_INTERFACE',
      message: `pcapng: packet on interface ${id}, but its section describes ${this.interfaces.length}; packet skipped`,
      packet: this.packets,
      offset: at,
    });
  }

  private u32(buf: Buffer, at: number): number {
    return this.le ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
  }

  private u16(buf: Buffer, at: number): number {
    return this.le ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  }
}

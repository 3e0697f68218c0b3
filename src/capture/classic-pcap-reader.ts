/**
 * Classic libpcap files (microsecond and nanosecond, either byte order), read with the
 * pcap-parser package as the product brief requires — but fed by us, chunk by chunk.
 *
 * Why not `parse(stream)` as its README shows: given a stream, pcap-parser switches it to
 * flowing mode and emits every packet synchronously, never pausing, so an async consumer would
 * have to queue everything read ahead of it (a 2 GB file read faster than it is imported means
 * 2 GB in memory); and at 'end' it silently drops a packet cut short by the end of the file.
 * Fed through a stand-in input, it only parses what we hand it, when the consumer asks for more
 * (capture-reader pulls the next chunk only once every packet of this one was taken), and we
 * count the bytes it consumed (24 + Σ(16 + captured length)) to see a packet cut by the end.
 *
 * Its costs (test/bench/capture-bench.ts): it copies every chunk once into a fresh zero-filled
 * buffer (it concatenates its leftover with each new chunk, even an empty leftover), copies the
 * leftover again for each further chunk while a packet spans several reads (tiny reads of a big
 * packet are quadratic; pipes and files deliver 64 KiB or more), and emits three events and
 * builds method names as strings for every packet: reading runs 2.5-4 times slower than our own
 * framer (classic-pcap-framer.ts, `classicPcap: 'builtin'`), which reads the same files.
 *
 * Nanosecond files: pcap-parser only knows the microsecond magic, but the record layout is the
 * same and it reads the fraction field as is; we give it the header with the µs magic and
 * divide the fraction by 1000 ourselves.
 */
import { EventEmitter } from 'node:events';
import { parse, type PcapGlobalHeader, type PcapPacket, type PcapPacketHeader } from 'pcap-parser';
import {
  CaptureFormatError,
  MAX_RECORD_BYTES,
  type CapturedPacket,
  type CaptureIssue,
  type PacketSource,
} from './capture-types.js';

const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

/** The stream pcap-parser listens to: we emit 'data' ourselves; it cannot pause or resume us. */
class FeedInput extends EventEmitter {
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
}

export class ClassicPcapReader implements PacketSource {
  private readonly input = new FeedInput();
  private fed = 0;
  /** Bytes pcap-parser has turned into the header and whole packets. */
  private consumed = 0;
  private packets = 0;
  private linkType = 0;
  private out: CapturedPacket[] = [];
  /** Set inside pcap-parser's synchronous callbacks, thrown once it returns. */
  private failure: CaptureFormatError | undefined;

  constructor(
    private readonly nanosecond: boolean,
    private readonly onIssue: (issue: CaptureIssue) => void,
  ) {
    const parser = parse(this.input);
    parser.on('globalHeader', (h: PcapGlobalHeader) => this.globalHeader(h));
    parser.on('packetHeader', (h: PcapPacketHeader) => this.packetHeader(h));
    parser.on('packet', (p: PcapPacket) => this.packet(p));
    // Its only other error is an unknown magic, which capture-reader has ruled out.
    parser.on('error', (e: Error) => {
      this.failure ??= new CaptureFormatError('CAPTURE_ERR_VERSION', `pcap: ${e.message}`, 0);
    });
  }

  push(chunk: Buffer, out: CapturedPacket[]): void {
    if (this.failure !== undefined) throw this.failure;
    this.out = out;
    if (this.fed === 0 && this.nanosecond) {
      // capture-reader hands over at least the 4 magic bytes first.
      this.feed(toMicrosecondMagic(chunk.subarray(0, 4)));
      chunk = chunk.subarray(4);
    }
    this.feed(chunk);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the parser threw
    if (this.failure !== undefined) throw this.failure;
  }

  end(): void {
    if (this.fed < GLOBAL_HEADER) {
      throw new CaptureFormatError(
        'CAPTURE_ERR_TRUNCATED',
        `pcap: the input ends inside the ${GLOBAL_HEADER}-byte file header (${this.fed} bytes)`,
        0,
      );
    }
    const left = this.fed - this.consumed;
    if (left > 0) {
      this.onIssue({
        code: 'CAPTURE_ERR_TRUNCATED',
        message: `pcap: the input ends inside packet ${this.packets + 1} (${left} bytes of it at offset ${this.consumed}); every packet before it was read`,
        packet: this.packets + 1,
        offset: this.consumed,
      });
    }
  }

  private feed(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.fed += bytes.length;
    this.input.emit('data', bytes);
  }

  private globalHeader(h: PcapGlobalHeader): void {
    this.consumed = GLOBAL_HEADER;
    // pcap-parser only rejects a version when both major and minor differ from 2.4.
    if (h.majorVersion !== 2) {
      this.failure ??= new CaptureFormatError(
        'CAPTURE_ERR_VERSION',
        `pcap: file format version ${h.majorVersion}.${h.minorVersion}, only 2.x is supported`,
        4,
      );
    }
    // The upper bits carry FCS information (draft-ietf-opsawg-pcap §4, LinkType and additional information).
    this.linkType = h.linkLayerType & 0xffff;
  }

  private packetHeader(h: PcapPacketHeader): void {
    // Checked before pcap-parser starts buffering toward a corrupt length.
    if (h.capturedLength > MAX_RECORD_BYTES) {
      this.failure ??= new CaptureFormatError(
        'CAPTURE_ERR_BAD_RECORD',
        `pcap: packet ${this.packets + 1} claims ${h.capturedLength} captured bytes (corrupt file?)`,
        this.consumed,
      );
    }
  }

  private packet(p: PcapPacket): void {
    const h = p.header;
    this.packets++;
    this.consumed += RECORD_HEADER + h.capturedLength;
    const fraction = this.nanosecond ? Math.floor(h.timestampMicroseconds / 1000) : h.timestampMicroseconds;
    this.out.push({
      timestampUs: h.timestampSeconds * 1e6 + fraction,
      linkType: this.linkType,
      data: p.data,
      originalLength: h.originalLength,
      interfaceId: 0,
    });
  }
}

/** The nanosecond magic a1b23c4d, in the file's byte order, rewritten as the µs magic a1b2c3d4. */
function toMicrosecondMagic(magic: Buffer): Buffer {
  const bigEndian = magic[0] === 0xa1;
  return Buffer.from(bigEndian ? [0xa1, 0xb2, 0xc3, 0xd4] : [0xd4, 0xc3, 0xb2, 0xa1]);
}

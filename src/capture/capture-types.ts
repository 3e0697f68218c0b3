/**
 * What the capture readers produce (packets), what the packet decoder produces (TCP segments),
 * and the catalog of capture file problems. Codes are stable: they reach import reports and docs.
 */

export interface CapturedPacket {
  /** Microseconds since the Unix epoch (nanosecond captures are rounded down). */
  timestampUs: number;
  /** LINKTYPE_* value of the packet's interface. */
  linkType: number;
  /**
   * The captured bytes (a view; may be shorter than originalLength when the snaplen cut the packet).
   * A view into a chunk read from the input, or into a copy when the packet spanned two reads;
   * the reader never writes to either afterwards, so holding on to it is safe.
   */
  data: Buffer;
  originalLength: number;
  /** pcapng interface id within its section (0 for classic pcap). */
  interfaceId?: number;
}

export interface TcpFlags {
  syn: boolean;
  ack: boolean;
  fin: boolean;
  rst: boolean;
  psh: boolean;
}

export interface TcpSegment {
  timestampUs: number;
  ipVersion: 4 | 6;
  /** IPv4 dotted quad, or IPv6 in RFC 5952 compressed form. */
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** Raw 32-bit sequence number. */
  seq: number;
  ack: number;
  flags: TcpFlags;
  /** TCP payload actually captured: a view into the packet's data, no copy. */
  payload: Buffer;
  /** Payload bytes the packet carried on the wire but the snaplen cut off (from IP total length vs captured). */
  missingBytes: number;
}

/**
 * Largest packet record or pcapng block accepted. Capture tools write far less (libpcap's
 * snaplen is at most 256 KiB); a larger length means a corrupt file, and is rejected before
 * anything is buffered for it.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export const CAPTURE_ERROR_CODES = {
  CAPTURE_ERR_EMPTY: 'the input is empty',
  CAPTURE_ERR_BAD_MAGIC: 'not a pcap or pcapng file (unknown magic number)',
  CAPTURE_ERR_VERSION: 'unsupported pcap (2.x) or pcapng (1.x) major version',
  CAPTURE_ERR_TRUNCATED: 'the input ends inside the file header, a packet or a block',
  CAPTURE_ERR_BAD_BLOCK:
    'a pcapng block is inconsistent: length below 12, not a multiple of 4, leading and trailing lengths differ, a field or option runs past the block, or a bad byte-order magic',
  CAPTURE_ERR_BAD_RECORD: 'a classic pcap packet record claims an impossible captured length (corrupt file)',
  CAPTURE_ERR_UNKNOWN_INTERFACE:
    'a pcapng packet names an interface its section did not describe (the packet is skipped)',
  CAPTURE_ERR_GAP:
    'bytes of a connection were not captured (dropped or cut by the snaplen); written as a trace error event',
} as const;

export type CaptureErrorCode = keyof typeof CAPTURE_ERROR_CODES;

/**
 * A capture the reader cannot go on with. Thrown before the first packet (bad magic, empty
 * input, truncated file header) or when the file is corrupt past a point (bad block length);
 * every packet before that point has already been yielded.
 */
export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError';
  constructor(
    readonly code: CaptureErrorCode,
    message: string,
    /** Byte offset in the input where the problem starts, when known. */
    readonly offset?: number,
  ) {
    super(message);
  }
}

/** A non-fatal problem, reported through `onIssue`; reading goes on (or ends cleanly). */
export interface CaptureIssue {
  /** One of CAPTURE_ERROR_CODES. */
  code: string;
  message: string;
  /** 1-based number of the packet concerned, as Wireshark numbers frames. */
  packet?: number;
  /** Byte offset in the input where the problem starts. */
  offset?: number;
}

export interface ReadCaptureOptions {
  onIssue?: (issue: CaptureIssue) => void;
  /**
   * Which reader handles classic pcap: pcap-parser (the default, as the product brief requires)
   * or our own record framer, about 3 times faster (see test/bench/capture-bench.ts).
   */
  classicPcap?: 'pcap-parser' | 'builtin';
}

/** A format reader fed the input chunk by chunk (pcap, pcapng); internal to capture-reader. */
export interface PacketSource {
  /** Appends to `out` every packet this chunk completes. Throws CaptureFormatError on corruption. */
  push(chunk: Buffer, out: CapturedPacket[]): void;
  /**
   * The input ended. Reports a packet cut by the end through onIssue; throws when the input
   * ended before the file header was complete (no packet could have been read).
   */
  end(): void;
}

/**
 * Decodes a captured packet down to its TCP segment: link layer (link-layer.ts), IPv4 with
 * options or IPv6 with extension headers, then the TCP header with its options.
 *
 * Lengths come from the IP header, not from the captured length: short Ethernet frames are
 * padded to 60 bytes, and the padding is not payload. What the snaplen cut off is counted in
 * missingBytes, so the reassembler can tell a hole from the end of the data.
 * Nothing is copied: the payload is a view into the packet's data.
 */
import type { CapturedPacket, TcpSegment } from './capture-types.js';
import { formatIPv4, formatIPv6 } from './ip-address-format.js';
import { locateNetworkHeader } from './link-layer.js';

/** Why a packet gave no TCP segment; callers count these. */
export type SkipReason =
  | 'unsupported-link-type'
  | 'not-ip'
  | 'not-tcp'
  /** An IP fragment (IPv4 MF or offset ≠ 0; IPv6 fragment header other than an atomic one). */
  | 'ip-fragment'
  /** The capture ends before the IP or TCP header does. */
  | 'truncated-header'
  /** A header that contradicts itself (IHL < 5, data offset < 5, lengths that do not fit, version mismatch). */
  | 'malformed-header';

export const SKIP_REASONS: readonly SkipReason[] = [
  'unsupported-link-type',
  'not-ip',
  'not-tcp',
  'ip-fragment',
  'truncated-header',
  'malformed-header',
];

export function isSkipReason(r: TcpSegment | SkipReason): r is SkipReason {
  return typeof r === 'string';
}

const IPPROTO_TCP = 6;

const enum Ipv6Next {
  HopByHop = 0,
  Tcp = 6,
  Routing = 43,
  Fragment = 44,
  AuthenticationHeader = 51,
  DestinationOptions = 60,
  Mobility = 135,
  Hip = 139,
  Shim6 = 140,
  Experimental1 = 253,
  Experimental2 = 254,
}

export function decodeTcpSegment(packet: CapturedPacket): TcpSegment | SkipReason {
  const data = packet.data;
  const net = locateNetworkHeader(packet.linkType, data);
  if (typeof net === 'string') return net;
  const ip = net.offset;
  // The frame's length on the wire; a pcap record may (wrongly) claim less than it captured.
  const frameLength = Math.max(packet.originalLength, data.length);
  let tcp: number; // TCP header offset
  let wireEnd: number; // end of the IP packet on the wire (excludes link padding and trailers)
  let src: string;
  let dst: string;

  if (net.version === 4) {
    if (data.length < ip + 20) return 'truncated-header';
    const vihl = data.readUInt8(ip);
    const ihl = (vihl & 0x0f) * 4;
    if (vihl >> 4 !== 4 || ihl < 20) return 'malformed-header';
    if (data.length < ip + ihl) return 'truncated-header';
    if ((data.readUInt16BE(ip + 6) & 0x3fff) !== 0) return 'ip-fragment'; // MF flag or fragment offset
    if (data.readUInt8(ip + 9) !== IPPROTO_TCP) return 'not-tcp';
    const totalLength = data.readUInt16BE(ip + 2);
    // 0 is what Linux writes for TSO/GSO and BIG TCP packets larger than 64 KiB: trust the frame.
    if (totalLength === 0) wireEnd = frameLength;
    else if (totalLength < ihl) return 'malformed-header';
    else wireEnd = Math.min(ip + totalLength, frameLength);
    tcp = ip + ihl;
    src = formatIPv4(data, ip + 12);
    dst = formatIPv4(data, ip + 16);
  } else {
    if (data.length < ip + 40) return 'truncated-header';
    if (data.readUInt8(ip) >> 4 !== 6) return 'malformed-header';
    const payloadLength = data.readUInt16BE(ip + 4);
    // 0: a jumbogram (RFC 2675) or a BIG TCP packet; the frame length is the only length left.
    wireEnd = payloadLength === 0 ? frameLength : Math.min(ip + 40 + payloadLength, frameLength);
    let next = data.readUInt8(ip + 6);
    let p = ip + 40;
    // Extension headers (RFC 8200 §4) until TCP; each is at least 8 bytes, so this ends.
    while (next !== Ipv6Next.Tcp) {
      if (data.length < p + 8) return p + 8 > wireEnd ? 'malformed-header' : 'truncated-header';
      let len: number;
      switch (next) {
        case Ipv6Next.HopByHop:
        case Ipv6Next.Routing:
        case Ipv6Next.DestinationOptions:
        case Ipv6Next.Mobility:
        case Ipv6Next.Hip:
        case Ipv6Next.Shim6:
        case Ipv6Next.Experimental1:
        case Ipv6Next.Experimental2:
          len = (data.readUInt8(p + 1) + 1) * 8; // in 8-octet units, not counting the first 8
          break;
        case Ipv6Next.Fragment: {
          // Offset (13 bits) and M flag: only an atomic fragment (RFC 6946) holds a whole segment.
          if ((data.readUInt16BE(p + 2) & 0xfff9) !== 0) return 'ip-fragment';
          len = 8;
          break;
        }
        case Ipv6Next.AuthenticationHeader:
          len = (data.readUInt8(p + 1) + 2) * 4; // RFC 4302 §2.2: in 4-octet units, minus 2
          break;
        default:
          return 'not-tcp'; // an upper layer other than TCP, ESP (encrypted), or No Next Header
      }
      next = data.readUInt8(p);
      p += len;
    }
    tcp = p;
    src = formatIPv6(data, ip + 8);
    dst = formatIPv6(data, ip + 24);
  }

  if (tcp + 20 > wireEnd) return 'malformed-header';
  if (data.length < tcp + 20) return 'truncated-header';
  const tcpHeader = (data.readUInt8(tcp + 12) >> 4) * 4; // data offset, in 32-bit words
  if (tcpHeader < 20 || tcp + tcpHeader > wireEnd) return 'malformed-header';
  if (data.length < tcp + tcpHeader) return 'truncated-header';
  const start = tcp + tcpHeader;
  const capturedEnd = Math.min(wireEnd, data.length);
  const flags = data.readUInt8(tcp + 13);
  return {
    timestampUs: packet.timestampUs,
    ipVersion: net.version,
    src,
    srcPort: data.readUInt16BE(tcp),
    dst,
    dstPort: data.readUInt16BE(tcp + 2),
    seq: data.readUInt32BE(tcp + 4),
    ack: data.readUInt32BE(tcp + 8),
    flags: {
      syn: (flags & 0x02) !== 0,
      ack: (flags & 0x10) !== 0,
      fin: (flags & 0x01) !== 0,
      rst: (flags & 0x04) !== 0,
      psh: (flags & 0x08) !== 0,
    },
    payload: data.subarray(start, capturedEnd),
    missingBytes: wireEnd - capturedEnd,
  };
}

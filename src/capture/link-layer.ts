/**
 * Finds the IP header behind a link-layer header, for the link types tcpdump writes when
 * capturing AJP: Ethernet (with 802.1Q / 802.1ad VLAN tags), Linux cooked SLL and SLL2, BSD
 * loopback, OpenBSD loopback and raw IP. LINKTYPE values from https://www.tcpdump.org/linktypes.html.
 */

export const enum LinkType {
  Null = 0, // BSD loopback: 4-byte address family in the capturing host's byte order
  Ethernet = 1,
  RawOpenBsd = 12, // DLT_RAW as some BSDs number it, written as is into pcap files
  RawBsdOs = 14,
  Raw = 101,
  Loop = 108, // OpenBSD loopback: address family in network byte order
  LinuxSll = 113,
  Ipv4 = 228,
  Ipv6 = 229,
  LinuxSll2 = 276,
}

const enum EtherType {
  Ipv4 = 0x0800,
  Ipv6 = 0x86dd,
  Vlan = 0x8100, // 802.1Q
  QinQ = 0x88a8, // 802.1ad service tag
  QinQOld = 0x9100, // pre-standard QinQ, still seen on switches
}

/** Where the IP header starts and which version the link layer says it is. */
export interface NetworkHeader {
  offset: number;
  version: 4 | 6;
}

export type LinkSkip = 'unsupported-link-type' | 'not-ip' | 'truncated-header';

/** Address family values meaning IPv6 across BSDs (24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin) and Linux (10). */
function familyVersion(af: number): 4 | 6 | 0 {
  if (af === 2) return 4;
  if (af === 24 || af === 28 || af === 30 || af === 10) return 6;
  return 0;
}

export function locateNetworkHeader(linkType: number, data: Buffer): NetworkHeader | LinkSkip {
  switch (linkType) {
    case LinkType.Ethernet:
      if (data.length < 14) return 'truncated-header';
      return fromEtherType(data, data.readUInt16BE(12), 14);
    case LinkType.LinuxSll:
      // packet type, ARPHRD type, address length, 8 address bytes, protocol.
      if (data.length < 16) return 'truncated-header';
      return fromEtherType(data, data.readUInt16BE(14), 16);
    case LinkType.LinuxSll2:
      // protocol first, then reserved, interface index, ARPHRD, packet type, address length and address.
      if (data.length < 20) return 'truncated-header';
      return fromEtherType(data, data.readUInt16BE(0), 20);
    case LinkType.Null:
    case LinkType.Loop: {
      if (data.length < 4) return 'truncated-header';
      // Null is in the capturing host's order, which the file does not tell: accept either
      // (the values are small, so the other reading is never a valid family). Loop is network
      // order, but accepting both costs nothing.
      const v = familyVersion(data.readUInt32LE(0)) || familyVersion(data.readUInt32BE(0));
      return v === 0 ? 'not-ip' : { offset: 4, version: v };
    }
    case LinkType.Raw:
    case LinkType.RawOpenBsd:
    case LinkType.RawBsdOs:
      return fromVersionNibble(data, 0);
    case LinkType.Ipv4:
      return { offset: 0, version: 4 };
    case LinkType.Ipv6:
      return { offset: 0, version: 6 };
    default:
      return 'unsupported-link-type';
  }
}

/** Follows VLAN tags (any depth) to the protocol behind them. */
function fromEtherType(data: Buffer, type: number, offset: number): NetworkHeader | LinkSkip {
  while (type === EtherType.Vlan || type === EtherType.QinQ || type === EtherType.QinQOld) {
    // Tag: 2 bytes of priority / DEI / VLAN id, then the next EtherType.
    if (data.length < offset + 4) return 'truncated-header';
    type = data.readUInt16BE(offset + 2);
    offset += 4;
  }
  if (type === EtherType.Ipv4) return { offset, version: 4 };
  if (type === EtherType.Ipv6) return { offset, version: 6 };
  return 'not-ip';
}

function fromVersionNibble(data: Buffer, offset: number): NetworkHeader | LinkSkip {
  if (data.length <= offset) return 'truncated-header';
  const v = data.readUInt8(offset) >> 4;
  if (v === 4 || v === 6) return { offset, version: v };
  return 'not-ip';
}

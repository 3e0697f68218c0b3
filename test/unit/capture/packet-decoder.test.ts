import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CapturedPacket, TcpSegment } from '../../../src/capture/capture-types.js';
import { formatIPv6 } from '../../../src/capture/ip-address-format.js';
import { decodeTcpSegment, isSkipReason, SKIP_REASONS, type SkipReason } from '../../../src/capture/packet-decoder.js';
import {
  ipPacket,
  ipv6Bytes,
  linkFrame,
  LINKTYPE,
  tcpFrame,
  type LinkSpec,
  type TcpPacketSpec,
} from '../../fixtures/capture-builder.js';

function packet(data: Buffer, linkType: number, originalLength = data.length): CapturedPacket {
  return { timestampUs: 1_700_000_000_123_456, linkType, data, originalLength };
}

function decode(spec: TcpPacketSpec, link: LinkSpec = { linkType: LINKTYPE.ETHERNET }): TcpSegment | SkipReason {
  return decodeTcpSegment(packet(tcpFrame(spec, link), link.linkType));
}

function segment(spec: TcpPacketSpec, link?: LinkSpec): TcpSegment {
  const r = decode(spec, link);
  if (isSkipReason(r)) throw new Error(`expected a segment, got ${r}`);
  return r;
}

const v4: TcpPacketSpec = {
  ipVersion: 4,
  src: '192.168.1.10',
  dst: '10.0.0.2',
  srcPort: 51234,
  dstPort: 8009,
  seq: 0xfffffff0,
  ack: 0x80000001,
  flags: { ack: true, psh: true },
  payload: Buffer.from('1234000a02020008485454502f312e31', 'hex'),
};
const v6: TcpPacketSpec = { ...v4, ipVersion: 6, src: '2001:db8::10', dst: 'fe80::1:2' };

function expectSegment(s: TcpSegment, spec: TcpPacketSpec): void {
  expect(s).toEqual({
    timestampUs: 1_700_000_000_123_456,
    ipVersion: spec.ipVersion,
    src: spec.src,
    srcPort: spec.srcPort,
    dst: spec.dst,
    dstPort: spec.dstPort,
    seq: spec.seq,
    ack: spec.ack,
    flags: { syn: false, ack: false, fin: false, rst: false, psh: false, ...spec.flags },
    payload: spec.payload,
    missingBytes: 0,
  });
}

const LINKS: LinkSpec[] = [
  { linkType: LINKTYPE.ETHERNET },
  { linkType: LINKTYPE.ETHERNET, vlanTags: [{ vid: 42 }] },
  { linkType: LINKTYPE.ETHERNET, vlanTags: [{ tpid: 0x88a8, vid: 100 }, { vid: 42 }] },
  { linkType: LINKTYPE.ETHERNET, vlanTags: [{ tpid: 0x9100, vid: 7 }, { tpid: 0x88a8, vid: 100 }, { vid: 42 }] },
  { linkType: LINKTYPE.LINUX_SLL },
  { linkType: LINKTYPE.LINUX_SLL, vlanTags: [{ vid: 5 }] },
  { linkType: LINKTYPE.LINUX_SLL2 },
  { linkType: LINKTYPE.NULL, byteOrder: 'le' },
  { linkType: LINKTYPE.NULL, byteOrder: 'be' },
  { linkType: LINKTYPE.LOOP },
  { linkType: LINKTYPE.RAW },
  { linkType: LINKTYPE.RAW_12 },
  { linkType: LINKTYPE.RAW_14 },
];

describe('decodeTcpSegment: link types', () => {
  for (const link of LINKS) {
    const name = `${link.linkType}${link.vlanTags ? ` with ${link.vlanTags.length} VLAN tag(s)` : ''}${link.byteOrder ? ` ${link.byteOrder}` : ''}`;
    it(`link type ${name}, IPv4 and IPv6`, () => {
      expectSegment(segment(v4, link), v4);
      expectSegment(segment(v6, link), v6);
    });
  }

  it('LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229)', () => {
    expectSegment(segment(v4, { linkType: LINKTYPE.IPV4 }), v4);
    expectSegment(segment(v6, { linkType: LINKTYPE.IPV6 }), v6);
    // The link type fixes the version: a header that says otherwise is malformed.
    expect(decode(v6, { linkType: LINKTYPE.IPV4 })).toBe('malformed-header');
    expect(decode(v4, { linkType: LINKTYPE.IPV6 })).toBe('malformed-header');
  });

  it('BSD loopback: every AF_INET6 value, in either byte order', () => {
    for (const family of [10, 24, 28, 30]) {
      for (const byteOrder of ['le', 'be'] as const) {
        expectSegment(segment(v6, { linkType: LINKTYPE.NULL, family, byteOrder }), v6);
      }
    }
    expect(decode(v4, { linkType: LINKTYPE.NULL, family: 7 })).toBe('not-ip');
    expectSegment(segment(v6, { linkType: LINKTYPE.LOOP, family: 24 }), v6);
  });

  it('skips non-IP frames and unknown link types', () => {
    const arp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
    expect(decodeTcpSegment(packet(arp, LINKTYPE.ETHERNET))).toBe('not-ip');
    expect(decodeTcpSegment(packet(Buffer.from([0x20, 0, 0, 0]), LINKTYPE.RAW))).toBe('not-ip');
    expect(decodeTcpSegment(packet(tcpFrame(v4), 147))).toBe('unsupported-link-type');
    expect(decodeTcpSegment(packet(Buffer.alloc(13), LINKTYPE.ETHERNET))).toBe('truncated-header');
    expect(decodeTcpSegment(packet(Buffer.alloc(15), LINKTYPE.LINUX_SLL))).toBe('truncated-header');
    expect(decodeTcpSegment(packet(Buffer.alloc(19), LINKTYPE.LINUX_SLL2))).toBe('truncated-header');
    expect(decodeTcpSegment(packet(Buffer.alloc(3), LINKTYPE.NULL))).toBe('truncated-header');
    expect(decodeTcpSegment(packet(Buffer.alloc(0), LINKTYPE.RAW))).toBe('truncated-header');
    const tagCut = tcpFrame(v4, { linkType: LINKTYPE.ETHERNET, vlanTags: [{ vid: 1 }] }).subarray(0, 16);
    expect(decodeTcpSegment(packet(tagCut, LINKTYPE.ETHERNET))).toBe('truncated-header');
  });

  it('lists every skip reason, and import documents each one', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/import.md'), 'utf8');
    for (const reason of SKIP_REASONS) expect(doc, reason).toContain(reason);
  });
});

describe('decodeTcpSegment: IPv4', () => {
  it('honours IPv4 options (IHL > 5) and TCP options (data offset > 5)', () => {
    for (const optLen of [4, 8, 40]) {
      const spec = {
        ...v4,
        ipv4Options: Buffer.alloc(optLen, 1),
        tcpOptions: Buffer.from('020405b40402080a0000000100000002', 'hex'),
      };
      expectSegment(segment(spec), spec);
    }
  });

  it('skips fragments: MF set, or a non-zero offset', () => {
    expect(decode({ ...v4, ipv4Fragment: { offset: 0, more: true } })).toBe('ip-fragment');
    expect(decode({ ...v4, ipv4Fragment: { offset: 185, more: false } })).toBe('ip-fragment');
    expect(decode({ ...v4, ipv4Fragment: { offset: 185, more: true } })).toBe('ip-fragment');
    expectSegment(segment({ ...v4, ipv4Fragment: { offset: 0, more: false } }), v4);
  });

  it('skips other protocols', () => {
    expect(decode({ ...v4, protocol: 17 })).toBe('not-tcp');
    expect(decode({ ...v4, protocol: 1 })).toBe('not-tcp');
  });

  it('ignores Ethernet padding: the payload length comes from the IP total length', () => {
    const spec = { ...v4, payload: Buffer.from('x') };
    const frame = tcpFrame(spec, { linkType: LINKTYPE.ETHERNET, padTo: 60 });
    expect(frame.length).toBe(60);
    const s = decodeTcpSegment(packet(frame, LINKTYPE.ETHERNET)) as TcpSegment;
    expect(s.payload).toEqual(Buffer.from('x'));
    expect(s.missingBytes).toBe(0);
    // An empty segment (a bare ACK) padded to 60 bytes has an empty payload.
    const ack = decodeTcpSegment(
      packet(tcpFrame({ ...v4, payload: undefined }, { linkType: 1, padTo: 60 }), 1),
    ) as TcpSegment;
    expect(ack.payload.length).toBe(0);
  });

  it('counts what the snaplen cut off in missingBytes', () => {
    const spec = { ...v4, payload: Buffer.alloc(1000, 7) };
    const frame = tcpFrame(spec);
    const headers = frame.length - 1000;
    for (const cut of [headers, headers + 1, headers + 500, frame.length - 1]) {
      const s = decodeTcpSegment(packet(frame.subarray(0, cut), LINKTYPE.ETHERNET, frame.length)) as TcpSegment;
      expect(s.payload).toEqual(Buffer.alloc(cut - headers, 7));
      expect(s.missingBytes).toBe(frame.length - cut);
    }
  });

  it('reports headers the capture cut short', () => {
    const frame = tcpFrame({ ...v4, ipv4Options: Buffer.alloc(8), tcpOptions: Buffer.alloc(12) });
    // Ethernet 14 + IP 28 + TCP 32: cut inside the IP options, the fixed TCP header, the TCP options.
    for (const cut of [14 + 19, 14 + 24, 14 + 28 + 10, 14 + 28 + 25]) {
      expect(decodeTcpSegment(packet(frame.subarray(0, cut), 1, frame.length))).toBe('truncated-header');
    }
  });

  it('rejects self-contradicting headers', () => {
    const frame = tcpFrame(v4);
    const bad = (mutate: (b: Buffer) => void): SkipReason | TcpSegment => {
      const b = Buffer.from(frame);
      mutate(b);
      return decodeTcpSegment(packet(b, 1));
    };
    expect(bad((b) => b.writeUInt8(0x44, 14))).toBe('malformed-header'); // IHL 4
    expect(bad((b) => b.writeUInt8(0x65, 14))).toBe('malformed-header'); // version 6 behind EtherType IPv4
    expect(bad((b) => b.writeUInt16BE(19, 16))).toBe('malformed-header'); // total length < IHL
    expect(bad((b) => b.writeUInt16BE(30, 16))).toBe('malformed-header'); // no room for the TCP header
    expect(bad((b) => b.writeUInt8(0x40, 14 + 20 + 12))).toBe('malformed-header'); // data offset 4
    expect(bad((b) => b.writeUInt8(0xf0, 14 + 20 + 12))).toBe('malformed-header'); // data offset past the packet
  });

  it('takes a zero total length (TSO / BIG TCP) as the frame length', () => {
    const spec = { ...v4, payload: Buffer.alloc(70000, 3), ipLengthField: 0 };
    const s = segment(spec);
    expect(s.payload.length).toBe(70000);
    expect(s.missingBytes).toBe(0);
  });

  it('reads the full 32-bit range of seq and ack, and every flag', () => {
    const s = segment({
      ...v4,
      seq: 0xffffffff,
      ack: 0xfffffffe,
      flags: { syn: true, ack: true, fin: true, rst: true, psh: true },
    });
    expect([s.seq, s.ack]).toEqual([0xffffffff, 0xfffffffe]);
    expect(s.flags).toEqual({ syn: true, ack: true, fin: true, rst: true, psh: true });
  });

  it('returns the payload as a view into the packet data, not a copy', () => {
    const frame = tcpFrame(v4);
    const s = decodeTcpSegment(packet(frame, 1)) as TcpSegment;
    expect(s.payload.buffer).toBe(frame.buffer);
    expect(s.payload.byteOffset).toBe(frame.byteOffset + frame.length - (v4.payload as Buffer).length);
  });
});

describe('decodeTcpSegment: IPv6', () => {
  it('walks extension headers: hop-by-hop, routing, destination options, atomic fragment, AH', () => {
    const chains = [
      [{ type: 0 }],
      [{ type: 0, length: 16 }, { type: 43, length: 24 }, { type: 60 }],
      [{ type: 44 }],
      [{ type: 51 }],
      [
        { type: 51, length: 12 },
        { type: 60, length: 8 },
      ],
      [{ type: 0 }, { type: 60 }, { type: 43 }, { type: 44 }, { type: 51, length: 32 }, { type: 60, length: 40 }],
    ];
    for (const ipv6Extensions of chains) {
      const spec = { ...v6, ipv6Extensions };
      expectSegment(segment(spec), spec);
    }
  });

  it('skips fragments (offset ≠ 0 or M set)', () => {
    expect(decode({ ...v6, ipv6Extensions: [{ type: 44, more: true }] })).toBe('ip-fragment');
    expect(decode({ ...v6, ipv6Extensions: [{ type: 0 }, { type: 44, fragmentOffset: 100 }] })).toBe('ip-fragment');
  });

  it('skips other upper layers, ESP and No Next Header', () => {
    expect(decode({ ...v6, protocol: 17 })).toBe('not-tcp');
    expect(decode({ ...v6, protocol: 58 })).toBe('not-tcp');
    expect(decode({ ...v6, ipv6Extensions: [{ type: 0 }], protocol: 50 })).toBe('not-tcp');
    expect(decode({ ...v6, protocol: 59 })).toBe('not-tcp');
  });

  it('reports extension headers cut by the snaplen, and chains that overrun the packet', () => {
    const spec = { ...v6, ipv6Extensions: [{ type: 0 }, { type: 60, length: 16 }] };
    const frame = tcpFrame(spec);
    for (const cut of [14 + 40 + 4, 14 + 48 + 4, 14 + 64 + 10]) {
      expect(decodeTcpSegment(packet(frame.subarray(0, cut), 1, frame.length))).toBe('truncated-header');
    }
    const overrun = Buffer.from(frame);
    overrun.writeUInt8(20, 14 + 48 + 1); // destination options now 168 bytes: past the payload length
    expect(decodeTcpSegment(packet(overrun, 1))).toBe('malformed-header');
  });

  it('uses the payload length, not the captured length, and counts snaplen cuts', () => {
    const spec = { ...v6, ipv6Extensions: [{ type: 0 }], payload: Buffer.alloc(300, 9) };
    const frame = tcpFrame(spec);
    const padded = Buffer.concat([frame, Buffer.alloc(4)]); // an FCS or trailer
    expect((decodeTcpSegment(packet(padded, 1)) as TcpSegment).payload).toEqual(Buffer.alloc(300, 9));
    const cut = decodeTcpSegment(packet(frame.subarray(0, frame.length - 100), 1, frame.length)) as TcpSegment;
    expect(cut.payload.length).toBe(200);
    expect(cut.missingBytes).toBe(100);
  });

  it('formats addresses per RFC 5952', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['fe80:0:0:0:0:abcd:0:0', 'fe80::abcd:0:0'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
      ['ABCD:EF01:2345:6789:ABCD:EF01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
      ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
    ];
    for (const [input, text] of cases) expect(formatIPv6(ipv6Bytes(input), 0)).toBe(text);
    expect(segment({ ...v6, src: '::ffff:127.0.0.1' }).src).toBe('::ffff:127.0.0.1');
  });
});

describe('decodeTcpSegment: properties', () => {
  const ipv6Group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  const ipv6Text = fc
    .array(ipv6Group, { minLength: 8, maxLength: 8 })
    .map((g) => g.map((x) => x.toString(16)).join(':'));
  const ipv4Text = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }).map((a) => a.join('.'));
  const extension = fc.oneof(
    fc.record({ type: fc.constantFrom(0, 43, 60), length: fc.integer({ min: 1, max: 4 }).map((n) => n * 8) }),
    fc.record({ type: fc.constant(44) }),
    fc.record({ type: fc.constant(51), length: fc.integer({ min: 3, max: 8 }).map((n) => n * 4) }),
  );
  const flags = fc.record({
    syn: fc.boolean(),
    ack: fc.boolean(),
    fin: fc.boolean(),
    rst: fc.boolean(),
    psh: fc.boolean(),
  });
  const common = {
    srcPort: fc.integer({ min: 0, max: 0xffff }),
    dstPort: fc.integer({ min: 0, max: 0xffff }),
    seq: fc.nat({ max: 0xffffffff }),
    ack: fc.nat({ max: 0xffffffff }),
    flags,
    payload: fc.uint8Array({ maxLength: 1600 }).map((a) => Buffer.from(a)),
    tcpOptions: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  };
  const spec: fc.Arbitrary<TcpPacketSpec> = fc.oneof(
    fc.record({
      ipVersion: fc.constant(4 as const),
      src: ipv4Text,
      dst: ipv4Text,
      ipv4Options: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      ...common,
    }),
    fc.record({
      ipVersion: fc.constant(6 as const),
      src: ipv6Text,
      dst: ipv6Text,
      ipv6Extensions: fc.array(extension, { maxLength: 4 }),
      ...common,
    }),
  );
  const link: fc.Arbitrary<LinkSpec> = fc.oneof(
    fc.record({
      linkType: fc.constant(1),
      vlanTags: fc.array(fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8, 0x9100), vid: fc.nat({ max: 4095 }) }), {
        maxLength: 3,
      }),
      padTo: fc.constant(60),
    }),
    fc.constantFrom<LinkSpec>(...LINKS),
  );

  it('every field of a built segment decodes back, through any link layer; the snaplen cut shows in missingBytes', () => {
    fc.assert(
      fc.property(spec, link, fc.nat(), (s, l, cutSeed) => {
        const frame = linkFrame(ipPacket(s), l);
        const payload = s.payload as Buffer;
        // Link, IP and TCP headers: the frame without payload (nor Ethernet padding).
        const headers = linkFrame(ipPacket({ ...s, payload: undefined }), { ...l, padTo: undefined }).length;
        const full = decodeTcpSegment(packet(frame, l.linkType)) as TcpSegment;
        expect(full.src).toBe(formatIPv6Like(s.src as string, s.ipVersion as 4 | 6));
        expect(full.dst).toBe(formatIPv6Like(s.dst as string, s.ipVersion as 4 | 6));
        expect([full.srcPort, full.dstPort, full.seq, full.ack]).toEqual([s.srcPort, s.dstPort, s.seq, s.ack]);
        expect(full.flags).toEqual(s.flags);
        expect(full.payload).toEqual(payload);
        expect(full.missingBytes).toBe(0);
        // Cut anywhere inside the payload: what is left is the captured part.
        const keep = payload.length === 0 ? 0 : cutSeed % (payload.length + 1);
        const cut = decodeTcpSegment(packet(frame.subarray(0, headers + keep), l.linkType, frame.length)) as TcpSegment;
        expect(cut.payload).toEqual(payload.subarray(0, keep));
        expect(cut.missingBytes).toBe(payload.length - keep);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on random bytes, whatever the link type', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 12, 14, 101, 108, 113, 228, 229, 276),
        fc.uint8Array({ maxLength: 200 }),
        (lt, bytes) => {
          const data = Buffer.from(bytes);
          const r = decodeTcpSegment(packet(data, lt));
          if (isSkipReason(r)) expect(SKIP_REASONS).toContain(r);
          else {
            // The payload is a view inside the captured bytes, never past them; what the snaplen
            // cut is counted, never negative.
            expect(r.payload.buffer).toBe(data.buffer);
            expect(r.payload.byteOffset).toBeGreaterThanOrEqual(data.byteOffset);
            expect(r.payload.byteOffset + r.payload.length).toBeLessThanOrEqual(data.byteOffset + data.length);
            expect(r.missingBytes).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** The decoder's expected text: IPv4 as is, IPv6 in RFC 5952 form (checked above) of the same bytes. */
function formatIPv6Like(text: string, version: 4 | 6): string {
  return version === 4 ? text : formatIPv6(ipv6Bytes(text), 0);
}

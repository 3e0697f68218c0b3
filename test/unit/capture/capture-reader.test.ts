import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture, readCaptureBatches } from '../../../src/capture/capture-reader.js';
import {
  CaptureFormatError,
  type CapturedPacket,
  type CaptureIssue,
  type ReadCaptureOptions,
} from '../../../src/capture/capture-types.js';
import { decodeTcpSegment, isSkipReason } from '../../../src/capture/packet-decoder.js';
import { timestampConverter } from '../../../src/capture/pcapng-timestamp.js';
import {
  chunkBy,
  LINKTYPE,
  tcpFrame,
  writePcap,
  writePcapng,
  type ByteOrder,
  type PcapngSectionSpec,
  type RecordSpec,
} from '../../fixtures/capture-builder.js';

interface Plain {
  timestampUs: number;
  linkType: number;
  data: string;
  originalLength: number;
}

interface Outcome {
  packets: Plain[];
  issues: CaptureIssue[];
  error?: unknown;
}

const plain = (p: CapturedPacket): Plain => ({
  timestampUs: p.timestampUs,
  linkType: p.linkType,
  data: p.data.toString('hex'),
  originalLength: p.originalLength,
});

async function collect(input: NodeJS.ReadableStream | string, opts: ReadCaptureOptions = {}): Promise<Outcome> {
  const out: Outcome = { packets: [], issues: [] };
  try {
    for await (const p of readCapture(input, { ...opts, onIssue: (i) => out.issues.push(i) }))
      out.packets.push(plain(p));
  } catch (err) {
    out.error = err;
  }
  return out;
}

const stream = (chunks: Buffer[]): Readable => Readable.from(chunks);
const read = (bytes: Buffer, opts: ReadCaptureOptions = {}): Promise<Outcome> => collect(stream([bytes]), opts);
/** Classic pcap is read by pcap-parser (the default) or by our framer: both must behave the same. */
const CLASSIC: ReadCaptureOptions[] = [{ classicPcap: 'pcap-parser' }, { classicPcap: 'builtin' }];

function expectCode(o: Outcome, code: string): void {
  expect(o.error).toBeInstanceOf(CaptureFormatError);
  expect((o.error as CaptureFormatError).code).toBe(code);
}

const T0 = 1_763_900_000_000_000; // µs

function records(
  n: number,
  frameFor = (i: number): Buffer => tcpFrame({ seq: 1000 + i, payload: Buffer.alloc(i * 37, i) }),
): RecordSpec[] {
  return Array.from({ length: n }, (_, i) => ({ timestampUs: T0 + i * 1_234_567, data: frameFor(i) }));
}

const expected = (recs: RecordSpec[], linkType: number, snaplen = Infinity): Plain[] =>
  recs.map((r) => ({
    timestampUs: r.timestampUs,
    linkType,
    data: r.data.subarray(0, Math.min(snaplen, r.data.length)).toString('hex'),
    originalLength: r.originalLength ?? r.data.length,
  }));

describe.each(CLASSIC)('readCapture: classic pcap ($classicPcap)', (opts) => {
  const read = (bytes: Buffer): Promise<Outcome> => collect(stream([bytes]), opts);
  for (const byteOrder of ['le', 'be'] as const) {
    for (const nanosecond of [false, true]) {
      it(`reads ${nanosecond ? 'nanosecond' : 'microsecond'} pcap, ${byteOrder === 'le' ? 'little' : 'big'} endian`, async () => {
        const recs = records(5);
        const o = await read(writePcap(recs, { linkType: LINKTYPE.ETHERNET, byteOrder, nanosecond }));
        expect(o.error).toBeUndefined();
        expect(o.issues).toEqual([]);
        expect(o.packets).toEqual(expected(recs, LINKTYPE.ETHERNET));
      });
    }
  }

  it('rounds nanosecond timestamps down to the microsecond', async () => {
    const recs = [{ timestampUs: T0 + 5, data: tcpFrame({}), extraNs: 999 }];
    const o = await read(writePcap(recs, { linkType: 1, nanosecond: true }));
    expect(o.packets.map((p) => p.timestampUs)).toEqual([T0 + 5]);
  });

  it('keeps the link type of the file (and drops the FCS bits above it)', async () => {
    const recs = records(2, () => tcpFrame({}, { linkType: LINKTYPE.LINUX_SLL }));
    const o = await read(writePcap(recs, { linkType: LINKTYPE.LINUX_SLL | 0x04000000 | (2 << 28) }));
    expect(o.packets.map((p) => p.linkType)).toEqual([113, 113]);
  });

  it('applies the snaplen: captured bytes cut, original length kept, the cut counted by the decoder', async () => {
    const recs = records(4, (i) => tcpFrame({ payload: Buffer.alloc(100 + i * 200, 0x41) }));
    const o = await read(writePcap(recs, { linkType: 1, snaplen: 200 }));
    expect(o.packets).toEqual(expected(recs, 1, 200));
    let i = 0;
    for await (const p of readCapture(stream([writePcap(recs, { linkType: 1, snaplen: 200 })]), opts)) {
      const s = decodeTcpSegment(p);
      if (isSkipReason(s)) throw new Error(s);
      expect(s.payload.length + s.missingBytes).toBe(100 + i * 200);
      expect(s.payload.length).toBe(Math.min(100 + i * 200, 200 - 54));
      i++;
    }
  });

  it('rejects an unsupported version and an impossible packet length', async () => {
    expectCode(await read(writePcap(records(1), { linkType: 1, version: [3, 0] })), 'CAPTURE_ERR_VERSION');
    expectCode(await read(writePcap(records(1), { linkType: 1, version: [1, 4] })), 'CAPTURE_ERR_VERSION');
    const bytes = writePcap(records(3), { linkType: 1 });
    const first = 24 + 16 + (records(3)[0] as RecordSpec).data.length;
    bytes.writeUInt32LE(0x7fffffff, first + 8); // second record's captured length
    const o = await read(bytes);
    expectCode(o, 'CAPTURE_ERR_BAD_RECORD');
    expect(o.packets).toHaveLength(1); // the packet before the corruption still came out
    expect((o.error as CaptureFormatError).offset).toBe(first);
  });
});

const ETH = LINKTYPE.ETHERNET;

function ngSections(): { sections: PcapngSectionSpec[]; want: Plain[] } {
  const f = (i: number, linkType: number, ipVersion: 4 | 6 = 4): Buffer =>
    tcpFrame({ ipVersion, seq: i, payload: Buffer.alloc(i * 13, i) }, { linkType });
  const sections: PcapngSectionSpec[] = [
    {
      byteOrder: 'le',
      interfaces: [
        { linkType: ETH, name: 'eth0' },
        { linkType: LINKTYPE.LINUX_SLL2, tsresol: 9, snaplen: 90 },
        { linkType: LINKTYPE.RAW, tsresol: 3 },
        { linkType: LINKTYPE.NULL, tsresol: 0x80 | 20, tsoffset: 1000 },
      ],
      blocks: [
        { kind: 'epb', interfaceId: 0, timestampUs: T0 + 1, data: f(1, ETH), comment: 'first' },
        { kind: 'epb', interfaceId: 1, timestampUs: T0 + 2, extraNs: 999, data: f(20, LINKTYPE.LINUX_SLL2, 6) },
        { kind: 'other', type: 4, body: Buffer.alloc(8) }, // name resolution block
        { kind: 'epb', interfaceId: 2, timestampUs: T0 + 3000, data: f(3, LINKTYPE.RAW) },
        { kind: 'epb', interfaceId: 3, timestampUs: T0 + 15625 * 3, data: f(4, LINKTYPE.NULL, 6) },
        { kind: 'spb', data: f(5, ETH) },
        { kind: 'other', type: 5, body: Buffer.alloc(20) }, // interface statistics block
        { kind: 'pb', interfaceId: 2, timestampUs: T0 + 9000, data: f(6, LINKTYPE.RAW) },
        { kind: 'idb', linkType: LINKTYPE.LINUX_SLL },
        { kind: 'epb', interfaceId: 4, timestampUs: T0 + 7, data: f(7, LINKTYPE.LINUX_SLL) },
      ],
    },
    {
      byteOrder: 'be',
      interfaces: [{ linkType: LINKTYPE.IPV6, tsresol: 9, snaplen: 61 }, { linkType: LINKTYPE.LOOP }],
      blocks: [
        { kind: 'epb', interfaceId: 1, timestampUs: T0 + 8, data: f(8, LINKTYPE.LOOP) },
        { kind: 'epb', interfaceId: 0, timestampUs: T0 + 9, data: f(9, LINKTYPE.IPV6, 6) },
        { kind: 'spb', data: f(10, LINKTYPE.IPV6, 6) },
      ],
    },
    {
      byteOrder: 'le',
      interfaces: [{ linkType: ETH }],
      blocks: [{ kind: 'epb', interfaceId: 0, timestampUs: T0 + 11, data: f(11, ETH) }],
    },
  ];
  const p = (timestampUs: number, linkType: number, data: Buffer, cap = data.length): Plain => ({
    timestampUs,
    linkType,
    data: data.subarray(0, cap).toString('hex'),
    originalLength: data.length,
  });
  const want = [
    p(T0 + 1, ETH, f(1, ETH)),
    p(T0 + 2, LINKTYPE.LINUX_SLL2, f(20, LINKTYPE.LINUX_SLL2, 6), 90),
    p(T0 + 3000, LINKTYPE.RAW, f(3, LINKTYPE.RAW)),
    p(T0 + 15625 * 3, LINKTYPE.NULL, f(4, LINKTYPE.NULL, 6)),
    p(T0 + 15625 * 3, ETH, f(5, ETH)), // an SPB has no timestamp: the previous one
    p(T0 + 9000, LINKTYPE.RAW, f(6, LINKTYPE.RAW)),
    p(T0 + 7, LINKTYPE.LINUX_SLL, f(7, LINKTYPE.LINUX_SLL)),
    p(T0 + 8, LINKTYPE.LOOP, f(8, LINKTYPE.LOOP)),
    p(T0 + 9, LINKTYPE.IPV6, f(9, LINKTYPE.IPV6, 6), 61),
    p(T0 + 9, LINKTYPE.IPV6, f(10, LINKTYPE.IPV6, 6), 61), // an SPB's captured length: min(original, snaplen)
    p(T0 + 11, ETH, f(11, ETH)),
  ];
  return { sections, want };
}

describe('readCapture: pcapng', () => {
  it('reads several sections (both byte orders) and interfaces (link types, tsresol, tsoffset, snaplen); EPB, SPB, PB; skips other blocks', async () => {
    const { sections, want } = ngSections();
    const o = await read(writePcapng(sections));
    expect(o.error).toBeUndefined();
    expect(o.issues).toEqual([]);
    expect(o.packets).toEqual(want);
  });

  it('handles power-of-ten and power-of-two resolutions exactly, nanoseconds beyond 2^53 included', async () => {
    for (const tsresol of [0, 3, 6, 7, 9, 10, 12, 15, 0x80 | 0, 0x80 | 10, 0x80 | 20, 0x80 | 30, 0x80 | 40]) {
      const exp = tsresol & 0x7f;
      // Now in ns (~2^61 units) does not fit a double; finer units do not even fit 64 bits, so
      // those get a time near the epoch.
      const ts =
        (tsresol & 0x80) === 0
          ? exp <= 9
            ? 1_763_900_123_456_789
            : 123_456_789
          : exp <= 30
            ? 1_763_900_123_456_789
            : 123_456_789;
      // Timestamps the resolution can hold exactly: whole units.
      const unitUs = (tsresol & 0x80) === 0 ? (exp >= 6 ? 1 : 10 ** (6 - exp)) : exp >= 6 ? 15625 : 10 ** 6 / 2 ** exp;
      const timestampUs = Math.floor(ts / unitUs) * unitUs;
      const bytes = writePcapng([
        {
          interfaces: [{ linkType: 1, tsresol }],
          blocks: [{ kind: 'epb', interfaceId: 0, timestampUs, data: tcpFrame({}) }],
        },
      ]);
      const o = await read(bytes);
      expect([tsresol, o.packets[0]?.timestampUs]).toEqual([tsresol, timestampUs]);
    }
  });

  it('converts any 64-bit count exactly (rounded down), as BigInt arithmetic does', () => {
    const resolutions = [...Array.from({ length: 16 }, (_, e) => e), ...Array.from({ length: 41 }, (_, e) => 0x80 | e)];
    fc.assert(
      fc.property(
        fc.constantFrom(...resolutions),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        (tsresol, high, low) => {
          const ticks = (BigInt(high) << 32n) | BigInt(low);
          const exp = BigInt(tsresol & 0x7f);
          const us =
            (tsresol & 0x80) === 0
              ? exp >= 6n
                ? ticks / 10n ** (exp - 6n)
                : ticks * 10n ** (6n - exp)
              : (ticks * 1_000_000n) >> exp;
          fc.pre(us < 2n ** 53n); // beyond that no double holds it anyway
          expect(timestampConverter(tsresol, 0)(high, low)).toBe(Number(us));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('applies if_tsoffset (seconds, may be negative)', async () => {
    for (const tsoffset of [-3600, 1_700_000_000]) {
      const bytes = writePcapng([
        {
          interfaces: [{ linkType: 1, tsoffset }],
          blocks: [{ kind: 'epb', interfaceId: 0, timestampUs: T0, data: tcpFrame({}) }],
        },
      ]);
      expect((await read(bytes)).packets[0]?.timestampUs).toBe(T0);
    }
  });

  it('reports a packet on an interface its section did not describe, and goes on', async () => {
    const bytes = writePcapng([
      {
        interfaces: [{ linkType: 1 }],
        blocks: [
          { kind: 'epb', interfaceId: 0, timestampUs: T0, data: tcpFrame({}) },
          { kind: 'epb', interfaceId: 3, timestampUs: T0, data: tcpFrame({}) },
          { kind: 'epb', interfaceId: 0, timestampUs: T0 + 1, data: tcpFrame({}) },
        ],
      },
      { interfaces: [], blocks: [{ kind: 'spb', data: tcpFrame({}) }] }, // interfaces do not carry over sections
    ]);
    const o = await read(bytes);
    expect(o.packets).toHaveLength(2);
    expect(o.issues.map((i) => [i.code, i.packet])).toEqual([
      ['CAPTURE_ERR_UNKNOWN_INTERFACE', 2],
      ['CAPTURE_ERR_UNKNOWN_INTERFACE', 4],
    ]);
  });

  it('rejects inconsistent block lengths after yielding the packets before them', async () => {
    const good = writePcapng([
      { interfaces: [{ linkType: 1 }], blocks: [{ kind: 'epb', interfaceId: 0, timestampUs: T0, data: tcpFrame({}) }] },
    ]);
    const next = writePcapng([
      { interfaces: [{ linkType: 1 }], blocks: [{ kind: 'epb', interfaceId: 0, timestampUs: T0, data: tcpFrame({}) }] },
    ]);
    const shbAndIdb = 28 + 20;
    const epb = next.subarray(shbAndIdb);
    const mutations: [string, (b: Buffer) => void][] = [
      ['trailer differs', (b) => b.writeUInt32LE(b.readUInt32LE(b.length - 4) + 4, b.length - 4)],
      ['not a multiple of 4', (b) => b.writeUInt32LE(b.readUInt32LE(4) + 1, 4)],
      ['below 12', (b) => b.writeUInt32LE(8, 4)],
      ['captured length past the block', (b) => b.writeUInt32LE(1000, 20)],
      ['huge', (b) => b.writeUInt32LE(0xfffffff0, 4)],
    ];
    for (const [name, mutate] of mutations) {
      const bad = Buffer.from(epb);
      mutate(bad);
      const o = await read(Buffer.concat([good, bad, epb]));
      expect([name, o.packets.length]).toEqual([name, 1]);
      expectCode(o, 'CAPTURE_ERR_BAD_BLOCK');
    }
  });

  it('rejects an unsupported major version and a bad byte-order magic', async () => {
    expectCode(await read(writePcapng([{ version: [2, 0], interfaces: [], blocks: [] }])), 'CAPTURE_ERR_VERSION');
    const bytes = writePcapng([{ interfaces: [], blocks: [] }]);
    bytes.writeUInt32LE(0x12345678, 8);
    expectCode(await read(bytes), 'CAPTURE_ERR_BAD_BLOCK');
  });
});

describe('readCapture: truncated, empty and foreign inputs', () => {
  const pcap = writePcap(records(6), { linkType: 1 });
  const pcapNs = writePcap(records(6), { linkType: 1, nanosecond: true, byteOrder: 'be' });
  const ng = writePcapng(ngSections().sections);

  it.each(CLASSIC)(
    'yields every whole packet before the cut, then reports the cut packet (pcap and pcapng, cut anywhere; $classicPcap)',
    async (opts) => {
      for (const [name, bytes, total] of [
        ['pcap', pcap, 6],
        ['pcap ns', pcapNs, 6],
        ['pcapng', ng, 11],
      ] as const) {
        const whole = (await read(bytes, opts)).packets;
        expect(whole).toHaveLength(total);
        const header = name === 'pcapng' ? 28 : 24;
        for (let cut = header; cut < bytes.length; cut += 7) {
          const o = await read(bytes.subarray(0, cut), opts);
          expect(o.error).toBeUndefined();
          expect(o.packets).toEqual(whole.slice(0, o.packets.length));
          // An issue exactly when the cut is not on a record boundary; it names the next packet.
          const onBoundary = recordEnds(bytes).includes(cut);
          expect(o.issues).toEqual(
            onBoundary
              ? []
              : [expect.objectContaining({ code: 'CAPTURE_ERR_TRUNCATED', packet: o.packets.length + 1 })],
          );
        }
      }
    },
  );

  it.each(CLASSIC)('numbers the cut packet and gives its offset ($classicPcap)', async (opts) => {
    const recs = records(3);
    const bytes = writePcap(recs, { linkType: 1 });
    const o = await read(bytes.subarray(0, bytes.length - 1), opts);
    expect(o.packets).toHaveLength(2);
    const start = bytes.length - 16 - (recs[2] as RecordSpec).data.length;
    expect(o.issues).toEqual([expect.objectContaining({ code: 'CAPTURE_ERR_TRUNCATED', packet: 3, offset: start })]);
    const ngo = await read(ng.subarray(0, ng.length - 1));
    expect(ngo.packets).toHaveLength(10);
    expect(ngo.issues).toEqual([expect.objectContaining({ code: 'CAPTURE_ERR_TRUNCATED', packet: 11 })]);
  });

  it.each(CLASSIC)(
    'an input cut at a record boundary, or a header with no packets, is not an issue ($classicPcap)',
    async (opts) => {
      const header = writePcap([], { linkType: 1 });
      expect(await read(header, opts)).toEqual({ packets: [], issues: [] });
      expect(await read(writePcapng([{ interfaces: [{ linkType: 1 }], blocks: [] }]))).toEqual({
        packets: [],
        issues: [],
      });
    },
  );

  it.each(CLASSIC)('throws when the input ends inside the file header ($classicPcap)', async (opts) => {
    for (const bytes of [
      pcap.subarray(0, 3),
      pcap.subarray(0, 4),
      pcap.subarray(0, 23),
      pcapNs.subarray(0, 10),
      ng.subarray(0, 2),
      ng.subarray(0, 27),
    ]) {
      const o = await read(bytes, opts);
      expectCode(o, 'CAPTURE_ERR_TRUNCATED');
    }
  });

  it('throws on an empty input, from a stream or a file', async () => {
    expectCode(await collect(stream([])), 'CAPTURE_ERR_EMPTY');
    expectCode(await collect(stream([Buffer.alloc(0), Buffer.alloc(0)])), 'CAPTURE_ERR_EMPTY');
    const file = join(tmp(), 'empty.pcap');
    writeFileSync(file, '');
    expectCode(await collect(file), 'CAPTURE_ERR_EMPTY');
  });

  it('throws on an unknown magic, with a hint for gzip', async () => {
    expectCode(await read(Buffer.from('GET / HTTP/1.1\r\n')), 'CAPTURE_ERR_BAD_MAGIC');
    expectCode(await read(Buffer.from('ab')), 'CAPTURE_ERR_BAD_MAGIC');
    const gz = await read(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]));
    expectCode(gz, 'CAPTURE_ERR_BAD_MAGIC');
    expect((gz.error as Error).message).toContain('gzip');
  });

  it('fails on a missing file with the system error', async () => {
    const o = await collect(join(tmp(), 'no-such.pcap'));
    expect((o.error as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

describe('readCapture: streams', () => {
  const inputs: [string, Buffer, ReadCaptureOptions][] = [
    ['pcap µs', writePcap(records(8), { linkType: 1 }), {}],
    ['pcap ns be', writePcap(records(8), { linkType: 1, nanosecond: true, byteOrder: 'be' }), {}],
    ['pcap µs, builtin', writePcap(records(8), { linkType: 1 }), { classicPcap: 'builtin' }],
    [
      'pcap ns be, builtin',
      writePcap(records(8), { linkType: 1, nanosecond: true, byteOrder: 'be' }),
      { classicPcap: 'builtin' },
    ],
    ['pcapng', writePcapng(ngSections().sections), {}],
  ];

  for (const [name, bytes, opts] of inputs) {
    it(`${name}: 1-byte chunks and random chunks give the same packets as one chunk`, async () => {
      const whole = await read(bytes, opts);
      expect(whole.packets).toHaveLength(name === 'pcapng' ? 11 : 8);
      expect(await collect(stream(chunkBy(bytes, [1])), opts)).toEqual(whole);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }),
          async (sizes) => {
            expect(await collect(stream(chunkBy(bytes, sizes)), opts)).toEqual(whole);
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('readCaptureBatches: one non-empty array per chunk that completes packets, the same packets in order', async () => {
    for (const [, bytes, opts] of inputs) {
      const want = (await read(bytes, opts)).packets;
      const batches: CapturedPacket[][] = [];
      for await (const batch of readCaptureBatches(stream(chunkBy(bytes, [500])), opts)) batches.push(batch);
      expect(batches.every((b) => b.length > 0)).toBe(true);
      expect(batches.length).toBeGreaterThan(1);
      expect(batches.flat().map(plain)).toEqual(want);
    }
  });

  it('next() called again before the previous one settled loses and reorders nothing', async () => {
    const [, bytes] = inputs[4] as [string, Buffer, ReadCaptureOptions];
    const want = (await read(bytes)).packets;
    const it = readCapture(stream(chunkBy(bytes, [100, 3000])))[Symbol.asyncIterator]();
    const results = await Promise.all(Array.from({ length: want.length + 2 }, () => it.next()));
    expect(results.filter((r) => r.done !== true).map((r) => plain(r.value))).toEqual(want);
    expect(results.slice(want.length).every((r) => r.done === true)).toBe(true);
  });

  it('packets are views into the chunk they were read from when they lie inside it', async () => {
    for (const [, bytes, opts] of [inputs[0], inputs[2], inputs[3], inputs[4]] as [
      string,
      Buffer,
      ReadCaptureOptions,
    ][]) {
      for await (const p of readCapture(stream([bytes]), opts)) expect(p.data.buffer).toBe(bytes.buffer);
    }
  });

  it('packets stay intact after later chunks are read (no buffer is reused)', async () => {
    for (const [, bytes, opts] of inputs) {
      const want = (await read(bytes, opts)).packets;
      const held: CapturedPacket[] = [];
      for await (const p of readCapture(stream(chunkBy(bytes, [7, 300, 1, 64])), opts)) held.push(p);
      expect(held.map(plain)).toEqual(want);
    }
  });

  it.each(CLASSIC)('reads ahead of the consumer by a bounded amount (back-pressure; $classicPcap)', async (opts) => {
    const unit = writePcap(
      records(50, () => tcpFrame({ payload: Buffer.alloc(1400, 1) })),
      { linkType: 1 },
    );
    const body = unit.subarray(24);
    let produced = 0;
    const chunks = 200_000; // ~300 MB if it were all read
    let i = 0;
    const source = new Readable({
      read() {
        const c = i === 0 ? unit : body;
        i++;
        produced += c.length;
        this.push(i > chunks ? null : c);
      },
    });
    let seen = 0;
    let consumed = 24;
    for await (const p of readCapture(source, opts)) {
      expect(p.data.length).toBeGreaterThan(1400);
      consumed += 16 + p.data.length;
      if (++seen === 2000) break;
    }
    expect(consumed).toBeGreaterThan(2_900_000);
    // What was read but not yet taken: the chunk being parsed and the stream's small buffer.
    expect(produced - consumed).toBeLessThan(1024 * 1024);
    expect(source.destroyed).toBe(true); // leaving the loop early released the input
  });

  it('reads a file by path, in chunks, with packets spanning reads', async () => {
    const recs = records(400, (i) => tcpFrame({ seq: i, payload: Buffer.alloc((i * 997) % 9000, i) }));
    const bytes = writePcapng([
      {
        byteOrder: 'be',
        interfaces: [{ linkType: 1 }],
        blocks: recs.map((r) => ({ kind: 'epb' as const, interfaceId: 0, ...r })),
      },
    ]);
    const file = join(tmp(), 'big.pcapng');
    writeFileSync(file, bytes);
    expect((await collect(file)).packets).toEqual(expected(recs, 1));
    const pfile = join(tmp(), 'big.pcap');
    writeFileSync(pfile, writePcap(recs, { linkType: 1 }));
    expect((await collect(pfile)).packets).toEqual(expected(recs, 1));
    expect((await collect(pfile, { classicPcap: 'builtin' })).packets).toEqual(expected(recs, 1));
  });
});

describe('readCapture: properties', () => {
  const frame = fc.record({
    ipVersion: fc.constantFrom(4 as const, 6 as const),
    seq: fc.nat({ max: 0xffffffff }),
    payload: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
  });
  const record = fc.record({
    timestampUs: fc.integer({ min: 0, max: 2 ** 32 * 1e6 - 1 }),
    spec: frame,
    extraNs: fc.integer({ min: 0, max: 999 }),
  });
  const format = fc.oneof(
    fc.record({
      kind: fc.constant('pcap' as const),
      nanosecond: fc.boolean(),
      byteOrder: fc.constantFrom<ByteOrder>('le', 'be'),
      snaplen: fc.integer({ min: 60, max: 3000 }),
      reader: fc.constantFrom(...CLASSIC),
    }),
    fc.record({
      kind: fc.constant('pcapng' as const),
      byteOrder: fc.constantFrom<ByteOrder>('le', 'be'),
      tsresol: fc.constantFrom(6, 9),
      snaplen: fc.constantFrom(0, 100, 1500),
      sections: fc.integer({ min: 1, max: 3 }),
    }),
  );

  it('random packets written to any format read back equal, however the stream is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 12 }),
        format,
        fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 8 }),
        async (rs, fmt, sizes) => {
          const recs: RecordSpec[] = rs.map((r) => ({
            timestampUs: r.timestampUs,
            extraNs: r.extraNs,
            data: tcpFrame(r.spec, { linkType: LINKTYPE.RAW }),
          }));
          let bytes: Buffer;
          let snap: number;
          let opts: ReadCaptureOptions = {};
          if (fmt.kind === 'pcap') {
            opts = fmt.reader;
            bytes = writePcap(recs, {
              linkType: LINKTYPE.RAW,
              nanosecond: fmt.nanosecond,
              byteOrder: fmt.byteOrder,
              snaplen: fmt.snaplen,
            });
            snap = fmt.snaplen;
          } else {
            // Spread the packets over the sections, alternating between two interfaces.
            const per = Math.ceil(recs.length / fmt.sections) || 1;
            const sections: PcapngSectionSpec[] = Array.from({ length: fmt.sections }, (_, s) => ({
              byteOrder: s % 2 === 0 ? fmt.byteOrder : fmt.byteOrder === 'le' ? 'be' : 'le',
              interfaces: [
                { linkType: LINKTYPE.RAW, tsresol: fmt.tsresol, snaplen: fmt.snaplen },
                { linkType: LINKTYPE.RAW, snaplen: fmt.snaplen },
              ],
              blocks: recs
                .slice(s * per, (s + 1) * per)
                .map((r, i) => ({ kind: 'epb' as const, interfaceId: i % 2, ...r })),
            }));
            bytes = writePcapng(sections);
            snap = fmt.snaplen === 0 ? Infinity : fmt.snaplen;
          }
          const want = expected(recs, LINKTYPE.RAW, snap);
          const o = await collect(stream(chunkBy(bytes, sizes)), opts);
          expect(o.error).toBeUndefined();
          expect(o.issues).toEqual([]);
          expect(o.packets).toEqual(want);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('readCapture: a real capture', () => {
  const file = fileURLToPath(new URL('../../../captures/lab-mixed.pcap', import.meta.url));

  it('captures/lab-mixed.pcap: every packet is a TCP segment to or from an AJP port, as many as tshark counts', async () => {
    const ports = new Set([28009, 29009, 28109, 29109]);
    let count = 0;
    let payload = 0;
    const issues: CaptureIssue[] = [];
    for await (const p of readCapture(file, { onIssue: (i) => issues.push(i) })) {
      count++;
      expect(p.linkType).toBe(LINKTYPE.ETHERNET);
      const s = decodeTcpSegment(p);
      if (isSkipReason(s)) throw new Error(`packet ${count}: ${s}`);
      expect(ports.has(s.srcPort) || ports.has(s.dstPort)).toBe(true);
      payload += s.payload.length + s.missingBytes;
    }
    expect(issues).toEqual([]);
    expect(count).toBeGreaterThan(100);
    expect(payload).toBeGreaterThan(0);
    const tshark = tsharkFrameCount(file);
    if (tshark !== undefined) expect(count).toBe(tshark);
  });
});

/** Offsets where records end: after the pcap file header and each packet, or after each pcapng block. */
function recordEnds(bytes: Buffer): number[] {
  const ends: number[] = [];
  if (bytes.readUInt32LE(0) === 0x0a0d0d0a) {
    let le = true;
    for (let o = 0; o < bytes.length;) {
      if (bytes.readUInt32LE(o) === 0x0a0d0d0a) le = bytes.readUInt32LE(o + 8) === 0x1a2b3c4d;
      o += le ? bytes.readUInt32LE(o + 4) : bytes.readUInt32BE(o + 4);
      ends.push(o);
    }
    return ends;
  }
  const le = bytes.readUInt32LE(0) === 0xa1b2c3d4 || bytes.readUInt32LE(0) === 0xa1b23c4d;
  for (let o = 24; o <= bytes.length; o += 16 + (le ? bytes.readUInt32LE(o + 8) : bytes.readUInt32BE(o + 8))) {
    ends.push(o);
    if (o === bytes.length) break;
  }
  return ends;
}

/** Frames tshark counts in the file, or undefined when tshark is not installed. */
function tsharkFrameCount(file: string): number | undefined {
  try {
    const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\n').filter((l) => l.trim() !== '').length;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

let tmpDir: string | undefined;
function tmp(): string {
  tmpDir ??= mkdtempSync(join(tmpdir(), 'ajpbench-capture-'));
  return tmpDir;
}
afterAll(() => {
  if (tmpDir !== undefined) rmSync(tmpDir, { recursive: true, force: true });
});

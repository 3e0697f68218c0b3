import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TcpReassembler, type Reassembled } from '../../../src/capture/index.js';

const bytesOf = (out: Reassembled[]): Buffer => Buffer.concat(out.filter((o): o is Buffer => Buffer.isBuffer(o)));

describe('TcpReassembler', () => {
  it('releases in-order segments at once and holds early ones until the gap fills', () => {
    const r = new TcpReassembler();
    expect(bytesOf(r.push(1000, Buffer.from('abc')))).toEqual(Buffer.from('abc'));
    expect(r.push(1006, Buffer.from('ghi'))).toEqual([]);
    expect(r.heldBytes).toBe(3);
    expect(bytesOf(r.push(1003, Buffer.from('def'))).toString()).toBe('defghi');
    expect(r.heldBytes).toBe(0);
  });

  it('drops retransmissions and trims overlaps', () => {
    const r = new TcpReassembler();
    r.push(1, Buffer.from('hello'));
    expect(r.push(1, Buffer.from('hello'))).toEqual([]);
    expect(bytesOf(r.push(4, Buffer.from('lo world'))).toString()).toBe(' world');
  });

  it('works across the 2^32 wrap of sequence numbers', () => {
    const r = new TcpReassembler();
    const start = 2 ** 32 - 2;
    r.start(start);
    expect(r.push(0, Buffer.from('cd'))).toEqual([]);
    expect(bytesOf(r.push(start, Buffer.from('ab'))).toString()).toBe('abcd');
  });

  it('skips a gap that never fills once too much is held, and reports it', () => {
    const r = new TcpReassembler({ maxPending: 4 });
    r.push(0, Buffer.from('a'));
    r.push(10, Buffer.from('xyz'));
    const out = r.push(13, Buffer.from('uv'));
    expect(out).toEqual([{ gap: 9 }, Buffer.from('xyz'), Buffer.from('uv')]);
    expect(r.gaps).toEqual([{ seq: 1, bytes: 9 }]);
  });

  it('releases bytes the snaplen cut off as a gap at their place in the stream', () => {
    const r = new TcpReassembler();
    r.push(0, Buffer.from('ab'));
    expect(r.pushMissing(6, 4)).toEqual([]);
    expect(r.push(2, Buffer.from('cdef'))).toEqual([Buffer.from('cdef'), { gap: 4 }]);
    expect(bytesOf(r.push(10, Buffer.from('z'))).toString()).toBe('z');
  });

  it('flushes what is held behind a hole at the end of the stream', () => {
    const r = new TcpReassembler();
    r.push(0, Buffer.from('a'));
    r.push(5, Buffer.from('f'));
    expect(r.flush()).toEqual([{ gap: 4 }, Buffer.from('f')]);
  });

  it('rebuilds any stream from shuffled, duplicated segments', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.nat(),
        (bytes, cuts, isn, seed) => {
          const data = Buffer.from(bytes);
          const points = [...new Set([0, ...cuts.map((c) => c % data.length), data.length])].sort((a, b) => a - b);
          const segments = points
            .slice(1)
            .map((end, i) => ({ at: points[i] as number, data: data.subarray(points[i], end) }));
          const sent = [...segments, ...segments.filter((_, i) => (seed >> i) & 1)]; // some twice
          sent.sort((a, b) => ((a.at * 7919 + seed) % 101) - ((b.at * 7919 + seed) % 101)); // a shuffle
          const r = new TcpReassembler();
          r.start(isn);
          const out: Buffer[] = [];
          for (const s of sent) out.push(bytesOf(r.push((isn + s.at) % 2 ** 32, s.data)));
          expect(Buffer.concat(out).equals(data)).toBe(true);
        },
      ),
    );
  });
});

describe('TcpReassembler.acknowledged', () => {
  it('turns a hole the peer has acknowledged into a gap at once and releases what waited behind it', () => {
    const r = new TcpReassembler();
    r.push(100, Buffer.from('cping'));
    expect(r.push(110, Buffer.from('request'))).toEqual([]); // 105..110 not captured
    expect(r.acknowledged(110)).toEqual([{ gap: 5 }, Buffer.from('request')]);
    expect(r.gaps).toEqual([{ seq: 105, bytes: 5 }]);
  });

  it('does nothing for an acknowledgement of bytes already seen, or before the stream started', () => {
    const r = new TcpReassembler();
    expect(r.acknowledged(5)).toEqual([]);
    r.push(0, Buffer.from('abc'));
    expect(r.acknowledged(3)).toEqual([]);
    expect(r.acknowledged(2)).toEqual([]);
  });

  it('declares a trailing hole up to the acknowledgement even with nothing held', () => {
    const r = new TcpReassembler();
    r.push(0, Buffer.from('abc'));
    expect(r.acknowledged(10)).toEqual([{ gap: 7 }]);
    expect(bytesOf(r.push(10, Buffer.from('k')))).toEqual(Buffer.from('k'));
  });
});

describe('TcpReassembler and FIN', () => {
  it('does not take the acknowledgement of a FIN for missing data', () => {
    const r = new TcpReassembler();
    r.push(0, Buffer.from('abc'));
    r.finished(3);
    expect(r.acknowledged(4)).toEqual([]);
  });
});

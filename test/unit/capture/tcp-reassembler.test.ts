import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TcpReassembler } from '../../../src/capture/index.js';

describe('TcpReassembler', () => {
  it('releases in-order segments at once and holds early ones until the gap fills', () => {
    const r = new TcpReassembler();
    expect(Buffer.concat(r.push(1000, Buffer.from('abc')))).toEqual(Buffer.from('abc'));
    expect(r.push(1006, Buffer.from('ghi'))).toEqual([]);
    expect(r.heldBytes).toBe(3);
    expect(Buffer.concat(r.push(1003, Buffer.from('def'))).toString()).toBe('defghi');
    expect(r.heldBytes).toBe(0);
  });

  it('drops retransmissions and trims overlaps', () => {
    const r = new TcpReassembler();
    r.push(1, Buffer.from('hello'));
    expect(r.push(1, Buffer.from('hello'))).toEqual([]);
    expect(Buffer.concat(r.push(4, Buffer.from('lo world'))).toString()).toBe(' world');
  });

  it('works across the 2^32 wrap of sequence numbers', () => {
    const r = new TcpReassembler();
    const start = 2 ** 32 - 2;
    r.start(start);
    expect(r.push(0, Buffer.from('cd'))).toEqual([]);
    expect(Buffer.concat(r.push(start, Buffer.from('ab'))).toString()).toBe('abcd');
  });

  it('skips a gap that never fills once too much is held, and reports it', () => {
    const r = new TcpReassembler({ maxPending: 4 });
    r.push(0, Buffer.from('a'));
    r.push(10, Buffer.from('xyz'));
    const out = r.push(13, Buffer.from('uv'));
    expect(Buffer.concat(out).toString()).toBe('xyzuv');
    expect(r.gaps).toEqual([{ seq: 1, bytes: 9 }]);
  });

  it('rebuilds any stream from shuffled, duplicated segments', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.nat(), (bytes, cuts, isn, seed) => {
        const data = Buffer.from(bytes);
        const points = [...new Set([0, ...cuts.map((c) => c % data.length), data.length])].sort((a, b) => a - b);
        const segments = points.slice(1).map((end, i) => ({ at: points[i] as number, data: data.subarray(points[i], end) }));
        const sent = [...segments, ...segments.filter((_, i) => (seed >> i) & 1)]; // some twice
        sent.sort((a, b) => ((a.at * 7919 + seed) % 101) - ((b.at * 7919 + seed) % 101)); // a shuffle
        const r = new TcpReassembler();
        r.start(isn);
        const out: Buffer[] = [];
        for (const s of sent) out.push(...r.push((isn + s.at) % 2 ** 32, s.data));
        expect(Buffer.concat(out).equals(data)).toBe(true);
      }),
    );
  });
});

/**
 * One direction alone (`decode --direction auto` on the web-server→container bytes): Get Body
 * Chunks are invisible, so body packets are told by the Forward Request's Content-Length and by
 * their own shape. Checked on the real mod_jk and mod_proxy_ajp connections of captures/, message
 * by message, against the decode that sees both directions.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTcpSegment, readCaptureBatches, TcpReassembler } from '../../../src/capture/index.js';
import { ConversationDecoder, type AjpMessage, type Direction, type FrameInfo } from '../../../src/protocol/index.js';
import { decodeChunks, plain } from './helpers.js';

const captures = join(import.meta.dirname, '../../../captures');

interface Connection {
  key: string;
  /** Each direction's bytes in capture order, both directions interleaved as they were seen. */
  chunks: { direction: Direction; data: Buffer }[];
}

/** The AJP connections of a capture (AJP ports given), reassembled; a loss would fail the test. */
async function connections(file: string, ports: readonly number[]): Promise<Connection[]> {
  const byKey = new Map<string, Connection & { tcp: Record<Direction, TcpReassembler> }>();
  for await (const batch of readCaptureBatches(file)) {
    for (const packet of batch) {
      const seg = decodeTcpSegment(packet);
      if (typeof seg === 'string') continue;
      const direction: Direction = ports.includes(seg.dstPort) ? 'to-container' : 'to-web-server';
      const key = direction === 'to-container' ? `${seg.srcPort}>${seg.dstPort}` : `${seg.dstPort}>${seg.srcPort}`;
      let c = byKey.get(key);
      if (c === undefined) {
        c = { key, chunks: [], tcp: { 'to-container': new TcpReassembler(), 'to-web-server': new TcpReassembler() } };
        byKey.set(key, c);
      }
      if (seg.flags.syn) {
        c.tcp[direction].start(seg.seq + 1);
        continue;
      }
      for (const data of c.tcp[direction].push(seg.seq, seg.payload)) {
        if (!Buffer.isBuffer(data)) throw new Error(`${file}: ${data.gap} byte(s) lost in ${key} ${direction}`);
        c.chunks.push({ direction, data });
      }
    }
  }
  return [...byKey.values()].map(({ key, chunks }) => ({ key, chunks }));
}

type Decoded = { msg: unknown; offset: number; length: number } | { error: string; offset: number };

function twoDirections(c: Connection): Decoded[] {
  const out: Decoded[] = [];
  const dec = new ConversationDecoder();
  const sink = {
    message: (msg: AjpMessage, info: FrameInfo) => {
      if (info.direction === 'to-container') out.push({ msg: plain(msg), offset: info.offset, length: info.length });
    },
    error: (e: { code: string; offset: number }) => out.push({ error: e.code, offset: e.offset }),
  };
  for (const { direction, data } of c.chunks) dec.push(direction, data, sink);
  dec.end(sink);
  return out;
}

function oneDirection(c: Connection, chunks: 'as captured' | 'whole'): Decoded[] {
  const parts = c.chunks.filter((p) => p.direction === 'to-container').map((p) => p.data);
  const out = decodeChunks('to-container', chunks === 'whole' ? [Buffer.concat(parts)] : parts);
  return [
    ...out.messages.map(({ msg, info }) => ({ msg: plain(msg), offset: info.offset, length: info.length })),
    ...out.errors.map((e) => ({ error: e.code, offset: e.offset })),
  ];
}

const isEmptyBody = (d: Decoded): boolean =>
  'msg' in d && (d.msg as { type: string }).type === 'body' && d.length === 6;

/** mod_jk sends its load balancer's req_attribute with every Forward Request; mod_proxy_ajp does not. */
function frontEnd(decoded: Decoded[]): 'mod_jk' | 'mod_proxy_ajp' | undefined {
  const fr = decoded.find((d) => 'msg' in d && (d.msg as { type: string }).type === 'forward-request');
  if (fr === undefined || !('msg' in fr)) return undefined;
  const attrs = (fr.msg as { attributes: { name: string; key?: string }[] }).attributes;
  return attrs.some((a) => a.key === 'JK_LB_ACTIVATION') ? 'mod_jk' : 'mod_proxy_ajp';
}

describe('lab-mixed.pcap, web server → container only', () => {
  const file = 'lab-mixed.pcap';
  const ports = [28009, 29009, 28109, 29109];
  it('decodes every message as the two-direction decode does, the empty body packets included', async () => {
    const conns = await connections(join(captures, file), ports);
    const seen = { mod_jk: 0, mod_proxy_ajp: 0, emptyBodies: 0, messages: 0 };
    for (const c of conns) {
      const want = twoDirections(c);
      expect(
        want.filter((d) => 'error' in d),
        c.key,
      ).toEqual([]);
      expect(oneDirection(c, 'as captured'), c.key).toEqual(want);
      expect(oneDirection(c, 'whole'), c.key).toEqual(want);
      const fe = frontEnd(want);
      if (fe !== undefined) seen[fe]++;
      seen.emptyBodies += want.filter(isEmptyBody).length;
      seen.messages += want.length;
    }
    // The comparison means something only if both front ends and the empty body packet are there.
    expect(seen.mod_jk).toBeGreaterThan(0);
    expect(seen.mod_proxy_ajp).toBeGreaterThan(0);
    expect(seen.emptyBodies).toBeGreaterThanOrEqual(5);
    expect(seen.messages).toBeGreaterThan(50);
  });
});

describe('one direction: a self-consistent body packet', () => {
  const frame = (payload: Buffer): Buffer => {
    const h = Buffer.from([0x12, 0x34, 0, 0]);
    h.writeUInt16BE(payload.length, 2);
    return Buffer.concat([h, payload]);
  };
  const cping = Buffer.from('12340001' + '0a', 'hex');

  it('12 34 00 02 00 00 after a CPing is an empty body, not an unknown type 0x00', () => {
    const out = decodeChunks('to-container', [cping, Buffer.from('123400020000', 'hex')]);
    expect(out.errors).toEqual([]);
    expect(out.messages.map((m) => plain(m.msg))).toEqual([{ type: 'cping' }, { type: 'body', data: '' }]);
  });

  it('a body whose first byte is no message type is a body, whatever the state', () => {
    const data = Buffer.from('hello=1');
    const payload = Buffer.concat([Buffer.from([0, data.length]), data]);
    const out = decodeChunks('to-container', [cping, frame(payload)]);
    expect(out.errors).toEqual([]);
    expect(plain(out.messages[1]?.msg as AjpMessage)).toEqual({ type: 'body', data: data.toString('hex') });
  });

  it('a 514-byte body (u16 0x0202, first byte the Forward Request type) that is no message is a body', () => {
    const data = Buffer.alloc(0x0202, 0x61);
    const payload = Buffer.concat([Buffer.from([0x02, 0x02]), data]);
    const out = decodeChunks('to-container', [cping, frame(payload)]);
    expect(out.errors).toEqual([]);
    expect(out.messages[1]?.msg.type).toBe('body');
  });

  it('a payload that is not self-consistent stays a message and its unknown type is reported', () => {
    const out = decodeChunks('to-container', [cping, frame(Buffer.from([0x00, 0x05, 0x01]))]);
    expect(out.errors.map((e) => e.code)).toEqual(['AJP_ERR_UNKNOWN_TYPE']);
  });
});

/**
 * Turns a capture's TCP segments (as tshark lists them) into each connection's byte streams, in
 * capture order across both directions, which is the order a conversation decoder needs.
 */
import { TcpReassembler } from '../../src/capture/index.js';
import type { Direction } from '../../src/protocol/index.js';
import type { Segment } from './tshark.js';

export interface StreamChunk {
  stream: number;
  direction: Direction;
  data: Buffer;
}

export function reassembleSegments(segments: readonly Segment[]): StreamChunk[] {
  const tcp = new Map<string, TcpReassembler>();
  const out: StreamChunk[] = [];
  for (const seg of segments) {
    const key = `${seg.stream}/${seg.direction}`;
    let r = tcp.get(key);
    if (r === undefined) tcp.set(key, (r = new TcpReassembler()));
    if (seg.syn) {
      r.start(seg.seq + 1);
      continue;
    }
    for (const data of r.push(seg.seq, seg.payload)) {
      // A loopback capture of the lab loses nothing; if it did, every comparison after it would mislead.
      if (!Buffer.isBuffer(data))
        throw new Error(`capture lost ${data.gap} byte(s) in stream ${seg.stream} ${seg.direction}`);
      out.push({ stream: seg.stream, direction: seg.direction, data });
    }
  }
  return out;
}

/** All bytes of one direction of one connection. */
export function directionBytes(chunks: readonly StreamChunk[], stream: number, direction: Direction): Buffer {
  return Buffer.concat(chunks.filter((c) => c.stream === stream && c.direction === direction).map((c) => c.data));
}

/** Property tests: round trips over random messages, and robustness over random and mutated bytes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AjpEncoder,
  AjpProtocolError,
  ConversationDecoder,
  FrameDecoder,
  type AjpMessage,
  type Direction,
  type ToContainerMessage,
} from '../../../src/protocol/index.js';
import { forwardRequest, toContainerMessage, toWebServerMessage } from './arbitraries.js';
import { decodeChunks, plain, splitAt } from './helpers.js';

const enc = new AjpEncoder({ maxPacketSize: 65536 });
const big = { maxPacketSize: 65536 };

function directionOf(msg: AjpMessage): Direction {
  return ['forward-request', 'body', 'shutdown', 'ping', 'cping'].includes(msg.type) ? 'to-container' : 'to-web-server';
}

describe('round trips', () => {
  it('decode(encode(message)) equals the message, for every message type', () => {
    fc.assert(
      fc.property(fc.oneof(toContainerMessage, toWebServerMessage), (msg) => {
        // Strict mode rejects an unpadded chunk as mod_proxy_ajp does (§5.2); lenient accepts it.
        const strict = !(msg.type === 'send-body-chunk' && msg.unpadded === true);
        const out = decodeChunks(directionOf(msg), [enc.encode(msg)], { ...big, oneSided: false, strict });
        expect(out.errors).toEqual([]);
        expect(out.messages.map((m) => plain(m.msg))).toEqual([plain(msg)]);
      }),
      { numRuns: 400 },
    );
  });

  it('encode(decode(bytes)) gives back the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(toContainerMessage, toWebServerMessage), (msg) => {
        const bytes = Buffer.from(enc.encode(msg));
        const out = decodeChunks(directionOf(msg), [bytes], { ...big, oneSided: false });
        expect(enc.encode((out.messages[0] as { msg: AjpMessage }).msg).equals(bytes)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('a stream of messages split at random points decodes to the same messages', () => {
    fc.assert(
      fc.property(
        fc.array(toWebServerMessage, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (msgs, rawCuts) => {
          const stream = Buffer.concat(msgs.map((m) => Buffer.from(enc.encode(m))));
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))];
          const out = decodeChunks('to-web-server', splitAt(stream, cuts), big);
          expect(out.errors).toEqual([]);
          expect(out.messages.map((m) => plain(m.msg))).toEqual(msgs.map(plain));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('request bodies are told from messages by the exchange state, whatever their bytes', () => {
    fc.assert(
      fc.property(forwardRequest, fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.nat(), (req, body, cut) => {
        const withLength: ToContainerMessage = {
          ...req,
          headers: [
            ...req.headers.filter((h) => h.name.toLowerCase() !== 'content-length'),
            { name: 'content-length', value: String(body.length), coded: true },
          ],
        };
        const bytes = Buffer.from(body);
        const first = bytes.subarray(0, 1000);
        const rest = bytes.subarray(1000);
        // Two-sided: FR, first body unasked, GBC, next body, empty end.
        const dec = new ConversationDecoder(big);
        const seen: string[] = [];
        const sink = {
          message: (m: AjpMessage) => seen.push(m.type),
          error: (e: AjpProtocolError) => seen.push(e.code),
        };
        const c2 = Buffer.concat([Buffer.from(enc.encode(withLength)), Buffer.from(enc.body(first))]);
        for (const piece of splitAt(c2, [cut % (c2.length + 1)])) dec.push('to-container', piece, sink);
        dec.push('to-web-server', enc.getBodyChunk(8186), sink);
        dec.push('to-container', Buffer.concat([Buffer.from(enc.body(rest))]), sink);
        dec.push('to-web-server', enc.endResponse(true), sink);
        dec.push('to-container', enc.encode({ type: 'cping' }), sink);
        dec.end(sink);
        expect(seen).toEqual(['forward-request', 'body', 'get-body-chunk', 'body', 'end-response', 'cping']);
      }),
      { numRuns: 200 },
    );
  });
});

describe('robustness', () => {
  const bothDirections: Direction[] = ['to-container', 'to-web-server'];

  it('random bytes never throw, always terminate, and hold at most maxPacketSize', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 600 })), { maxLength: 20 }),
        fc.constantFrom(...bothDirections),
        (chunks, direction) => {
          const dec = new ConversationDecoder({ oneSided: direction === 'to-container' });
          const sink = {
            message: () => undefined,
            error: (e: AjpProtocolError) => expect(e).toBeInstanceOf(AjpProtocolError),
          };
          // Some chunks start with a valid header of a large frame, so frames really are in progress.
          const header = direction === 'to-container' ? [0x12, 0x34, 0x1f, 0xfc, 0x02] : [0x41, 0x42, 0x1f, 0xfc, 0x04];
          for (const [framed, bytes] of chunks) {
            const c = framed ? Uint8Array.from([...header, ...bytes]) : bytes;
            dec.push(direction, Buffer.from(c), sink);
            expect(dec.bufferedBytes).toBeLessThanOrEqual(8192);
          }
          dec.end(sink);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('mutated payloads give per-frame typed errors and leave every frame boundary intact', () => {
    fc.assert(
      fc.property(
        fc.array(toWebServerMessage, { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (msgs, mutations) => {
          const frames = msgs.map((m) => Buffer.from(enc.encode(m)));
          const stream = Buffer.concat(frames);
          // Payload bytes only: a frame's own length is never touched, so framing must hold.
          const payloadOffsets: number[] = [];
          let at = 0;
          for (const f of frames) {
            for (let i = 4; i < f.length; i++) payloadOffsets.push(at + i);
            at += f.length;
          }
          fc.pre(payloadOffsets.length > 0);
          for (const [pick, value] of mutations) stream[payloadOffsets[pick % payloadOffsets.length] as number] = value;
          const out = decodeChunks('to-web-server', [stream, enc.endResponse(false)], big);
          expect(out.messages.length + out.errors.length).toBe(frames.length + 1);
          for (const e of out.errors) {
            expect(e).toBeInstanceOf(AjpProtocolError);
            expect(e.skipped).toBe(0);
            expect(e.offset).toBeLessThan(stream.length);
          }
          expect(out.messages[out.messages.length - 1]?.msg).toEqual({ type: 'end-response', reuse: false });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('mutated headers resynchronise: typed errors, offsets inside the stream, skipped bytes accounted for', () => {
    fc.assert(
      fc.property(
        fc.array(toWebServerMessage, { minLength: 2, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (msgs, mutations) => {
          const stream = Buffer.concat(msgs.map((m) => Buffer.from(enc.encode(m))));
          for (const [pick, value] of mutations) stream[pick % stream.length] = value;
          const out = decodeChunks('to-web-server', [stream], { maxPacketSize: 8192 });
          let skipped = 0;
          for (const e of out.errors) {
            expect(e).toBeInstanceOf(AjpProtocolError);
            expect(e.offset).toBeGreaterThanOrEqual(0);
            expect(e.offset + e.skipped).toBeLessThanOrEqual(stream.length);
            skipped += e.skipped;
          }
          // Every decoded frame is a real frame of the stream, in order, none overlapping another or
          // a range reported skipped: its magic and length field at its offset, inside the stream.
          let end = 0;
          for (const { info } of out.messages) {
            expect(info.offset).toBeGreaterThanOrEqual(end);
            expect(info.offset + info.length).toBeLessThanOrEqual(stream.length);
            expect(stream.readUInt16BE(info.offset)).toBe(0x4142);
            expect(stream.readUInt16BE(info.offset + 2)).toBe(info.length - 4);
            for (const e of out.errors) {
              if (e.skipped === 0) continue;
              const inside = e.offset < info.offset + info.length && info.offset < e.offset + e.skipped;
              expect(inside, `skipped ${e.offset}+${e.skipped} overlaps a frame at ${info.offset}`).toBe(false);
            }
            end = info.offset + info.length;
          }
          expect(skipped).toBeLessThanOrEqual(stream.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a frame decoder in stop mode reports once and then ignores everything', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 200 }), (junk) => {
        fc.pre(!(junk[0] === 0x41 && junk[1] === 0x42));
        const dec = new FrameDecoder({ direction: 'to-web-server', onInvalid: 'stop' });
        const errors: AjpProtocolError[] = [];
        let frames = 0;
        const sink = { frame: () => frames++, error: (e: AjpProtocolError) => errors.push(e) };
        dec.push(Buffer.from(junk), sink);
        dec.push(enc.endResponse(true), sink);
        dec.end(sink);
        expect(errors).toHaveLength(1);
        expect(errors[0]?.code).toBe('AJP_ERR_BAD_MAGIC');
        expect(frames).toBe(0);
      }),
    );
  });
});

/**
 * shared/ajp13.md §10 test vectors, each tested three ways (mqtt-packet style): bytes → message,
 * message → exactly the bytes, and split at every offset.
 */
import { describe, expect, it } from 'vitest';
import type { AjpMessage, Direction } from '../../../src/protocol/index.js';
import * as V from '../../fixtures/vectors.js';
import { decodeChunks, decodeOne, encoder, plain, splitAt } from './helpers.js';

interface Case {
  name: string;
  direction: Direction;
  bytes: Buffer;
  message: AjpMessage;
  /** Frames that follow a Forward Request with a body need it before them to be read as bodies. */
  context?: Buffer;
}

const cases: Case[] = [
  { name: 'V1 CPing', direction: 'to-container', bytes: V.V1_CPING, message: { type: 'cping' } },
  { name: 'V2 CPong', direction: 'to-web-server', bytes: V.V2_CPONG, message: { type: 'cpong' } },
  {
    name: 'V3 minimal GET',
    direction: 'to-container',
    bytes: V.V3_MINIMAL_GET,
    message: {
      type: 'forward-request',
      method: 'GET',
      methodCode: 2,
      protocol: 'HTTP/1.1',
      uri: '/',
      remoteAddr: '127.0.0.1',
      remoteHost: null,
      serverName: 'localhost',
      serverPort: 80,
      isSsl: false,
      headers: [
        { name: 'host', value: 'localhost', coded: true },
        { name: 'X-Id', value: '7', coded: false },
      ],
      attributes: [],
    },
  },
  {
    name: 'V4 POST with attributes',
    direction: 'to-container',
    bytes: V.V4_POST_ATTRIBUTES,
    message: {
      type: 'forward-request',
      method: 'POST',
      methodCode: 4,
      protocol: 'HTTP/1.1',
      uri: '/up',
      remoteAddr: '10.0.0.9',
      remoteHost: '10.0.0.9',
      serverName: 'example.com',
      serverPort: 443,
      isSsl: true,
      headers: [
        { name: 'content-length', value: '5', coded: true },
        { name: 'content-type', value: 'text/plain', coded: true },
      ],
      attributes: [
        { name: 'secret', value: 's3cr3t' },
        { name: 'query_string', value: 'a=1' },
        { name: 'ssl_key_size', value: 256 },
        { name: 'req_attribute', key: 'AJP_REMOTE_PORT', value: '5555' },
      ],
    },
  },
  {
    name: 'V5 first body packet',
    direction: 'to-container',
    bytes: V.V5_FIRST_BODY,
    message: { type: 'body', data: Buffer.from('hello') },
    context: V.V4_POST_ATTRIBUTES,
  },
  {
    name: 'V6 end of body, mod_jk form',
    direction: 'to-container',
    bytes: V.V6_END_OF_BODY_JK,
    message: { type: 'body', data: Buffer.alloc(0), bare: true },
  },
  {
    name: 'V6 end of body, mod_proxy_ajp form',
    direction: 'to-container',
    bytes: V.V6_END_OF_BODY_PROXY,
    message: { type: 'body', data: Buffer.alloc(0) },
    context: V.V4_POST_ATTRIBUTES,
  },
  {
    name: 'V7 Get Body Chunk',
    direction: 'to-web-server',
    bytes: V.V7_GET_BODY_CHUNK,
    message: { type: 'get-body-chunk', requestedLength: 8186 },
  },
  {
    name: 'V8 Send Headers',
    direction: 'to-web-server',
    bytes: V.V8_SEND_HEADERS,
    message: {
      type: 'send-headers',
      status: 200,
      message: 'OK',
      headers: [{ name: 'Content-Type', value: 'text/plain', coded: true }],
    },
  },
  {
    name: 'V9 Send Body Chunk',
    direction: 'to-web-server',
    bytes: V.V9_SEND_BODY_CHUNK,
    message: { type: 'send-body-chunk', data: Buffer.from('hello') },
  },
  {
    name: 'flush chunk',
    direction: 'to-web-server',
    bytes: V.FLUSH_CHUNK,
    message: { type: 'send-body-chunk', data: Buffer.alloc(0) },
  },
  {
    name: 'V10 End Response',
    direction: 'to-web-server',
    bytes: V.V10_END_RESPONSE,
    message: { type: 'end-response', reuse: true },
  },
  { name: 'Shutdown', direction: 'to-container', bytes: V.SHUTDOWN, message: { type: 'shutdown' } },
];

function decodeInContext(c: Case, chunks: Buffer[]) {
  const out = decodeChunks(c.direction, c.context === undefined ? chunks : [c.context, ...chunks]);
  return { errors: out.errors, messages: out.messages.slice(c.context === undefined ? 0 : 1) };
}

describe('shared/ajp13.md §10 vectors', () => {
  for (const c of cases) {
    describe(c.name, () => {
      it('decodes to the expected message', () => {
        const out = decodeInContext(c, [c.bytes]);
        expect(out.errors).toEqual([]);
        expect(out.messages.map((m) => plain(m.msg))).toEqual([plain(c.message)]);
        expect(out.messages[0]?.info.length).toBe(c.bytes.length);
      });

      it('encodes to exactly the vector bytes', () => {
        expect(encoder.encode(c.message).toString('hex')).toBe(c.bytes.toString('hex'));
      });

      it('decodes the same when split at every offset, and at every pair of offsets', () => {
        const whole = plain(c.message);
        for (let i = 1; i < c.bytes.length; i++) {
          const out = decodeInContext(c, [c.bytes.subarray(0, i), c.bytes.subarray(i)]);
          expect(out.errors, `split at ${i}`).toEqual([]);
          expect(
            out.messages.map((m) => plain(m.msg)),
            `split at ${i}`,
          ).toEqual([whole]);
          for (let j = i + 1; j < c.bytes.length; j++) {
            const three = decodeInContext(c, splitAt(c.bytes, [i, j]));
            expect(
              three.messages.map((m) => plain(m.msg)),
              `split at ${i},${j}`,
            ).toEqual([whole]);
          }
        }
      });
    });
  }

  it('tells the V5 body from a message only by the exchange state (its first byte is 00)', () => {
    // Alone and without context the §9 fallback applies: u16(00 05) == N - 2, so a body.
    expect(decodeOne('to-container', V.V5_FIRST_BODY)).toMatchObject({ type: 'body' });
  });

  it('decodes a whole POST exchange fed as one chunk with many frames', () => {
    const stream = Buffer.concat([V.V1_CPING, V.V4_POST_ATTRIBUTES, V.V5_FIRST_BODY, V.V3_MINIMAL_GET]);
    const out = decodeChunks('to-container', [stream]);
    expect(out.errors).toEqual([]);
    expect(out.messages.map((m) => m.msg.type)).toEqual(['cping', 'forward-request', 'body', 'forward-request']);
    expect(out.messages.map((m) => m.info.offset)).toEqual([0, 5, 5 + 132, 5 + 132 + 11]);
  });
});

/**
 * Salvage: a message decoded from the first bytes of its frame (a capture's snaplen or a lost
 * segment cut it). At every cut point, every field before the one named as cut is exact, lists hold
 * only whole entries, and frame sync survives a gap inside a frame.
 */
import { describe, expect, it } from 'vitest';
import {
  AjpEncoder,
  ConversationDecoder,
  FORWARD_REQUEST_FIELDS,
  FrameDecoder,
  type AjpMessage,
  type ForwardRequest,
  type FrameInfo,
  type PrefixField,
  type SendHeaders,
} from '../../../src/protocol/index.js';
import { decodePrefix } from '../../../src/protocol/message-decoder.js';

const enc = new AjpEncoder();

const fr: ForwardRequest = {
  type: 'forward-request',
  method: 'POST',
  protocol: 'HTTP/1.1',
  uri: '/app/echo.jsp',
  remoteAddr: '127.0.0.1',
  remoteHost: null,
  serverName: 'localhost',
  serverPort: 8080,
  isSsl: false,
  headers: [
    { name: 'host', value: 'localhost:8080', coded: true },
    { name: 'X-Trace', value: 'abc', coded: false },
    { name: 'content-length', value: '11', coded: true },
  ],
  attributes: [
    { name: 'route', value: 'tomcat1' },
    { name: 'req_attribute', key: 'AJP_REMOTE_PORT', value: '40000' },
  ],
};

const FR_ORDER: readonly PrefixField[] = FORWARD_REQUEST_FIELDS;

describe('decodePrefix', () => {
  it('a Forward Request cut at every byte: fields before the cut exact, whole headers only, the cut string kept in part', () => {
    const payload = enc.forwardRequest(fr).subarray(4);
    const whole = { ...fr, methodCode: 4 };
    const seen = new Set<PrefixField | undefined>();
    for (let n = 2; n < payload.length; n++) {
      const out = decodePrefix('to-container', Buffer.from(payload.subarray(0, n)));
      expect(out, `prefix ${n}`).toBeDefined();
      if (out === undefined) continue;
      const { msg, cutAt } = out as { msg: ForwardRequest; cutAt: PrefixField };
      seen.add(cutAt);
      expect(msg.type).toBe('forward-request');
      const before = FR_ORDER.slice(0, FR_ORDER.indexOf(cutAt));
      for (const field of before)
        expect(msg[field as keyof ForwardRequest], `${field} at ${n}`).toEqual(whole[field as keyof ForwardRequest]);
      expect(whole.headers.slice(0, msg.headers.length)).toEqual(msg.headers);
      if (cutAt !== 'headers' && cutAt !== 'attributes') expect(msg.headers).toEqual([]);
      if (cutAt === 'uri' && msg.uri !== null) expect(fr.uri?.startsWith(msg.uri)).toBe(true);
    }
    expect([...seen]).toEqual([
      'protocol',
      'uri',
      'remoteAddr',
      'remoteHost',
      'serverName',
      'serverPort',
      'isSsl',
      'headers',
      'attributes',
    ]);
  });

  it('Send Headers cut at every byte: status, then message, then whole headers', () => {
    const sh: SendHeaders = {
      type: 'send-headers',
      status: 302,
      message: 'Found',
      headers: [
        { name: 'Location', value: '/app/next', coded: true },
        { name: 'X-Served-By', value: 'tomcat1', coded: false },
      ],
    };
    const payload = enc.encode(sh).subarray(4);
    for (let n = 1; n < payload.length; n++) {
      const out = decodePrefix('to-web-server', Buffer.from(payload.subarray(0, n)));
      if (n < 3) {
        expect(out?.cutAt ?? 'status').toBe('status');
        continue;
      }
      const msg = out?.msg as SendHeaders;
      expect(msg.status, `prefix ${n}`).toBe(302);
      expect(sh.headers.slice(0, msg.headers.length)).toEqual(msg.headers);
      if (out?.cutAt === 'headers') expect(msg.message).toBe('Found');
    }
  });

  it('a body packet and a Send Body Chunk keep the data captured', () => {
    expect(decodePrefix('to-container', Buffer.from('0010616263', 'hex'), true)).toEqual({
      msg: { type: 'body', data: Buffer.from('abc') },
      cutAt: 'data',
    });
    expect(decodePrefix('to-web-server', Buffer.from('030010616263', 'hex'))).toEqual({
      msg: { type: 'send-body-chunk', data: Buffer.from('abc') },
      cutAt: 'data',
    });
  });
});

describe('a gap inside a frame', () => {
  it('FrameDecoder: the frame comes out in part, its rest is skipped, the next frame decodes in sync', () => {
    const a = enc.sendBodyChunk(Buffer.alloc(100, 0x61));
    const b = enc.endResponse(true);
    const d = new FrameDecoder({ direction: 'to-web-server' });
    const out: string[] = [];
    const sink = {
      frame: (p: Buffer, offset: number) => out.push(`frame ${offset} ${p.length}`),
      error: (e: { code: string }) => out.push(e.code),
      partial: (p: Buffer, offset: number, _d: unknown, length: number) =>
        out.push(`partial ${offset} ${p.length}/${length}`),
    };
    d.push(a.subarray(0, 30), sink);
    expect(d.gap(40, sink)).toBe(true); // bytes 30-69 of a 108-byte frame
    d.push(Buffer.concat([a.subarray(70), b]), sink);
    expect(out).toEqual(['partial 0 26/108', `frame ${a.length} 2`]);
  });

  it('a gap that runs past the frame end loses sync: false, and decoding resumes on the next plausible frame', () => {
    const a = enc.sendBodyChunk(Buffer.alloc(100, 0x61));
    const b = enc.endResponse(true);
    const d = new FrameDecoder({ direction: 'to-web-server' });
    const out: string[] = [];
    const sink = {
      frame: (_p: Buffer, offset: number) => out.push(`frame ${offset}`),
      error: (e: { code: string }) => out.push(e.code),
      partial: () => out.push('partial'),
    };
    d.push(a.subarray(0, 30), sink);
    expect(d.gap(a.length - 30 + 3, sink)).toBe(false);
    d.push(Buffer.concat([b.subarray(3), b]), sink);
    expect(out).toEqual(['partial', 'AJP_ERR_RESYNC', `frame ${a.length + b.length}`]);
  });

  it('ConversationDecoder: a Forward Request cut in its attributes keeps the exchange state (the body after it is a body)', () => {
    const frBytes = enc.forwardRequest(fr);
    const body = enc.body(Buffer.from('hello world'));
    const msgs: [AjpMessage['type'], FrameInfo['cut']][] = [];
    const errors: string[] = [];
    const dec = new ConversationDecoder();
    const sink = {
      message: (m: AjpMessage, info: FrameInfo) => msgs.push([m.type, info.cut]),
      error: (e: { code: string }) => errors.push(e.code),
    };
    const cut = frBytes.length - 20;
    dec.push('to-container', frBytes.subarray(0, cut), sink);
    expect(dec.gap('to-container', 20, sink)).toBe(true);
    dec.push('to-container', body, sink);
    expect(errors).toEqual([]);
    expect(msgs).toEqual([
      ['forward-request', { captured: cut, cutAt: 'attributes' }],
      ['body', undefined],
    ]);
  });
});

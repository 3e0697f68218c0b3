/** Per-message behaviour beyond the spec vectors: every method, every attribute, names, nulls, limits, errors. */
import { describe, expect, it } from 'vitest';
import {
  AjpEncodeError,
  AjpEncoder,
  FrameDecoder,
  METHOD_NAMES,
  decodeToContainer,
  decodeToWebServer,
  findAttribute,
  findHeader,
  utf8View,
  type AjpProtocolError,
  type ForwardRequest,
  type SendHeaders,
} from '../../../src/protocol/index.js';
import {
  V3_MINIMAL_GET,
  V4_POST_ATTRIBUTES,
  V8_SEND_HEADERS,
  V9_SEND_BODY_CHUNK,
  hex,
} from '../../fixtures/vectors.js';
import { decodeChunks, decodeOne, encoder } from './helpers.js';

function request(over: Partial<ForwardRequest> = {}): ForwardRequest {
  return {
    type: 'forward-request',
    method: 'GET',
    protocol: 'HTTP/1.1',
    uri: '/',
    remoteAddr: '127.0.0.1',
    remoteHost: null,
    serverName: 'localhost',
    serverPort: 80,
    isSsl: false,
    headers: [],
    attributes: [],
    ...over,
  };
}

describe('Forward Request', () => {
  it('round-trips every method code 1–27 with its table name', () => {
    for (let code = 1; code <= 27; code++) {
      const name = METHOD_NAMES[code] as string;
      const msg = decodeOne('to-container', encoder.forwardRequest(request({ method: name })));
      expect(msg).toMatchObject({ method: name, methodCode: code });
    }
    expect(METHOD_NAMES[26]).toBe('BASELINE-CONTROL');
  });

  it('sends an unlisted method as 0xFF plus stored_method, and decodes it back to the method', () => {
    const bytes = encoder.forwardRequest(request({ method: 'PATCH' }));
    expect(bytes[5]).toBe(0xff);
    const msg = decodeOne('to-container', bytes) as ForwardRequest;
    expect(msg.method).toBe('PATCH');
    expect(msg.methodCode).toBe(0xff);
    expect(findAttribute(msg, 'stored_method')).toBe('PATCH');
  });

  it('rejects method codes 0 and 28–254, and 0xFF without stored_method', () => {
    for (const code of [0, 28, 254]) {
      const bytes = Buffer.from(V3_MINIMAL_GET);
      bytes[5] = code;
      expect(() => decodeToContainer(bytes.subarray(4))).toThrow(/method code/);
    }
    const stored = Buffer.from(V3_MINIMAL_GET);
    stored[5] = 0xff;
    expect(() => decodeToContainer(stored.subarray(4))).toThrow(/stored_method/);
  });

  it('keeps every attribute, in order, with ssl_key_size as an integer and req_attribute as a pair', () => {
    const attributes: ForwardRequest['attributes'] = [
      { name: 'secret', value: 'x' },
      { name: 'remote_user', value: 'bob' },
      { name: 'auth_type', value: 'Basic' },
      { name: 'query_string', value: 'a=1&b=2' },
      { name: 'route', value: 'tomcat1' },
      { name: 'ssl_cert', value: '-----BEGIN CERTIFICATE-----\nMII...\n-----END CERTIFICATE-----\n' },
      { name: 'ssl_cipher', value: 'TLS_AES_128_GCM_SHA256' },
      { name: 'ssl_session', value: 'abcdef' },
      { name: 'ssl_key_size', value: 128 },
      { name: 'req_attribute', key: 'AJP_REMOTE_PORT', value: '40000' },
      { name: 'req_attribute', key: 'AJP_LOCAL_ADDR', value: '127.0.0.1' },
      { name: 'context', value: '/ctx' },
      { name: 'servlet_path', value: null },
    ];
    const msg = decodeOne(
      'to-container',
      encoder.forwardRequest(request({ isSsl: true, attributes })),
    ) as ForwardRequest;
    expect(msg.attributes).toEqual(attributes);
    expect(findAttribute(msg, 'query_string')).toBe('a=1&b=2');
    expect(findAttribute(msg, 'stored_method')).toBeUndefined();
  });

  it('keeps null distinct from the empty string', () => {
    const msg = decodeOne(
      'to-container',
      encoder.forwardRequest(
        request({
          remoteHost: null,
          serverName: '',
          headers: [
            { name: 'X-A', value: '' },
            { name: 'X-B', value: null },
          ],
        }),
      ),
    );
    expect(msg).toMatchObject({ remoteHost: null, serverName: '', headers: [{ value: '' }, { value: null }] });
  });

  it('codes known request headers case-insensitively (as mod_jk) unless told not to, and keeps string names byte for byte', () => {
    const bytes = encoder.forwardRequest(
      request({
        headers: [
          { name: 'User-Agent', value: 'curl' },
          { name: 'Accept-Charset', value: 'utf-8', coded: false },
          { name: 'x-ÄÖ', value: 'v' },
        ],
      }),
    );
    const msg = decodeOne('to-container', bytes) as ForwardRequest;
    expect(msg.headers).toEqual([
      { name: 'user-agent', value: 'curl', coded: true },
      { name: 'Accept-Charset', value: 'utf-8', coded: false },
      { name: 'x-ÄÖ', value: 'v', coded: false },
    ]);
    expect(findHeader(msg.headers, 'USER-AGENT')).toBe('curl');
  });

  it('sends text with characters above U+00FF as UTF-8, and byte strings as their bytes', () => {
    const msg = decodeOne('to-container', encoder.forwardRequest(request({ uri: '/café/€' }))) as ForwardRequest;
    expect(Buffer.from(msg.uri as string, 'latin1').toString('utf8')).toBe('/café/€');
    expect(utf8View(msg.uri as string)).toBe('/café/€');
    expect(utf8View('/caf\xe9')).toBe('/caf\xe9'); // not valid UTF-8: shown as it is
  });

  it('refuses a request that does not fit one packet, and accepts it with a larger maxPacketSize', () => {
    const huge = request({ headers: [{ name: 'cookie', value: 'x'.repeat(9000) }] });
    expect(() => encoder.forwardRequest(huge)).toThrow(AjpEncodeError);
    const big = new AjpEncoder({ maxPacketSize: 16384 });
    expect(decodeOne('to-container', big.forwardRequest(huge), { maxPacketSize: 16384 })).toMatchObject({
      type: 'forward-request',
    });
    expect(() => new AjpEncoder({ maxPacketSize: 4096 })).toThrow(RangeError);
    expect(() => new AjpEncoder({ maxPacketSize: 65537 })).toThrow(RangeError);
  });

  it('reports a missing terminator, an unknown attribute code and a truncated string with their codes', () => {
    const noTerminator = Buffer.from(V3_MINIMAL_GET.subarray(4, V3_MINIMAL_GET.length - 1));
    expect(() => decodeToContainer(noTerminator)).toThrow(
      expect.objectContaining({ code: 'AJP_ERR_MISSING_TERMINATOR' }),
    );
    const unknownAttr = Buffer.from(V3_MINIMAL_GET.subarray(4));
    unknownAttr[unknownAttr.length - 1] = 0x0e;
    expect(() => decodeToContainer(unknownAttr)).toThrow(
      expect.objectContaining({ code: 'AJP_ERR_UNKNOWN_ATTRIBUTE' }),
    );
    const truncated = V4_POST_ATTRIBUTES.subarray(4, 40);
    expect(() => decodeToContainer(truncated)).toThrow(expect.objectContaining({ code: 'AJP_ERR_TRUNCATED' }));
  });
});

describe('container → web server messages', () => {
  it('decodes response header codes to Tomcat spelling and codes only on request', () => {
    const headers: SendHeaders['headers'] = [
      { name: 'Content-Type', value: 'text/html', coded: true },
      { name: 'content-type', value: 'text/html', coded: false },
      { name: 'Set-Cookie', value: 'a=1', coded: true },
      { name: 'Set-Cookie', value: 'JSESSIONID=abc.tomcat1', coded: true },
      { name: 'WWW-Authenticate', value: 'Basic', coded: true },
    ];
    const bytes = encoder.sendHeaders({ status: 200, message: '200', headers });
    expect(decodeOne('to-web-server', bytes)).toEqual({ type: 'send-headers', status: 200, message: '200', headers });
  });

  it('names an unknown response header code when sniffing, rejects it when strict, and re-encodes it', () => {
    const bytes = hex('41 42 00 10 04 00 C8 00 02 4F 4B 00 00 01 A0 0F 00 01 78 00');
    const lenient = decodeToWebServer(bytes.subarray(4)) as SendHeaders;
    expect(lenient.headers[0]).toEqual({ name: 'unknown-0xa00f', value: 'x', coded: true });
    expect(encoder.encode(lenient).equals(bytes)).toBe(true);
    expect(() => decodeToWebServer(bytes.subarray(4), { strict: true })).toThrow(
      expect.objectContaining({ code: 'AJP_ERR_UNKNOWN_HEADER_CODE' }),
    );
  });

  it('accepts a Send Body Chunk without its pad (mod_jk leniency) and marks it', () => {
    const unpadded = hex('41 42 00 08 03 00 05 68 65 6C 6C 6F');
    expect(decodeOne('to-web-server', unpadded)).toEqual({
      type: 'send-body-chunk',
      data: Buffer.from('hello'),
      unpadded: true,
    });
    expect(encoder.sendBodyChunk(Buffer.from('hello')).equals(V9_SEND_BODY_CHUNK)).toBe(true);
  });

  it('reads any non-zero reuse byte as reuse and encodes exactly 00 or 01', () => {
    expect(decodeToWebServer(hex('05 FF'))).toEqual({ type: 'end-response', reuse: true });
    expect(decodeToWebServer(hex('05 00'))).toEqual({ type: 'end-response', reuse: false });
    expect(encoder.endResponse(false).toString('hex')).toBe('414200020500');
  });

  it('rejects a type byte of the other direction, and trailing bytes only when strict', () => {
    expect(() => decodeToWebServer(hex('02'))).toThrow(expect.objectContaining({ code: 'AJP_ERR_UNKNOWN_TYPE' }));
    expect(() => decodeToContainer(hex('04'))).toThrow(expect.objectContaining({ code: 'AJP_ERR_UNKNOWN_TYPE' }));
    expect(decodeToWebServer(hex('09 00'))).toEqual({ type: 'cpong' });
    expect(() => decodeToWebServer(hex('09 00'), { strict: true })).toThrow(
      expect.objectContaining({ code: 'AJP_ERR_TRAILING_BYTES' }),
    );
  });
});

describe('buffer ownership', () => {
  it('a body in a frame that arrived whole is a view of the pushed chunk (no copy)', () => {
    const chunk = Buffer.from(V9_SEND_BODY_CHUNK);
    const out = decodeChunks('to-web-server', [chunk]);
    const data = (out.messages[0]?.msg as { data: Buffer }).data;
    expect(data.buffer).toBe(chunk.buffer);
    expect(data.byteOffset).toBe(chunk.byteOffset + 7);
  });

  it('a frame that spanned chunks gets a buffer of its own that later pushes never touch', () => {
    const frames: Buffer[] = [];
    const dec = new FrameDecoder({ direction: 'to-web-server' });
    const sink = {
      frame: (p: Buffer) => frames.push(p),
      error: (e: AjpProtocolError) => {
        throw e;
      },
    };
    const scratch = Buffer.alloc(V9_SEND_BODY_CHUNK.length); // not from the shared pool
    V9_SEND_BODY_CHUNK.copy(scratch);
    dec.push(scratch.subarray(0, 6), sink);
    dec.push(scratch.subarray(6), sink);
    expect(frames[0]?.buffer).not.toBe(scratch.buffer);
    scratch.fill(0); // the caller reuses its buffer
    expect(frames[0]?.subarray(3, 8).toString()).toBe('hello');
  });

  it('encoded frames stay intact after more messages are encoded (no reused scratch buffer)', () => {
    const enc = new AjpEncoder();
    const first = enc.sendHeaders({
      status: 200,
      message: 'OK',
      headers: [{ name: 'Content-Type', value: 'text/plain' }],
    });
    for (let i = 0; i < 50; i++) enc.sendBodyChunk(Buffer.alloc(5000, i));
    expect(first.equals(V8_SEND_HEADERS)).toBe(true);
  });
});

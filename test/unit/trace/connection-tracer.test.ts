/** Bytes of one connection to trace events: exchanges, CPings, incomplete exchanges, redaction, strings. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AjpEncoder, type ForwardRequest } from '../../../src/protocol/index.js';
import {
  ConnectionTracer,
  type ExchangeEvent,
  type IncompleteEvent,
  type TraceEvent,
  type TraceOptions,
} from '../../../src/trace/index.js';

const enc = new AjpEncoder();
const START = 1_700_000_000_000_000;

function request(over: Partial<ForwardRequest> = {}): ForwardRequest {
  return {
    type: 'forward-request',
    method: 'GET',
    protocol: 'HTTP/1.1',
    uri: '/app/echo.jsp',
    remoteAddr: '10.0.0.1',
    remoteHost: null,
    serverName: 'www.example.com',
    serverPort: 443,
    isSsl: true,
    headers: [
      { name: 'host', value: 'www.example.com' },
      { name: 'authorization', value: 'Basic dXNlcjpwYXNz' },
      { name: 'cookie', value: 'theme=dark; JSESSIONID=ABCDEF0123.tomcat2' },
      { name: 'content-length', value: '0' },
    ],
    attributes: [
      { name: 'secret', value: 's3cr3t' },
      { name: 'query_string', value: 'a=1' },
      { name: 'route', value: 'tomcat1' },
      { name: 'ssl_key_size', value: 256 },
      { name: 'req_attribute', key: 'AJP_REMOTE_PORT', value: '40000' },
    ],
    ...over,
  };
}

function tracer(options: Partial<TraceOptions> = {}) {
  const events: TraceEvent[] = [];
  let id = 0;
  const t = new ConnectionTracer(
    {
      options: { redact: true, bodies: 'request', maxBody: 1024, ...options },
      startUs: START,
      nextId: () => ++id,
      emit: (e) => events.push(e),
    },
    { conn: 7, client: '127.0.0.1:50000', upstream: '127.0.0.1:28009', worker: 'tomcat1' },
  );
  return { t, events };
}

const headers = (status: number, extra: { name: string; value: string }[] = []) =>
  enc.sendHeaders({
    status,
    message: String(status),
    headers: [{ name: 'Content-Type', value: 'text/plain' }, ...extra],
  });

describe('ConnectionTracer', () => {
  it('records a GET exchange with timing, route, headers in order, attributes by name, and never the secret', () => {
    const { t, events } = tracer();
    t.open(START + 10);
    t.push('to-container', enc.encode({ type: 'cping' }), START + 100);
    t.push('to-web-server', enc.encode({ type: 'cpong' }), START + 180);
    t.push('to-container', enc.forwardRequest(request()), START + 200);
    t.push(
      'to-web-server',
      headers(200, [{ name: 'Set-Cookie', value: 'JSESSIONID=NEWID.tomcat1; Path=/app; HttpOnly' }]),
      START + 1200,
    );
    t.push(
      'to-web-server',
      Buffer.concat([enc.sendBodyChunk(Buffer.from('hello')), enc.endResponse(true)]),
      START + 1500,
    );
    t.close('fin', START + 9000);
    expect(events.map((e) => e.event)).toEqual(['connection', 'cping', 'exchange', 'connection']);
    expect(events[1]).toEqual({ event: 'cping', conn: 7, t: 100, rttUs: 80 });
    const x = events[2] as ExchangeEvent;
    expect(x).toMatchObject({
      id: 1,
      conn: 7,
      t: 200,
      upstream: '127.0.0.1:28009',
      worker: 'tomcat1',
      route: 'tomcat1',
      routeSource: 'set-cookie',
      bodyRequests: 0,
    });
    expect(x.timing).toEqual({ headersUs: 1000, endUs: 1300 });
    expect(x.request.query).toBe('a=1');
    expect(x.request.attributes).toEqual({ route: 'tomcat1', ssl_key_size: 256 });
    expect(x.request.reqAttributes).toEqual([['AJP_REMOTE_PORT', '40000']]);
    expect(JSON.stringify(x)).not.toContain('s3cr3t');
    expect(x.request.headers).toEqual([
      ['host', 'www.example.com'],
      ['authorization', 'REDACTED'],
      ['cookie', `theme=REDACTED; JSESSIONID=REDACTED-3419d586bcb059c4.tomcat2`],
      ['content-length', '0'],
    ]);
    expect(x.response).toMatchObject({ status: 200, message: '200', reuse: true });
    expect(x.response.headers[1]).toEqual([
      'Set-Cookie',
      'JSESSIONID=REDACTED-10c456f9e0864001.tomcat1; Path=/app; HttpOnly',
    ]);
    // The pseudonym is the SHA-256 of the id without its route: a session keeps one name, the id is not in the trace.
    expect(JSON.stringify(x)).not.toContain('ABCDEF0123');
    expect(JSON.stringify(x)).not.toContain('NEWID');
    expect(x.response.body).toEqual({
      length: 5,
      sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    });
    expect(events[3]).toMatchObject({ state: 'close', reason: 'fin', bytesToContainer: expect.any(Number) });
  });

  it('keeps cookies and credentials with --no-redact, but still never the secret', () => {
    const { t, events } = tracer({ redact: false });
    t.push('to-container', enc.forwardRequest(request()), START);
    t.push('to-web-server', Buffer.concat([headers(204), enc.endResponse(true)]), START + 5);
    const x = events[0] as ExchangeEvent;
    expect(x.request.headers[1]).toEqual(['authorization', 'Basic dXNlcjpwYXNz']);
    expect(x.route).toBe('tomcat2'); // request cookie, no Set-Cookie
    expect(x.routeSource).toBe('cookie');
    expect(JSON.stringify(x)).not.toContain('s3cr3t');
  });

  it('records a POST body across Get Body Chunks: length, hash, data, and truncation past maxBody', () => {
    const { t, events } = tracer({ maxBody: 10 });
    const body = Buffer.from('0123456789abcdefghij');
    const post = request({
      method: 'POST',
      headers: [{ name: 'content-length', value: String(body.length) }],
      attributes: [],
    });
    t.push('to-container', Buffer.concat([enc.forwardRequest(post), enc.body(body.subarray(0, 12))]), START);
    t.push('to-web-server', enc.getBodyChunk(8186), START + 10);
    t.push('to-container', enc.body(body.subarray(12)), START + 20);
    t.push('to-web-server', Buffer.concat([headers(200), enc.endResponse(true)]), START + 30);
    const x = events[0] as ExchangeEvent;
    expect(x.request.body).toEqual({
      length: 20,
      sha256: createHash('sha256').update(body).digest('hex'),
      data: Buffer.from('0123456789').toString('base64'),
      truncated: true,
    });
    expect(x.bodyRequests).toBe(1);
    expect(x.route).toBeNull();
  });

  it('turns an exchange cut off by a close, a reset or a gap into an incomplete event with what was seen', () => {
    for (const reason of ['fin', 'rst'] as const) {
      const { t, events } = tracer();
      t.push('to-container', enc.forwardRequest(request()), START);
      t.push('to-web-server', headers(500), START + 10);
      t.close(reason, START + 20);
      const inc = events.find((e) => e.event === 'incomplete') as IncompleteEvent;
      expect(inc).toMatchObject({
        id: 1,
        reason: reason === 'fin' ? 'closed' : 'reset',
        status: 500,
        seen: ['forward-request', 'send-headers'],
      });
      expect(inc.request?.uri).toBe('/app/echo.jsp');
    }
    const { t, events } = tracer();
    t.push('to-container', enc.forwardRequest(request()), START);
    t.gap('to-web-server', 1400, START + 5);
    t.push('to-container', enc.forwardRequest(request({ uri: '/next' })), START + 50);
    t.push('to-web-server', Buffer.concat([headers(200), enc.endResponse(true)]), START + 60);
    // The gap hid the response's first header (sync lost: an error says so); the exchange carries
    // the loss, and the next request shows it ended: it is written, truncated, not dropped.
    expect(events.map((e) => (e.event === 'error' ? e.code : e.event))).toEqual([
      'CAPTURE_ERR_GAP',
      'exchange',
      'exchange',
    ]);
    expect(events[1]).toMatchObject({
      request: { uri: '/app/echo.jsp' },
      response: { status: 0 },
      timing: { endUs: 5 },
      truncated: { missingBytes: 1400, response: 'status' },
    });
    expect((events[2] as ExchangeEvent).request.uri).toBe('/next');
    expect((events[2] as ExchangeEvent).truncated).toBeUndefined();
  });

  it('a gap inside a frame keeps frame sync: the exchange goes on and ends at its End Response, truncated', () => {
    const { t, events } = tracer();
    const fr = enc.forwardRequest(request());
    t.push('to-container', fr, START);
    const sh = Buffer.concat([headers(404), enc.endResponse(true)]);
    const cutAt = 12; // inside the Send Headers frame: its status is captured
    t.push('to-web-server', sh.subarray(0, cutAt), START + 10);
    t.gap('to-web-server', sh.length - 6 - cutAt, START + 11); // the rest of Send Headers, not the End Response
    t.push('to-web-server', sh.subarray(sh.length - 6), START + 20);
    expect(events.map((e) => (e.event === 'error' ? e.code : e.event))).toEqual(['exchange']);
    expect(events[0]).toMatchObject({
      response: { status: 404, reuse: true },
      timing: { headersUs: 11, endUs: 20 },
      truncated: { missingBytes: sh.length - 6 - cutAt, response: 'headers' },
    });
  });

  it('writes UTF-8 text as text, and flags an exchange whose bytes are not UTF-8', () => {
    const utf8 = Buffer.from('/café', 'utf8').toString('latin1');
    const { t, events } = tracer();
    t.push('to-container', enc.forwardRequest(request({ uri: utf8 })), START);
    t.push('to-web-server', Buffer.concat([headers(200), enc.endResponse(true)]), START + 1);
    t.push('to-container', enc.forwardRequest(request({ uri: '/caf\xe9' })), START + 2);
    t.push('to-web-server', Buffer.concat([headers(200), enc.endResponse(true)]), START + 3);
    const [a, b] = events as ExchangeEvent[];
    expect(a?.request.uri).toBe('/café');
    expect(a?.byteStrings).toBeUndefined();
    expect(b?.request.uri).toBe('/caf\xe9');
    expect(b?.byteStrings).toBe(true);
  });

  it('reports a CPing without a CPong, and decode errors with their offsets', () => {
    const { t, events } = tracer();
    t.push('to-container', enc.encode({ type: 'cping' }), START);
    t.push('to-container', Buffer.from([0xde, 0xad, 0xbe, 0xef]), START + 1);
    t.close('end', START + 2);
    expect(events).toContainEqual({ event: 'cping', conn: 7, t: 0, rttUs: null });
    expect(events).toContainEqual(
      expect.objectContaining({
        event: 'error',
        code: 'AJP_ERR_BAD_MAGIC',
        offset: 5,
        skipped: 4,
        direction: 'to-container',
      }),
    );
  });
});

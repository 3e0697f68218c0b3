/**
 * Http1Client (the lean HTTP/1.1 client): the request's exact bytes, keep-alive and pipelining,
 * every framing through a real socket (chunked written byte by byte), and each failure as its
 * error kind: refused, connect and request timeouts, a close mid-body, garbage, stale bytes.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Client, type Http1ClientOptions } from '../../../src/load/http1-client.js';
import { Http1Connection } from '../../../src/load/http1-connection.js';
import { Http1RequestEncoder } from '../../../src/load/http1-request-encoder.js';
import { newResult, type RequestResult } from '../../../src/load/request-result.js';
import type { ReplayRequest } from '../../../src/load/replay-request.js';
import { StubContainer } from '../../../src/load/stub-container.js';
import { request } from './helpers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A raw TCP server: `onRequest` gets each socket and the bytes of each request head as they come. */
async function rawServer(
  onData: (s: Socket, data: string, n: number) => void,
): Promise<{ port: number; got: string[] }> {
  const got: string[] = [];
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    let n = 0;
    s.on('data', (d: Buffer) => {
      got.push(d.toString('latin1'));
      onData(s, d.toString('latin1'), n++);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => srv.close(() => r()));
  });
  return { port: (srv.address() as { port: number }).port, got };
}

async function httpServer(
  handler: Parameters<typeof createHttpServer>[1],
  keepAliveTimeout?: number,
): Promise<{ port: number; srv: HttpServer }> {
  const srv = createHttpServer(handler);
  if (keepAliveTimeout !== undefined) srv.keepAliveTimeout = keepAliveTimeout;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.push(
    () => new Promise<void>((r) => srv.close(() => r())),
    () => void srv.closeAllConnections(),
  );
  return { port: (srv.address() as { port: number }).port, srv };
}

function client(port: number, over: Partial<Http1ClientOptions> = {}): Http1Client {
  const c = new Http1Client({
    host: '127.0.0.1',
    port,
    prefix: '',
    connections: 2,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    ...over,
  });
  cleanup.push(() => c.close());
  return c;
}

function send(c: Http1Client, req: ReplayRequest): Promise<RequestResult> {
  const rec = newResult();
  rec.intendedMs = rec.sentMs = performance.now();
  return new Promise((resolve) => c.send(req, rec, () => resolve(rec)));
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const sha = (s: string) => createHash('sha256').update(s, 'latin1').digest('hex');

describe('Http1Client', () => {
  it('writes the recorded request: line, headers in order without hop-by-hop ones, Content-Length from the body', async () => {
    const { port, got } = await rawServer((s) => s.write(OK));
    const c = client(port, { prefix: '/v2' });
    const req = request({
      body: Buffer.from('abc'),
      headers: [
        ['host', 'shop.test'],
        ['Accept-Language', 'de'],
        ['connection', 'close'],
        ['content-length', '99'],
        ['Transfer-Encoding', 'chunked'],
        ['X-Multi', 'a'],
        ['X-Multi', 'b'],
      ],
    });
    req.query = 'x=1&y=%20';
    req.uri = '/app/ä b';
    const r = await send(c, req);
    expect(r).toMatchObject({ status: 200, error: null, bodyBytes: 2, bytesSent: 3, bytesReceived: 2 });
    expect(got.join('')).toBe(
      'POST /v2/app/%E4%20b?x=1&y=%20 HTTP/1.1\r\nhost: shop.test\r\nAccept-Language: de\r\n' +
        'X-Multi: a\r\nX-Multi: b\r\nContent-Length: 3\r\n\r\nabc',
    );
    // Encoded once: the bytes are cached on the request and written again as they are.
    const cached = req.http1Bytes;
    await send(c, req);
    expect(req.http1Bytes).toBe(cached);
  });

  it('adds Host when the trace has none, X-Forwarded-* only with --forwarded, Content-Length: 0 for an empty POST', async () => {
    const { port, got } = await rawServer((s) => s.write(OK));
    const req = request({ headers: [['accept', '*/*']], method: 'POST' });
    await send(client(port, { forwarded: true }), req);
    expect(got.join('')).toBe(
      `POST /app/echo.jsp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\naccept: */*\r\n` +
        'X-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: 443\r\nContent-Length: 0\r\n\r\n',
    );
    // Another client's settings (no --forwarded) encode the request again, not reuse the cache.
    got.length = 0;
    await send(client(port), req);
    expect(got.join('')).not.toContain('X-Forwarded');
  });

  it('keeps connections alive: sequential requests reuse one, never more than `connections` open', async () => {
    let requests = 0;
    const { port } = await httpServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'X-Served-By': 'web7', 'Set-Cookie': 'JSESSIONID=ABC.tomcat3; Path=/' }).end('hello');
    });
    const c = client(port, { routeHeader: 'x-served-by', verify: { headers: ['x-served-by'] } });
    for (let i = 0; i < 5; i++) {
      const r = await send(c, request());
      expect(r).toMatchObject({ status: 200, bodyBytes: 5, route: 'tomcat3', bodySha256: sha('hello') });
      expect(r.verifyHeaders).toEqual(['web7']);
    }
    // As many in flight as connections (the schedulers never send more): both are used.
    for (let i = 0; i < 3; i++) await Promise.all([send(c, request()), send(c, request())]);
    expect(requests).toBe(11);
    const s = c.connectionStats();
    expect(s.opened).toBe(2);
    expect(s.reused).toBe(9);
  });

  it('reads a route header when Set-Cookie names none, and counts a 5xx as a response and an error', async () => {
    const { port } = await httpServer((_req, res) => res.writeHead(503, { 'X-Served-By': 'web2' }).end('busy'));
    const r = await send(client(port, { routeHeader: 'x-served-by' }), request());
    expect(r).toMatchObject({ status: 503, error: 'status-5xx', route: 'web2', bodyBytes: 4 });
    expect(r.headersMs).toBeGreaterThan(0);
    expect(r.endMs).toBeGreaterThanOrEqual(r.headersMs);
  });

  it('reads the stub http:// listener (JSESSIONID route, 1 KiB body)', async () => {
    const stub = await StubContainer.start({
      listen: [{ host: '127.0.0.1', port: 0, route: 'web1', protocol: 'http' }],
    });
    cleanup.push(() => stub.close());
    const c = client((stub.listeners[0] as { port: number }).port);
    for (let i = 0; i < 3; i++)
      expect(await send(c, request())).toMatchObject({ status: 200, route: 'web1', bodyBytes: 1024, error: null });
    expect(c.connectionStats().opened).toBe(1);
  });

  it('reads chunked bodies with trailers written one byte at a time, then reuses the connection', async () => {
    const body =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n';
    const { port } = await rawServer((s) => {
      let i = 0;
      const next = (): void => {
        if (i < body.length) s.write(body[i++] as string, () => setImmediate(next));
      };
      next();
    });
    const c = client(port, { connections: 1, verify: { headers: [] } });
    const r = await send(c, request());
    expect(r).toMatchObject({ status: 200, bodyBytes: 9, bodySha256: sha('wikipedia'), error: null });
    expect((await send(c, request())).bodySha256).toBe(sha('wikipedia'));
    expect(c.connectionStats()).toMatchObject({ opened: 1, reused: 1 });
  });

  it('reads a body until close, and opens a new connection after one that said Connection: close', async () => {
    const { port } = await rawServer((s, _d, n) => {
      if (n > 0) return;
      s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
    });
    const c = client(port, { connections: 1 });
    expect(await send(c, request())).toMatchObject({ status: 200, bodyBytes: 13, error: null });
    const { port: p2 } = await rawServer((s) =>
      s.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx'),
    );
    const c2 = client(p2, { connections: 1 });
    expect(await send(c2, request())).toMatchObject({ status: 200, error: null });
    expect(await send(c2, request())).toMatchObject({ status: 200, error: null });
    expect(c2.connectionStats()).toMatchObject({ opened: 2, reused: 0, closedNoReuse: 2 });
  });

  it('HEAD, 204 and 304 have no body; 100 Continue is skipped; the connection stays usable', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n',
      'HTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 12\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    ];
    const { port } = await rawServer((s, _d, n) => s.write(answers[n] ?? OK));
    const c = client(port, { connections: 1 });
    expect(await send(c, request({ method: 'HEAD' }))).toMatchObject({ status: 200, bodyBytes: 0, error: null });
    expect(await send(c, request())).toMatchObject({ status: 204, bodyBytes: 0, error: null });
    expect(await send(c, request())).toMatchObject({ status: 304, bodyBytes: 0, error: null });
    expect(await send(c, request())).toMatchObject({ status: 200, bodyBytes: 2, error: null });
    expect(c.connectionStats()).toMatchObject({ opened: 1, reused: 3 });
  });

  it('pipelines: with --pipelining 2, two requests share one connection and get their own responses in order', async () => {
    const { port } = await rawServer((s, data) => {
      const n = data.split('HTTP/1.1\r\n').length - 1;
      for (let i = 0; i < n; i++) s.write(i % 2 === 0 ? OK : 'HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew');
    });
    const c = client(port, { connections: 1, pipelining: 2 });
    const [a, b] = await Promise.all([send(c, request()), send(c, request())]);
    expect([a?.status, a?.bodyBytes, b?.status, b?.bodyBytes].sort()).toEqual([2, 200, 201, 3].sort());
    expect(c.connectionStats().opened).toBe(1);
  });

  it('a close mid-body is an error only (closed, no status); a reset is a reset', async () => {
    const { port } = await rawServer((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly the start');
      setTimeout(() => s.end(), 20);
    });
    const r = await send(client(port), request());
    expect(r).toMatchObject({ error: 'closed', status: 0, headersMs: -1 });
    expect(r.errorMessage).toMatch(/with 986 body bytes still to come.*\(after the response headers, status 200\)/);
    const { port: p2 } = await rawServer((s) => s.resetAndDestroy());
    expect((await send(client(p2), request())).error).toBe('reset');
  });

  it('garbage and stale bytes are protocol errors that close the connection, never a crash', async () => {
    const { port } = await rawServer((s) => s.write('SSH-2.0-OpenSSH_9.6\r\n'));
    const r = await send(client(port), request());
    expect(r).toMatchObject({ error: 'protocol', status: 0 });
    expect(r.errorMessage).toMatch(/not an HTTP\/1.x response/);
    // A response followed by bytes nobody asked for: the response counts, the connection is dropped.
    const { port: p2 } = await rawServer((s) => s.write(`${OK}HTTP/1.1 200 OK\r\n`));
    const c = client(p2, { connections: 1 });
    expect(await send(c, request())).toMatchObject({ status: 200, error: null });
    expect(await send(c, request())).toMatchObject({ status: 200, error: null });
    expect(c.connectionStats()).toMatchObject({ opened: 2, closedOnError: 0 });
  });

  it('times out a request with no response, and a connect past its deadline', async () => {
    const { port } = await rawServer(() => undefined);
    const t0 = performance.now();
    const r = await send(client(port, { requestTimeoutMs: 100 }), request());
    expect(r).toMatchObject({ error: 'timeout', errorMessage: 'no complete response within 100 ms of the send' });
    expect(r.endMs - t0).toBeGreaterThanOrEqual(100);
    expect(r.endMs - t0).toBeLessThan(1000);
    const got: boolean[] = [];
    const conn = new Http1Connection(
      '127.0.0.1',
      port,
      Buffer.alloc(1024),
      new Http1RequestEncoder({ prefix: '', forwarded: false, host: 'x' }),
      { connections: 1, connectTimeoutMs: 1234, requestTimeoutMs: 30_000 },
      { connected: (_c, ok) => got.push(ok), idle: () => undefined, closed: () => undefined },
      () => performance.now(),
    );
    const rec = newResult();
    const done = new Promise<void>((resolve) => conn.send(request(), rec, resolve));
    conn.expire(performance.now() + 2000); // still connecting: the deadline of the connect ran out
    await done;
    expect(got).toEqual([false]);
    expect([rec.error, rec.errorMessage]).toEqual(['connect-timeout', 'not connected within 1234 ms']);
  });

  it('a refused connection sent nothing; an idle connection the server closed is not used again', async () => {
    const { port, srv } = await httpServer((_req, res) => res.end('x'), 50);
    const c = client(port, { connections: 1 });
    expect(await send(c, request({ body: Buffer.alloc(10) }))).toMatchObject({ status: 200, bytesSent: 10 });
    await new Promise((r) => setTimeout(r, 200)); // past the server's keep-alive timeout: it closed
    expect(await send(c, request())).toMatchObject({ status: 200, error: null });
    expect(c.connectionStats().opened).toBe(2);
    await new Promise<void>((r) => {
      srv.closeAllConnections();
      srv.close(() => r());
    });
    const refused = await send(client(port), request({ body: Buffer.alloc(10) }));
    expect(refused).toMatchObject({ error: 'connect-refused', bytesSent: 0 });
    expect(c.connectionStats().failed).toBe(0);
  });

  it('a large body is written apart from the head, whole', async () => {
    const big = Buffer.alloc(100_000, 0x61);
    let received = 0;
    const { port } = await httpServer((req, res) => {
      req.on('data', (d: Buffer) => (received += d.length));
      req.on('end', () => res.end('done'));
    });
    const r = await send(client(port), request({ body: big }));
    expect(r).toMatchObject({ status: 200, bytesSent: 100_000, error: null });
    expect(received).toBe(100_000);
  });
});

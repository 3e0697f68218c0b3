/** HttpClient (undici): the exchange as an HTTP/1.1 request, X-Forwarded-* only with --forwarded, errors by kind. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient, type HttpClientOptions } from '../../../src/load/http-client.js';
import { newResult, type RequestResult } from '../../../src/load/request-result.js';
import type { ReplayRequest } from '../../../src/load/replay-request.js';
import { StubContainer } from '../../../src/load/stub-container.js';
import { request } from './helpers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Seen {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
}

async function echoServer(status = 200): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const srv: Server = createServer((req: IncomingMessage, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(parts),
      });
      res.writeHead(status, { 'X-Served-By': 'web7', 'Content-Type': 'text/plain' }).end('hello');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.push(
    () => new Promise<void>((r) => srv.close(() => r())),
    () => void srv.closeAllConnections(),
  );
  return { port: (srv.address() as { port: number }).port, seen };
}

function client(port: number, over: Partial<HttpClientOptions> = {}): HttpClient {
  const c = new HttpClient({
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

function send(c: HttpClient, req: ReplayRequest): Promise<RequestResult> {
  const rec = newResult();
  rec.intendedMs = rec.sentMs = performance.now();
  return new Promise((resolve) => c.send(req, rec, () => resolve(rec)));
}

describe('HttpClient', () => {
  it('sends method, prefix + URI + query, headers in order (hop-by-hop dropped) and the body; reads status, route header, body', async () => {
    const { port, seen } = await echoServer();
    const c = client(port, { prefix: '/v2', routeHeader: 'x-served-by' });
    const req = request({
      body: Buffer.from('abc'),
      headers: [
        ['host', 'shop.test'],
        ['Accept-Language', 'de'],
        ['connection', 'close'],
        ['content-length', '3'],
        ['X-Multi', 'a'],
      ],
    });
    req.query = 'x=1&y=%20';
    const r = await send(c, req);
    expect(r).toMatchObject({ status: 200, error: null, bodyBytes: 5, route: 'web7' });
    expect(r.headersMs).toBeGreaterThan(0);
    const s = seen[0] as Seen;
    expect([s.method, s.url, s.body.toString()]).toEqual(['POST', '/v2/app/echo.jsp?x=1&y=%20', 'abc']);
    const names = s.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    // undici adds its own connection: keep-alive after Host; the recorded order is kept around it.
    expect(s.rawHeaders).toEqual([
      'host',
      'shop.test',
      'connection',
      'keep-alive',
      'Accept-Language',
      'de',
      'X-Multi',
      'a',
      'content-length',
      '3',
    ]);
    expect(s.rawHeaders[1]).toBe('shop.test');
    expect(names).not.toContain('x-forwarded-for');
    // keep-alive: never more connections than asked for
    for (let i = 0; i < 5; i++) await send(c, req);
    expect(c.connectionStats().opened).toBeLessThanOrEqual(2);
  });

  it('maps remote_addr, ssl, host and port to X-Forwarded-* only with --forwarded', async () => {
    const { port, seen } = await echoServer();
    await send(client(port, { forwarded: true }), request());
    const h = (seen[0] as Seen).rawHeaders;
    const get = (n: string) => h[h.findIndex((x, i) => i % 2 === 0 && x.toLowerCase() === n) + 1];
    expect([
      get('x-forwarded-for'),
      get('x-forwarded-proto'),
      get('x-forwarded-host'),
      get('x-forwarded-port'),
    ]).toEqual(['10.0.0.7', 'https', 'example.test', '443']);
  });

  it('reads the route from a JSESSIONID Set-Cookie (stub http:// listener), and counts 5xx and refused connections', async () => {
    const stub = await StubContainer.start({
      listen: [{ host: '127.0.0.1', port: 0, route: 'web1', protocol: 'http' }],
    });
    cleanup.push(() => stub.close());
    const port = (stub.listeners[0] as { port: number }).port;
    expect(await send(client(port), request())).toMatchObject({ status: 200, route: 'web1', bodyBytes: 1024 });
    const { port: p500 } = await echoServer(503);
    expect(await send(client(p500), request())).toMatchObject({ status: 503, error: 'status-5xx' });
    const { port: dead } = await echoServer();
    await Promise.all(
      cleanup
        .splice(-2)
        .reverse()
        .map((f) => f()),
    );
    expect((await send(client(dead), request())).error).toBe('connect-refused');
  });

  it('times out a slow response and classifies a reset', async () => {
    const slow = await StubContainer.start({
      listen: [
        { host: '127.0.0.1', port: 0, route: 'a', protocol: 'http' },
        { host: '127.0.0.1', port: 0, route: 'b', protocol: 'http' },
      ],
      latencyMs: 1000,
    });
    cleanup.push(() => slow.close());
    const r = await send(client((slow.listeners[0] as { port: number }).port, { requestTimeoutMs: 100 }), request());
    expect(r.error).toBe('timeout');
    const reset = await StubContainer.start({
      listen: [{ host: '127.0.0.1', port: 0, route: 'a', protocol: 'http' }],
      failRate: 1,
      failMode: 'reset',
    });
    cleanup.push(() => reset.close());
    expect((await send(client((reset.listeners[0] as { port: number }).port), request())).error).toMatch(
      /reset|closed/,
    );
  });

  it('a response whose connection drops mid-body is an error only: no status, not a response', async () => {
    const srv: Server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000' });
      res.write('only the start');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanup.push(
      () => new Promise<void>((r) => srv.close(() => r())),
      () => void srv.closeAllConnections(),
    );
    const r = await send(client((srv.address() as { port: number }).port), request());
    expect(r.error).toBe('closed');
    expect(r.status).toBe(0);
    expect(r.headersMs).toBe(-1);
    expect(r.errorMessage).toMatch(/\(after the response headers, status 200\)/);
  });

  it('a port no socket can use is refused when the client is made', async () => {
    const { UsageError } = await import('../../../src/errors.js');
    expect(
      () =>
        new HttpClient({
          host: '127.0.0.1',
          port: 0,
          prefix: '',
          connections: 1,
          connectTimeoutMs: 100,
          requestTimeoutMs: 100,
        }),
    ).toThrow(UsageError);
  });

  it('counts body bytes as sent only when they went on a connection (a refused request sent nothing)', async () => {
    const { port } = await echoServer();
    const ok = await send(client(port), request({ body: Buffer.alloc(100, 1) }));
    expect(ok.bytesSent).toBe(100);
    const { port: dead } = await echoServer();
    await Promise.all(
      cleanup
        .splice(-2)
        .reverse()
        .map((f) => f()),
    );
    const refused = await send(client(dead), request({ body: Buffer.alloc(100, 1) }));
    expect(refused.error).toBe('connect-refused');
    expect(refused.bytesSent).toBe(0);
  });
});

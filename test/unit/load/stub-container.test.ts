/** StubContainer (`ajpbench serve`) spoken to byte by byte, as mod_jk would. */
import { afterEach, describe, expect, it } from 'vitest';
import { CPING_FRAME, EMPTY_BODY_FRAME, type SendHeaders } from '../../../src/protocol/index.js';
import { MAX_STUB_BODY_BYTES, StubContainer, parseListenAddress } from '../../../src/load/stub-container.js';
import { RuntimeError, UsageError } from '../../../src/errors.js';
import { RawAjpPeer } from './helpers.js';

const stubs: StubContainer[] = [];
const peers: RawAjpPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await Promise.all(stubs.splice(0).map((s) => s.close()));
});

async function stub(
  opts: Partial<Parameters<typeof StubContainer.start>[0]> = {},
): Promise<{ s: StubContainer; port: number }> {
  const s = await StubContainer.start({
    listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }],
    ...opts,
  });
  stubs.push(s);
  return { s, port: (s.listeners[0] as { port: number }).port };
}

async function peer(port: number): Promise<RawAjpPeer> {
  const p = await RawAjpPeer.open(port);
  peers.push(p);
  return p;
}

function forward(
  enc: RawAjpPeer['encoder'],
  headers: { name: string; value: string }[],
  attributes: Parameters<RawAjpPeer['encoder']['forwardRequest']>[0]['attributes'] = [],
  method = 'GET',
): Buffer {
  return enc.forwardRequest({
    type: 'forward-request',
    method,
    protocol: 'HTTP/1.1',
    uri: '/x',
    remoteAddr: '127.0.0.1',
    remoteHost: null,
    serverName: 'localhost',
    serverPort: 80,
    isSsl: false,
    headers,
    attributes,
  });
}

describe('StubContainer over AJP', () => {
  it('answers a GET with Send Headers (new session cookie with its route), body chunks and End Response reuse=1, then serves the next request on the same connection', async () => {
    const { s, port } = await stub({ bodySize: 20_000 });
    const p = await peer(port);
    p.write(forward(p.encoder, [{ name: 'host', value: 'localhost' }]));
    await p.until(() => p.messages.some((m) => m.type === 'end-response'));
    const h = p.messages[0] as SendHeaders;
    expect(h).toMatchObject({ type: 'send-headers', status: 200, message: '200' });
    const cookie = h.headers.find((x) => x.name === 'Set-Cookie')?.value ?? '';
    expect(cookie).toMatch(/^JSESSIONID=[0-9A-F]{32}\.tomcat1; Path=\/; HttpOnly$/);
    const chunks = p.messages.filter((m) => m.type === 'send-body-chunk');
    expect(chunks.map((c) => (c.type === 'send-body-chunk' ? c.data.length : 0))).toEqual([8184, 8184, 3632]);
    expect(p.messages.at(-1)).toEqual({ type: 'end-response', reuse: true });
    // With a session, no new cookie; same connection.
    p.messages.length = 0;
    p.write(forward(p.encoder, [{ name: 'cookie', value: 'JSESSIONID=ABC.tomcat1' }]));
    await p.until(() => p.messages.some((m) => m.type === 'end-response'));
    expect((p.messages[0] as SendHeaders).headers.map((x) => x.name)).toEqual(['Content-Type', 'Content-Length']);
    expect(s.stats).toMatchObject({ connections: 1, requests: 2 });
  });

  it('answers CPing with CPong while idle', async () => {
    const { s, port } = await stub();
    const p = await peer(port);
    p.write(CPING_FRAME);
    await p.until(() => p.messages.length === 1);
    expect(p.messages).toEqual([{ type: 'cpong' }]);
    expect(s.stats.cpings).toBe(1);
  });

  it('reads a Content-Length body: the first packet unasked, the rest on Get Body Chunk, then answers', async () => {
    const { s, port } = await stub({ bodySize: 3 });
    const p = await peer(port);
    const body = Buffer.alloc(20_000, 7);
    p.write(
      forward(p.encoder, [{ name: 'content-length', value: String(body.length) }], [], 'POST'),
      p.encoder.body(body.subarray(0, 8186)),
    );
    await p.until(() => p.messages.length === 1);
    expect(p.messages[0]).toEqual({ type: 'get-body-chunk', requestedLength: 8186 });
    p.write(p.encoder.body(body.subarray(8186, 16372)));
    await p.until(() => p.messages.length === 2);
    // The last request asks for exactly what is left.
    expect(p.messages[1]).toEqual({ type: 'get-body-chunk', requestedLength: 20_000 - 16372 });
    p.write(p.encoder.body(body.subarray(16372)));
    await p.until(() => p.messages.some((m) => m.type === 'end-response'));
    expect(s.stats.bodyBytes).toBe(20_000);
  });

  it('asks for a chunked body (nothing comes unasked) until the empty packet', async () => {
    const { s, port } = await stub();
    const p = await peer(port);
    p.write(forward(p.encoder, [{ name: 'Transfer-Encoding', value: 'chunked' }], [], 'POST'));
    await p.until(() => p.messages.length === 1);
    expect(p.messages[0]).toEqual({ type: 'get-body-chunk', requestedLength: 8186 });
    p.write(p.encoder.body(Buffer.from('hello')));
    await p.until(() => p.messages.length === 2);
    p.write(EMPTY_BODY_FRAME);
    await p.until(() => p.messages.some((m) => m.type === 'end-response'));
    expect(s.stats.bodyBytes).toBe(5);
  });

  it('rejects a missing or wrong secret as Tomcat does: 403, End Response reuse=0, connection closed; accepts the right one', async () => {
    const { s, port } = await stub({ secret: 's3cr3t' });
    for (const attrs of [[], [{ name: 'secret' as const, value: 'wrong' }]]) {
      const p = await peer(port);
      p.write(forward(p.encoder, [], attrs));
      await p.until(() => p.closed);
      expect(p.messages).toEqual([
        { type: 'send-headers', status: 403, message: '403', headers: [] },
        { type: 'end-response', reuse: false },
      ]);
    }
    const ok = await peer(port);
    ok.write(forward(ok.encoder, [], [{ name: 'secret', value: 's3cr3t' }]));
    await ok.until(() => ok.messages.some((m) => m.type === 'end-response'));
    expect((ok.messages[0] as SendHeaders).status).toBe(200);
    expect(s.stats.rejected).toBe(2);
  });

  it('fails the given share of requests: 500 by default, or a reset', async () => {
    const { port } = await stub({ failRate: 1 });
    const p = await peer(port);
    p.write(forward(p.encoder, []));
    await p.until(() => p.messages.some((m) => m.type === 'end-response'));
    expect((p.messages[0] as SendHeaders).status).toBe(500);
    const { port: port2 } = await stub({ failRate: 1, failMode: 'reset' });
    const q = await peer(port2);
    q.write(forward(q.encoder, []));
    await q.until(() => q.closed);
    expect(q.messages).toEqual([]);
  });

  it('closes the connection on a Shutdown or garbage', async () => {
    const { s, port } = await stub();
    const p = await peer(port);
    p.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await p.until(() => p.closed);
    expect(s.stats.protocolErrors).toBe(1);
  });

  it('serves several listeners with their own routes in one process, and HTTP on an http:// listener', async () => {
    const s = await StubContainer.start({
      listen: [
        { host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' },
        { host: '127.0.0.1', port: 0, route: 'tomcat2', protocol: 'ajp' },
        { host: '127.0.0.1', port: 0, route: 'web1', protocol: 'http' },
      ],
      bodySize: 10,
    });
    stubs.push(s);
    const p = await peer((s.listeners[1] as { port: number }).port);
    p.write(forward(p.encoder, []));
    await p.until(() => p.messages.length > 0);
    expect((p.messages[0] as SendHeaders).headers.find((h) => h.name === 'Set-Cookie')?.value).toMatch(/\.tomcat2;/);
    const res = await fetch(`http://${(s.listeners[2] as { address: string }).address}/x`, {
      method: 'POST',
      body: 'abc',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/^JSESSIONID=[0-9A-F]{32}\.web1;/);
    expect((await res.arrayBuffer()).byteLength).toBe(10);
  });

  it('serves a large body without holding it: the fill pattern streamed in repeated chunks, over AJP and HTTP, byte for byte', async () => {
    const size = 3 * 1024 * 1024 + 7;
    const want = Buffer.alloc(size, 'ajpbench stub container body. ');
    const s = await StubContainer.start({
      listen: [
        { host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' },
        { host: '127.0.0.1', port: 0, route: 'web1', protocol: 'http' },
      ],
      bodySize: size,
    });
    stubs.push(s);
    const p = await peer((s.listeners[0] as { port: number }).port);
    for (let round = 0; round < 2; round++) {
      p.messages.length = 0;
      p.write(forward(p.encoder, round === 0 ? [] : [{ name: 'cookie', value: 'JSESSIONID=A.tomcat1' }]));
      await p.until(() => p.messages.some((m) => m.type === 'end-response'), 10_000);
      const h = p.messages[0] as SendHeaders;
      expect(h.headers.find((x) => x.name === 'Content-Length')?.value).toBe(String(size));
      const chunks = p.messages.flatMap((m) => (m.type === 'send-body-chunk' ? [m.data] : []));
      expect(Buffer.concat(chunks).equals(want)).toBe(true);
      expect(p.messages.at(-1)).toEqual({ type: 'end-response', reuse: true });
    }
    const res = await fetch(`http://${(s.listeners[1] as { address: string }).address}/x`);
    expect(res.headers.get('content-length')).toBe(String(size));
    expect(Buffer.from(await res.arrayBuffer()).equals(want)).toBe(true);
    const head = await fetch(`http://${(s.listeners[1] as { address: string }).address}/x`, { method: 'HEAD' });
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it('does not allocate the body up front', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const { s } = await stub({ bodySize: 64 * 1024 * 1024 });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
    expect(s.listeners).toHaveLength(1);
  });

  it('refuses a body size above the bound, and names a listen address it cannot bind', async () => {
    await expect(
      StubContainer.start({
        listen: [{ host: '127.0.0.1', port: 0, route: 'a', protocol: 'ajp' }],
        bodySize: MAX_STUB_BODY_BYTES + 1,
      }),
    ).rejects.toThrow(/at most 1 GiB/);
    const { port } = await stub();
    const e = await StubContainer.start({ listen: [{ host: '127.0.0.1', port, route: 'a', protocol: 'ajp' }] }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e).toMatchObject({
      code: 'AJPBENCH_ERR_LISTEN',
      message: `cannot listen on 127.0.0.1:${port}: the address is in use`,
    });
  });

  it('waits out a stall before answering', async () => {
    const { s, port } = await stub();
    const p = await peer(port);
    s.stall(300);
    const t0 = performance.now();
    p.write(forward(p.encoder, []));
    await p.until(() => p.messages.some((m) => m.type === 'end-response'));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(280);
  });
});

describe('parseListenAddress', () => {
  it('reads host:port, [v6]:port, a bare port and http://', () => {
    expect(parseListenAddress('127.0.0.1:18009')).toEqual({ host: '127.0.0.1', port: 18009, protocol: 'ajp' });
    expect(parseListenAddress('[::1]:18009')).toEqual({ host: '::1', port: 18009, protocol: 'ajp' });
    expect(parseListenAddress('18009')).toEqual({ host: '127.0.0.1', port: 18009, protocol: 'ajp' });
    expect(parseListenAddress('http://127.0.0.1:18080')).toEqual({ host: '127.0.0.1', port: 18080, protocol: 'http' });
    expect(() => parseListenAddress('nope')).toThrow(/host:port/);
    expect(parseListenAddress('ajp://[::1]:0')).toEqual({ host: '::1', port: 0, protocol: 'ajp' });
  });

  it.each([
    ['ftp://x:1', /ftp:\/\/ is not a listen scheme: use host:port for AJP or http:\/\/host:port/],
    ['http://127.0.0.1:8080/app', /takes no path/],
    ['127.0.0.1:70000', /port 70000 .* 0 to 65535/],
    ['127.0.0.1:', /host:port/],
    [':8009', /host:port/],
    ['a b:1', /not a host name or address/],
    ['x/y:1', /not a host name or address/],
    ['[::1:1', /host:port/],
  ])('refuses %j with a usage error (AJPBENCH_ERR_TARGET)', (text, message) => {
    let err: unknown;
    try {
      parseListenAddress(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ code: 'AJPBENCH_ERR_TARGET', message: expect.stringMatching(message) });
  });
});

/** AjpClient against the stub container: body flow, reuse, ping, secret, errors by kind; and re-encoding fidelity. */
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AjpClient, type AjpClientOptions } from '../../../src/load/ajp-client.js';
import { AjpConnection, AjpRequestEncoder } from '../../../src/load/ajp-connection.js';
import { UsageError } from '../../../src/errors.js';
import { AjpTestContainer } from '../../fixtures/ajp-test-container.js';
import { replay } from '../../../src/load/replay.js';
import { parseTarget } from '../../../src/load/target.js';
import { toReplayRequest, type ReplayRequest } from '../../../src/load/replay-request.js';
import { newResult, type RequestResult } from '../../../src/load/request-result.js';
import { StubContainer, type StubOptions } from '../../../src/load/stub-container.js';
import { FrameDecoder, decodeToContainer, type ForwardRequest } from '../../../src/protocol/index.js';
import type { ExchangeEvent } from '../../../src/trace/index.js';
import { importToEvents } from '../../fixtures/import-trace.js';
import { request } from './helpers.js';

const captures = join(import.meta.dirname, '../../../captures');
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function stub(opts: Partial<StubOptions> = {}): Promise<StubContainer> {
  const s = await StubContainer.start({
    listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }],
    ...opts,
  });
  cleanup.push(() => s.close());
  return s;
}

function client(port: number, over: Partial<AjpClientOptions> = {}): AjpClient {
  const c = new AjpClient({
    host: '127.0.0.1',
    port,
    connections: 4,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    encoder: new AjpRequestEncoder(),
    ...over,
  });
  cleanup.push(() => c.close());
  return c;
}

function send(c: AjpClient, req: ReplayRequest): Promise<RequestResult> {
  const rec = newResult();
  rec.intendedMs = rec.sentMs = performance.now();
  return new Promise((resolve) => c.send(req, rec, () => resolve(rec)));
}

const portOf = (s: StubContainer): number => (s.listeners[0] as { port: number }).port;

describe('AjpClient', () => {
  it('sends GETs and POSTs of every body shape, reading status, route, body bytes and times, on one reused connection', async () => {
    const s = await stub({ bodySize: 20_000 });
    const c = client(portOf(s));
    const bodies = [0, 5, 8186, 8187, 20_000];
    for (const n of bodies) {
      const r = await send(c, request({ body: Buffer.alloc(n, 1) }));
      expect(r).toMatchObject({ status: 200, error: null, bodyBytes: 20_000, route: 'tomcat1' });
      expect(r.headersMs).toBeGreaterThanOrEqual(r.sentMs);
      expect(r.endMs).toBeGreaterThanOrEqual(r.headersMs);
    }
    const chunked = await send(c, request({ body: Buffer.alloc(20_000, 2), chunked: true }));
    expect(chunked.status).toBe(200);
    expect(s.stats.bodyBytes).toBe(bodies.reduce((a, b) => a + b, 0) + 20_000);
    expect(c.connectionStats()).toMatchObject({ opened: 1, reused: bodies.length, failed: 0 });
    expect(s.stats.connections).toBe(1);
  });

  it('sends the secret first among the attributes, and a 403 with reuse=0 closes the connection', async () => {
    const s = await stub({ secret: 'k' });
    const good = client(portOf(s), { encoder: new AjpRequestEncoder({ secret: 'k' }) });
    expect((await send(good, request())).status).toBe(200);
    const bad = client(portOf(s));
    const r = await send(bad, request());
    expect(r).toMatchObject({ status: 403, error: null });
    expect(bad.connectionStats()).toMatchObject({ opened: 1, closedNoReuse: 1 });
  });

  it('CPings as mod_jk ping_mode: C after connect, P before each request', async () => {
    const s = await stub();
    const c = client(portOf(s), { ping: { modes: 'C', timeoutMs: 500, intervalMs: 60_000 } });
    await send(c, request());
    await send(c, request());
    expect(s.stats.cpings).toBe(1);
    const p = client(portOf(s), { ping: { modes: 'P', timeoutMs: 500, intervalMs: 60_000 } });
    await send(p, request());
    await send(p, request());
    expect(s.stats.cpings).toBe(3);
    expect(p.connectionStats()).toMatchObject({ cpings: 2, cpingFailures: 0 });
  });

  it('reports a CPing that gets no CPong as cping-failed', async () => {
    const silent = await listen(() => undefined);
    const c = client(silent, { ping: { modes: 'C', timeoutMs: 100, intervalMs: 60_000 } });
    expect((await send(c, request())).error).toBe('cping-failed');
  });

  it('classifies failures: connect-refused, timeout, reset, closed, protocol, status-5xx', async () => {
    const refused = await listen(() => undefined);
    await closeServer(refused);
    expect((await send(client(refused), request())).error).toBe('connect-refused');

    const slow = await stub({ latencyMs: 1000 });
    const t = await send(client(portOf(slow), { requestTimeoutMs: 100 }), request());
    expect(t.error).toBe('timeout');
    expect(t.endMs - t.sentMs).toBeLessThan(600);

    const reset = await stub({ failRate: 1, failMode: 'reset' });
    expect((await send(client(portOf(reset)), request())).error).toBe('reset');
    const closed = await stub({ failRate: 1, failMode: 'close' });
    expect((await send(client(portOf(closed)), request())).error).toBe('closed');
    const garbage = await listen((sock) => sock.on('data', () => sock.write('HTTP/1.1 400 Bad Request\r\n\r\n')));
    expect((await send(client(garbage), request())).error).toBe('protocol');
    const failing = await stub({ failRate: 1 });
    expect(await send(client(portOf(failing)), request())).toMatchObject({ status: 500, error: 'status-5xx' });
  });
});

describe('re-encoding a trace exchange', () => {
  it('reproduces the Forward Request mod_jk sent, byte for byte (real capture, no redaction)', async () => {
    const { events } = await importToEvents(join(captures, 'mod_jk-post.pcap'), 'auto', {
      redact: false,
      bodies: 'all',
    });
    const ex = events.find((e): e is ExchangeEvent => e.event === 'exchange') as ExchangeEvent;
    const wire = readFileSync(join(captures, 'mod_jk-post.to-container.ajp'));
    const frames: Buffer[] = [];
    new FrameDecoder({ direction: 'to-container' }).push(wire, {
      frame: (p) => frames.push(Buffer.from(p)),
      error: (e) => {
        throw e;
      },
    });
    const recorded = frames.find((f) => f[0] === 0x02) as Buffer;
    const ours = new AjpRequestEncoder().firstFrames(toReplayRequest(ex));
    // firstFrames = Forward Request + the first body packet, as mod_jk writes them.
    const fr = ours.subarray(0, 4 + ours.readUInt16BE(2));
    expect(fr.subarray(4).toString('hex')).toBe(recorded.toString('hex'));
    const firstBody = frames[frames.indexOf(recorded) + 1] as Buffer;
    expect(ours.subarray(fr.length + 4).toString('hex')).toBe(firstBody.toString('hex'));
  });

  it('keeps method, URI, headers in order with their coded/string form, attributes and route for every lab exchange', async () => {
    const { events } = await importToEvents(join(captures, 'lab-mixed.pcap'), [28009, 29009, 28109, 29109], {
      redact: false,
    });
    const exchanges = events.filter((e): e is ExchangeEvent => e.event === 'exchange');
    expect(exchanges.length).toBe(44);
    const enc = new AjpRequestEncoder({ secret: 'labsecret' });
    for (const ex of exchanges) {
      const frame = enc.firstFrames(toReplayRequest(ex));
      const fr = decodeToContainer(frame.subarray(4, 4 + frame.readUInt16BE(2))) as ForwardRequest;
      expect(fr.method).toBe(ex.request.method);
      expect(fr.uri).toBe(ex.request.uri);
      expect(fr.headers.map((h) => [h.name, h.value])).toEqual(ex.request.headers);
      expect(fr.attributes[0]).toEqual({ name: 'secret', value: 'labsecret' });
      const route = fr.attributes.find((a) => a.name === 'route');
      expect(route?.name === 'route' ? route.value : null).toBe(ex.request.attributes.route ?? null);
      expect(
        fr.attributes
          .filter((a) => a.name === 'req_attribute')
          .map((a) => (a.name === 'req_attribute' ? [a.key, a.value] : [])),
      ).toEqual(ex.request.reqAttributes);
    }
  });

  it('applies --rewrite-host, --header and --drop-header', () => {
    const ex = request();
    expect(ex.headers.map((h) => h.name)).toContain('user-agent');
    const r = toReplayRequest(
      { ...(JSON.parse(JSON.stringify({})) as object), ...exchangeOf(ex) },
      {
        rewriteHost: 'new.example:8443',
        setHeaders: [
          ['User-Agent', 'ajpbench'],
          ['X-New', '1'],
        ],
        dropHeaders: ['HOST'],
      },
    );
    // Dropped first, then the new Host appended; --header replaces in place (recorded spelling) or appends.
    expect(r.headers.map((h) => [h.name, h.value, h.coded])).toEqual([
      ['user-agent', 'ajpbench', true],
      ['content-length', '0', true],
      ['host', 'new.example:8443', true],
      ['X-New', '1', false],
    ]);
    expect([r.serverName, r.serverPort]).toEqual(['new.example', 8443]);
  });
});

function exchangeOf(_r: ReplayRequest): ExchangeEvent {
  return JSON.parse(JSON.stringify(baseExchange)) as ExchangeEvent;
}
import { exchange } from './helpers.js';
const baseExchange = exchange();

function listen(onConn: (s: import('node:net').Socket) => void): Promise<number> {
  return new Promise((resolve) => {
    const srv: Server = createServer((sock) => {
      sock.on('error', () => undefined);
      cleanup.push(() => void sock.destroy());
      onConn(sock);
    });
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      servers.set(port, srv);
      cleanup.push(() => closeServer(port));
      resolve(port);
    });
  });
}
const servers = new Map<number, Server>();
function closeServer(port: number): Promise<void> {
  const s = servers.get(port);
  servers.delete(port);
  return new Promise((r) => (s === undefined ? r() : s.close(() => r())));
}

describe('AjpClient: failures say what happened, and a reply cut short is no response', () => {
  it('a reply reset after Send Headers is an error only: no status, no headers time, the message says how far it got', async () => {
    const tc = await AjpTestContainer.start({ bodyBytes: 20_000 });
    cleanup.push(() => tc.close());
    const ex = exchange();
    ex.request.query = 'reset=1';
    const r = await send(client(tc.port), toReplayRequest(ex));
    expect(r.error).toMatch(/^(reset|closed)$/);
    expect(r.status).toBe(0);
    expect(r.headersMs).toBe(-1);
    expect(r.errorMessage).toMatch(/\(after the response headers, status 200\)/);
  });

  it('a connect timeout says it was the connect (not the response) and a CPing timeout says CPong', async () => {
    const port = await listen(() => undefined);
    const opts = { connections: 1, connectTimeoutMs: 1234, requestTimeoutMs: 30_000 };
    const got = await new Promise<[string | null, string | null]>((resolve) => {
      const conn = new AjpConnection(
        '127.0.0.1',
        port,
        new AjpRequestEncoder(),
        opts,
        { closed: () => undefined },
        () => performance.now(),
        (k, m) => resolve([k, m]),
      );
      conn.expire(); // still connecting: the deadline of the connect ran out
    });
    expect(got).toEqual(['connect-timeout', 'not connected within 1234 ms']);
    const c = client(port, { ping: { modes: 'C', timeoutMs: 100, intervalMs: 60_000 } });
    const r = await send(c, request());
    expect(r.error).toBe('cping-failed');
    expect(r.errorMessage).toMatch(/no CPong within 100 ms/);
  });

  it('a failed CPing closes that connection and retries the request on a fresh one (as mod_jk), at most twice in all', async () => {
    const s = await stub();
    // The first connection is a black hole (it never answers the CPing); later ones reach the stub.
    let n = 0;
    const port = await listen((sock) => {
      if (++n === 1) return;
      const up = connect({ host: '127.0.0.1', port: portOf(s) });
      up.on('error', () => sock.destroy());
      sock.pipe(up).pipe(sock);
      cleanup.push(() => void up.destroy());
    });
    const c = client(port, { connections: 1, ping: { modes: 'C', timeoutMs: 100, intervalMs: 60_000 } });
    const r = await send(c, request());
    expect(r).toMatchObject({ status: 200, error: null });
    expect(c.connectionStats()).toMatchObject({ cpings: 2, cpingFailures: 1 });
    // Every connection silent: two tries, then cping-failed naming both.
    const silent = await listen(() => undefined);
    const d = client(silent, { connections: 1, ping: { modes: 'C', timeoutMs: 50, intervalMs: 60_000 } });
    const f = await send(d, request());
    expect(f.error).toBe('cping-failed');
    expect(f.errorMessage).toMatch(/2 tries/);
    expect(d.connectionStats()).toMatchObject({ cpings: 2, cpingFailures: 2 });
  });

  it('after a failure the next request does not find the pool full of dead connections ("all N connections are busy")', async () => {
    const silent = await listen(() => undefined);
    const c = client(silent, { connections: 1, ping: { modes: 'C', timeoutMs: 50, intervalMs: 60_000 } });
    const second = await new Promise<RequestResult>((resolve) => {
      const first = newResult();
      c.send(request(), first, () => {
        // The scheduler sends the next request from the callback, before the socket's 'close' event.
        const next = newResult();
        c.send(request(), next, () => resolve(next));
      });
    });
    expect(second.error).toBe('cping-failed');
    expect(second.errorMessage).not.toMatch(/busy/);
  });

  it('replay gives a request its CPing tries before it gives up on it (the drain time counts them)', async () => {
    const silent = await listen(() => undefined);
    const { report } = await replay({
      trace: join(captures, 'lab-mixed.trace.jsonl'),
      targets: [parseTarget(`ajp://127.0.0.1:${silent}`)],
      model: 'closed',
      // The second worker finds the limit reached and ends the schedule while the first one is still in its CPings.
      concurrency: 2,
      limits: { warmupMs: 0, durationMs: Infinity, requests: 1 },
      ping: { modes: 'C', timeoutMs: 800, intervalMs: 60_000 },
      connectTimeoutMs: 100,
      requestTimeoutMs: 100,
    });
    expect(report.schedule.abandoned).toBe(0);
    expect(report.errors.byKind).toEqual([
      { kind: 'cping-failed', count: 1, example: 'no CPong within 800 ms (2 tries, each on its own connection)' },
    ]);
  });

  it('a port no socket can use is refused when the client is made, not thrown from inside a send', async () => {
    expect(
      () =>
        new AjpClient({
          host: '127.0.0.1',
          port: 70_000,
          connections: 1,
          connectTimeoutMs: 100,
          requestTimeoutMs: 100,
          encoder: new AjpRequestEncoder(),
        }),
    ).toThrow(UsageError);
    expect(
      () =>
        new AjpClient({
          host: '127.0.0.1',
          port: 0,
          connections: 1,
          connectTimeoutMs: 100,
          requestTimeoutMs: 100,
          encoder: new AjpRequestEncoder(),
        }),
    ).toThrow(/port/);
    // A NaN timeout never expires (and makes the sweep interval NaN): refused too.
    expect(
      () =>
        new AjpClient({
          host: '127.0.0.1',
          port: 1,
          connections: 1,
          connectTimeoutMs: 100,
          requestTimeoutMs: NaN,
          encoder: new AjpRequestEncoder(),
        }),
    ).toThrow(/request timeout/);
    expect(
      () =>
        new AjpClient({
          host: '127.0.0.1',
          port: 1,
          connections: 1,
          connectTimeoutMs: 2 ** 31,
          requestTimeoutMs: 100,
          encoder: new AjpRequestEncoder(),
        }),
    ).toThrow(UsageError);
  });
});

/**
 * TapProxy: bytes pass unchanged both ways under load, with garbage and with a failing decoder;
 * half-close and resets are passed on; back-pressure bounds the tap's memory; an upstream that
 * is down resets the client and the tap keeps accepting; stop() drains in-flight exchanges.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TapProxy } from '../../../src/capture/index.js';
import { AjpEncoder } from '../../../src/protocol/index.js';
import type { ErrorEvent, ExchangeEvent, IncompleteEvent, TraceEvent } from '../../../src/trace/index.js';
import { AjpTestClient, forwardRequest } from '../../fixtures/ajp-test-client.js';
import { AjpTestContainer, responseBody, type TestContainerOptions } from '../../fixtures/ajp-test-container.js';
import {
  closedPort,
  collect,
  LOOPBACK,
  connectRaw,
  listenRaw,
  mixedPayload,
  prng,
  sha256,
  startTap,
  waitFor,
  withTimeout,
  writePieces,
  type TracedTap,
} from '../../fixtures/tap-fixtures.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function container(opts: TestContainerOptions = {}): Promise<AjpTestContainer> {
  const c = await AjpTestContainer.start(opts);
  cleanups.push(() => c.close());
  return c;
}

async function tapTo(port: number, opts: Parameters<typeof startTap>[1] = {}): Promise<TracedTap> {
  // A test's own trace sink (emit) runs on this thread: those tests trace inline.
  const t = await startTap(port, { ...(opts.emit === undefined ? { tracer: proxyTracer } : {}), ...opts });
  cleanups.push(() => t.close());
  return t;
}

/** The forwarding, semantics and stop tests run with the tracer inline and on a tracer thread. */
const TRACERS = ['inline', 'thread'] as const;
let proxyTracer: (typeof TRACERS)[number] = 'inline';
beforeEach(() => {
  proxyTracer = 'inline'; // the other tests, and each describe.each sets its own
});

/** Every connection closed, and the tracer caught up with what they forwarded. */
async function closedAndTraced(t: TracedTap, timeoutMs: number, what: string): Promise<void> {
  await waitFor(() => t.tap.stats.open === 0, timeoutMs, what);
  await t.settled();
}

const ofType = <K extends TraceEvent['event']>(events: TraceEvent[], k: K): Extract<TraceEvent, { event: K }>[] =>
  events.filter((e): e is Extract<TraceEvent, { event: K }> => e.event === k);

/**
 * Many connections at once, each carrying its own mixed payload both ways at the same time. The
 * upstream learns which plan a connection follows from its first 4 bytes (an index), answers with
 * that plan's payload while still receiving, and reports a hash of what it received.
 */
async function byteExactness(
  seed: number,
  emitHook?: (e: TraceEvent) => void,
  tapOptions: Parameters<typeof startTap>[1] = {},
): Promise<TracedTap> {
  const rand = prng(seed);
  const CONNECTIONS = 40;
  const plans = Array.from({ length: CONNECTIONS }, (_, i) => {
    const big = i % 13 === 0;
    const id = Buffer.alloc(4);
    id.writeUInt32BE(i);
    const toServer = Buffer.concat([
      id,
      mixedPayload(rand, big ? 3_000_000 : Math.floor(rand() * 300_000), 'to-container'),
    ]);
    const toClient = mixedPayload(rand, big ? 4_000_000 : Math.floor(rand() * 300_000), 'to-web-server');
    return { toServer, toClient };
  });
  const serverGot = new Map<number, string>();
  const upstream = await listenRaw((s) => {
    const parts: Buffer[] = [];
    let started = false;
    s.on('data', (c: Buffer) => {
      parts.push(c);
      if (!started && parts.reduce((n, p) => n + p.length, 0) >= 4) {
        started = true;
        const plan = plans[Buffer.concat(parts).readUInt32BE(0)];
        if (plan !== undefined) void writePieces(s, plan.toClient, prng(seed + 1));
      }
    });
    s.on('end', () => {
      const all = Buffer.concat(parts);
      serverGot.set(all.readUInt32BE(0), sha256(all));
    });
  });
  cleanups.push(() => upstream.close());
  const t = await tapTo(upstream.port, { ...tapOptions, ...(emitHook === undefined ? {} : { emit: emitHook }) });
  const results = await withTimeout(
    Promise.all(
      plans.map(async (plan, i) => {
        const s = await connectRaw(t.port);
        const got = collect(s);
        await writePieces(s, plan.toServer, prng(seed * 31 + i));
        return got;
      }),
    ),
    15_000,
    'all transfers',
  );
  results.forEach((r, i) => {
    const plan = plans[i];
    expect(r.error, `connection ${i}`).toBeUndefined();
    expect(r.data.length, `connection ${i} bytes to the client`).toBe(plan?.toClient.length);
    expect(sha256(r.data), `connection ${i} to the client`).toBe(sha256(plan?.toClient ?? Buffer.alloc(0)));
  });
  await waitFor(() => serverGot.size === CONNECTIONS, 5000, 'the upstream to see every end');
  plans.forEach((plan, i) => expect(serverGot.get(i), `connection ${i} to the upstream`).toBe(sha256(plan.toServer)));
  await closedAndTraced(t, 5000, 'every connection to close');
  const total = plans.reduce((n, p) => n + p.toServer.length + p.toClient.length, 0);
  const st = t.tap.stats;
  expect(st.bytesToContainer + st.bytesToWebServer).toBe(total);
  expect(st.connections).toBe(CONNECTIONS);
  return t;
}

describe.each(TRACERS)('TapProxy forwarding (%s tracer)', (tracer) => {
  beforeEach(() => {
    proxyTracer = tracer;
  });

  it('passes random AJP and non-AJP payloads both ways byte for byte on 40 concurrent connections', async () => {
    const t = await byteExactness(1);
    const errors = ofType(t.events, 'error');
    // The garbage made the decoder resynchronise (error events), and nothing else went wrong.
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.code.startsWith('AJP_ERR_'))).toBe(true);
    const closes = ofType(t.events, 'connection').filter((e) => e.state === 'close');
    expect(closes).toHaveLength(40);
    expect(closes.every((e) => e.reason === 'fin')).toBe(true);
  }, 30_000);

  // A test's own slow or failing sink: inline only (the thread's shedding: tap-tracer-thread.test.ts).
  it.skipIf(tracer === 'thread')(
    'still passes every byte when the decoder itself fails (the connection is no longer traced)',
    async () => {
      let thrown = 0;
      const t = await byteExactness(2, (e) => {
        if (e.event === 'exchange' || e.event === 'cping') {
          thrown++;
          throw new Error('sink failure');
        }
      });
      expect(thrown).toBeGreaterThan(0);
      expect(ofType(t.events, 'error').some((e) => e.code === 'TAP_ERR_DECODER')).toBe(true);
    },
    30_000,
  );

  // A test's own slow or failing sink: inline only (the thread's shedding: tap-tracer-thread.test.ts).
  it.skipIf(tracer === 'thread')(
    'a tracer slowed on purpose sheds trace work past the backlog bound, never traffic: every byte still passes, the shed connections are counted and said',
    async () => {
      let slowed = 0;
      const t = await byteExactness(
        3,
        () => {
          // Every event costs the tracer 2 ms of CPU: far slower than 40 connections of traffic.
          slowed++;
          const until = performance.now() + 2;
          while (performance.now() < until);
        },
        { maxTraceBacklogBytes: 256 * 1024 },
      );
      expect(slowed).toBeGreaterThan(0);
      const st = t.tap.stats;
      expect(st.tracesShed).toBeGreaterThan(0);
      const behind = ofType(t.events, 'error').filter((e) => e.code === 'TAP_ERR_TRACE_BEHIND');
      expect(behind).toHaveLength(st.tracesShed);
      // A shed connection's trace is closed (reason error) where it stops; every connection's trace is closed once.
      const closes = ofType(t.events, 'connection').filter((e) => e.state === 'close');
      expect(closes).toHaveLength(40);
      expect(closes.filter((e) => e.reason === 'error').length).toBe(st.tracesShed);
      for (const b of behind) expect(closes.some((c) => c.conn === b.conn && c.reason === 'error')).toBe(true);
    },
    30_000,
  );

  it('traces what went through an AJP container: exchanges with bodies, CPings and connection reuse, labelled with the worker', async () => {
    const c = await container({ route: 'tomcat1' });
    const t = await tapTo(c.port, { worker: 'tomcat1', options: { bodies: 'all', maxBody: 1 << 20 } });
    const client = await AjpTestClient.connect(t.port);
    const body = Buffer.alloc(20_000, 7);
    expect(await client.cping()).toBeGreaterThan(0);
    const r1 = await client.request('/app/a?size=30000', { body });
    const r2 = await client.request('/app/b?size=10');
    expect(await client.cping()).toBeGreaterThan(0);
    client.close();
    await closedAndTraced(t, 5000, 'close');
    expect(r1.status).toBe(200);
    expect(r1.body.equals(responseBody(30000))).toBe(true);
    expect(r1.headers['x-request-body-sha256']).toBe(sha256(body));
    expect(r1.bodyRequests).toBe(2);
    expect(r2.body.length).toBe(10);
    expect(c.connections).toBe(1); // one upstream connection for one client connection, reused
    const x = ofType(t.events, 'exchange');
    expect(x.map((e) => [e.request.uri, e.request.query, e.response.status, e.worker])).toEqual([
      ['/app/a', 'size=30000', 200, 'tomcat1'],
      ['/app/b', 'size=10', 200, 'tomcat1'],
    ]);
    expect(x[0]?.request.body).toMatchObject({ length: 20_000, sha256: sha256(body) });
    expect(x[0]?.response.body).toMatchObject({ length: 30_000, sha256: sha256(r1.body) });
    expect(x[0]?.bodyRequests).toBe(2);
    expect(ofType(t.events, 'cping')).toHaveLength(2);
    expect(ofType(t.events, 'connection').map((e) => [e.state, e.reason, e.worker])).toEqual([
      ['open', undefined, 'tomcat1'],
      ['close', 'fin', 'tomcat1'],
    ]);
    expect(t.tap.stats).toMatchObject({ exchanges: 2, cpings: 2, errors: 0, connections: 1, open: 0 });
  });
});

describe.each(TRACERS)('TapProxy connection semantics (%s tracer)', (tracer) => {
  beforeEach(() => {
    proxyTracer = tracer;
  });

  it('keeps half-close: the client shuts down its side and still reads the whole answer', async () => {
    const answer = Buffer.alloc(500_000, 3);
    const upstream = await listenRaw((s) => {
      const parts: Buffer[] = [];
      s.on('data', (c: Buffer) => parts.push(c));
      // Answers only after the request side is closed, like a peer that reads to EOF first.
      s.on('end', () => {
        s.write(Buffer.concat([Buffer.from(`got ${Buffer.concat(parts).length}\n`), answer]));
        s.end();
      });
    });
    cleanups.push(() => upstream.close());
    const t = await tapTo(upstream.port);
    const s = await connectRaw(t.port);
    const got = collect(s);
    s.end(Buffer.alloc(12345, 1));
    const r = await withTimeout(got, 5000, 'answer after half-close');
    expect(r.error).toBeUndefined();
    expect(r.data.subarray(0, 10).toString()).toBe('got 12345\n');
    expect(r.data.length).toBe(10 + answer.length);
  });

  it('keeps half-close the other way: the upstream shuts down first and still receives', async () => {
    let received = 0;
    let upstreamSawEnd = false;
    const upstream = await listenRaw((s) => {
      s.end('bye\n'); // FIN right away, keeps reading
      s.on('data', (c: Buffer) => (received += c.length));
      s.on('end', () => (upstreamSawEnd = true));
    });
    cleanups.push(() => upstream.close());
    const t = await tapTo(upstream.port);
    const s = await connectRaw(t.port);
    const got = collect(s);
    await new Promise<void>((resolve) => s.once('end', resolve)); // the FIN came through
    s.end(Buffer.alloc(100_000, 2)); // and we can still send after it
    const r = await withTimeout(got, 5000, 'close');
    expect(r.data.toString()).toBe('bye\n');
    await waitFor(() => upstreamSawEnd, 2000, 'upstream end');
    expect(received).toBe(100_000);
  });

  it('keeps an idle keep-alive connection open (no timeout of its own) and reuses it', async () => {
    const c = await container({ route: 'tomcat1' });
    const t = await tapTo(c.port);
    const client = await AjpTestClient.connect(t.port);
    await client.request('/app/first');
    await new Promise((r) => setTimeout(r, 1500));
    expect(client.closed).toBe(false);
    expect((await client.request('/app/second')).status).toBe(200);
    expect(c.connections).toBe(1);
    expect(t.tap.stats.open).toBe(1);
    client.close();
  });

  it('passes an upstream reset on: the client gets what was sent before it, then ECONNRESET; the exchange is incomplete (reset)', async () => {
    const c = await container({ route: 'tomcat1' });
    const t = await tapTo(c.port);
    const client = await AjpTestClient.connect(t.port);
    const err = await client.request('/app/r?size=200000&reset=1').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    await closedAndTraced(t, 5000, 'close');
    expect(client.closed).toBe(true);
    const incomplete = ofType(t.events, 'incomplete');
    expect(incomplete).toHaveLength(1);
    expect(incomplete[0]).toMatchObject({ reason: 'reset', status: 200 } satisfies Partial<IncompleteEvent>);
    expect(ofType(t.events, 'error').map((e) => e.code)).toContain('TAP_ERR_UPSTREAM_RESET');
    expect(ofType(t.events, 'connection').find((e) => e.state === 'close')?.reason).toBe('rst');
    expect(t.tap.stats.resets).toBe(1);
  });

  it('passes a client reset on: the upstream gets the bytes sent before it, then ECONNRESET', async () => {
    let upstreamResult: Promise<{ data: Buffer; error: string | undefined }> | undefined;
    const upstream = await listenRaw((s) => {
      upstreamResult = collect(s);
    });
    cleanups.push(() => upstream.close());
    const t = await tapTo(upstream.port);
    const client = await AjpTestClient.connect(t.port);
    // A POST whose body never completes: Forward Request and the first body packet, then RST.
    void client.request('/app/upload', { body: Buffer.alloc(50_000, 9) }).catch(() => undefined);
    await waitFor(() => t.tap.stats.bytesToContainer > 8000, 5000, 'request bytes');
    const sentBefore = t.tap.stats.bytesToContainer;
    client.socket.resetAndDestroy();
    await waitFor(() => upstreamResult !== undefined, 2000, 'upstream connection');
    const r = await withTimeout(upstreamResult as NonNullable<typeof upstreamResult>, 5000, 'upstream close');
    expect(r.error).toBe('ECONNRESET');
    expect(r.data.length).toBe(sentBefore);
    await closedAndTraced(t, 5000, 'close');
    expect(ofType(t.events, 'error').map((e) => e.code)).toContain('TAP_ERR_CLIENT_RESET');
    expect(ofType(t.events, 'incomplete')[0]).toMatchObject({
      reason: 'reset',
      request: { method: 'POST', uri: '/app/upload' },
    });
  });

  it('bounds its memory with a client that stops reading: back-pressure reaches the upstream', async () => {
    const c = await container();
    const t = await tapTo(c.port);
    const client = await AjpTestClient.connect(t.port);
    const SIZE = 64 * 1024 * 1024;
    const pending = client.request(`/app/big?size=${SIZE}`, { timeoutMs: 60_000 });
    client.socket.pause(); // reads nothing more
    // Wait until the container is stuck on a full socket (its sent count stops moving).
    let last = -1;
    let peakBuffered = 0;
    for (let i = 0; i < 100 && c.sentBytes !== last; i++) {
      last = c.sentBytes;
      await new Promise((r) => setTimeout(r, 100));
      peakBuffered = Math.max(peakBuffered, t.tap.stats.bufferedBytes);
    }
    expect(c.sentBytes).toBeLessThan(SIZE / 2); // the kernel buffers hold some MB; nowhere near all of it
    const BOUND = 256 * 1024;
    expect(peakBuffered).toBeLessThan(BOUND);
    expect(t.tap.stats.peakQueuedBytes).toBeLessThan(BOUND);
    client.socket.resume();
    const r = await withTimeout(pending, 30_000, 'the whole body once reading again');
    expect(r.body.length).toBe(SIZE);
    expect(sha256(r.body)).toBe(sha256(responseBody(SIZE)));
    expect(t.tap.stats.peakQueuedBytes).toBeLessThan(BOUND);
    client.close();
  }, 40_000);

  it('resets the client when the upstream refuses, records TAP_ERR_UPSTREAM_CONNECT, and keeps accepting', async () => {
    const port = await closedPort();
    const t = await tapTo(port);
    for (let i = 0; i < 3; i++) {
      const s = await connectRaw(t.port);
      const got = collect(s);
      s.write(Buffer.from([0x12, 0x34, 0x00, 0x01, 0x0a]));
      const r = await withTimeout(got, 5000, 'client closed');
      expect(r.data.length).toBe(0);
      expect(r.error).toBe('ECONNRESET');
    }
    await closedAndTraced(t, 2000, 'closed');
    const errors = ofType(t.events, 'error').filter((e) => e.code === 'TAP_ERR_UPSTREAM_CONNECT');
    expect(errors).toHaveLength(3);
    expect(errors[0]?.message).toMatch(/ECONNREFUSED/);
    expect(t.tap.stats.upstreamFailures).toBe(3);
    // Tomcat comes back on that port: the same tap now forwards.
    const c = await AjpTestContainer.start({ route: 'back' }, port);
    cleanups.push(() => c.close());
    const client = await AjpTestClient.connect(t.port);
    const r = await client.request('/app/x?size=5');
    expect(r.headers['x-served-by']).toBe('back');
    client.close();
  });

  it('lets garbage from either side through, reports it, and decodes the exchange that follows', async () => {
    const enc = new AjpEncoder();
    const junkIn = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff\x12\x34garbage');
    const junkOut = Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n');
    const request = enc.forwardRequest(forwardRequest('/app/after?x=1'));
    const response = Buffer.concat([
      enc.sendHeaders({ status: 201, message: 'Created', headers: [] }),
      enc.sendBodyChunk(Buffer.from('ok')),
      enc.endResponse(true),
    ]);
    const upstream = await listenRaw((s) => {
      let n = 0;
      s.on('data', (c: Buffer) => {
        n += c.length;
        if (n >= junkIn.length + request.length) s.end(Buffer.concat([junkOut, response]));
      });
    });
    cleanups.push(() => upstream.close());
    const t = await tapTo(upstream.port);
    const s = await connectRaw(t.port);
    const got = collect(s);
    s.end(Buffer.concat([junkIn, request]));
    const r = await withTimeout(got, 5000, 'answer');
    expect(r.data.equals(Buffer.concat([junkOut, response]))).toBe(true);
    await closedAndTraced(t, 2000, 'close');
    const errors = ofType(t.events, 'error');
    expect(new Set(errors.map((e: ErrorEvent) => e.direction))).toEqual(new Set(['to-container', 'to-web-server']));
    const x = ofType(t.events, 'exchange');
    expect(x.map((e: ExchangeEvent) => [e.request.uri, e.response.status])).toEqual([['/app/after', 201]]);
  });
});

describe.each(TRACERS)('TapProxy stop (%s tracer)', (tracer) => {
  beforeEach(() => {
    proxyTracer = tracer;
  });

  it('closes idle connections at once, lets in-flight exchanges finish, then resolves', async () => {
    const c = await container();
    const t = await tapTo(c.port);
    const idle = await Promise.all([0, 1, 2].map(() => AjpTestClient.connect(t.port)));
    await idle[0]?.cping();
    const busy = await Promise.all([0, 1, 2, 3, 4].map(() => AjpTestClient.connect(t.port)));
    const answers = busy.map((b, i) => b.request(`/app/slow?delay=300&size=${1000 + i}`));
    await waitFor(() => c.requests === 5, 2000, 'requests at the container');
    const started = Date.now();
    const result = await t.tap.stop({ drainMs: 3000 });
    const took = Date.now() - started;
    await t.settled();
    expect(result.cutOff).toBe(0);
    expect(took).toBeGreaterThanOrEqual(200);
    expect(took).toBeLessThan(2500);
    const rs = await Promise.all(answers);
    rs.forEach((r, i) => expect(r.body.length).toBe(1000 + i));
    expect(idle.every((x) => x.closed)).toBe(true);
    expect(ofType(t.events, 'exchange')).toHaveLength(5);
    expect(ofType(t.events, 'incomplete')).toHaveLength(0);
    const closes = ofType(t.events, 'connection').filter((e) => e.state === 'close');
    expect(closes).toHaveLength(idle.length + rs.length);
    expect(closes.every((e) => e.reason === 'end')).toBe(true);
    // No longer listening.
    await expect(connectRaw(t.port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('cuts off what is still running at the drain deadline (incomplete, reason end)', async () => {
    const c = await container();
    const t = await tapTo(c.port);
    const client = await AjpTestClient.connect(t.port);
    const answer = client.request('/app/slower?delay=3000').catch((e: Error) => e);
    await waitFor(() => c.requests === 1, 2000, 'request at the container');
    const started = Date.now();
    const result = await t.tap.stop({ drainMs: 200 });
    expect(Date.now() - started).toBeLessThan(1500);
    await t.settled();
    expect(result.cutOff).toBe(1);
    expect(await answer).toBeInstanceOf(Error);
    expect(ofType(t.events, 'incomplete')[0]).toMatchObject({ reason: 'end', request: { uri: '/app/slower' } });
  });
});

describe('TapProxy against what would otherwise end the process or the tap', () => {
  it('refuses at construction what every connection would fail on (packet size, upstream port, connect timeout)', () => {
    const base = { listen: { host: LOOPBACK, port: 0 }, upstream: { host: LOOPBACK, port: 8009 } };
    expect(() => new TapProxy({ ...base, maxPacketSize: 100 })).toThrow(RangeError);
    expect(() => new TapProxy({ ...base, upstream: { host: LOOPBACK, port: 70000 } })).toThrow(RangeError);
    expect(() => new TapProxy({ ...base, connectTimeoutMs: 2 ** 31 })).toThrow(RangeError);
    expect(() => new TapProxy({ ...base, connectTimeoutMs: 0 })).toThrow(RangeError);
  });

  it('a stop() that comes while the listen is under way still closes the listening socket', async () => {
    const port = await closedPort();
    const tap = new TapProxy({ listen: { host: LOOPBACK, port }, upstream: { host: LOOPBACK, port: 1 } });
    const started = tap.start();
    const stopped = tap.stop({ drainMs: 0 });
    await withTimeout(Promise.all([started, stopped]), 2000, 'start and stop');
    const deadline = Date.now() + 2000;
    let refused = false;
    while (!refused && Date.now() < deadline) {
      refused = await connectRaw(port).then(
        (s) => {
          s.destroy();
          return false;
        },
        () => true,
      );
      if (!refused) await new Promise((r) => setTimeout(r, 20));
    }
    expect(refused).toBe(true);
  });

  it('a drain longer than a timer can wait waits (it is not cut off at once by a timer that overflowed)', async () => {
    const c = await container();
    const t = await tapTo(c.port);
    const client = await AjpTestClient.connect(t.port);
    const answer = client.request('/app/slow?delay=300&size=100');
    await waitFor(() => c.requests === 1, 2000, 'request at the container');
    const result = await withTimeout(t.tap.stop({ drainMs: 2 ** 31 }), 3000, 'the drain');
    expect(result.cutOff).toBe(0);
    expect((await answer).body.length).toBe(100);
  });

  it('a trace sink that throws while a connection is set up leaves that connection forwarded, untraced', async () => {
    const c = await container({ route: 'tomcat1' });
    const t = await tapTo(c.port, {
      emit: (e) => {
        if (e.event === 'connection' && e.state === 'open') throw new Error('sink failure at open');
      },
    });
    const client = await AjpTestClient.connect(t.port);
    expect((await client.request('/app/x?size=5')).body.length).toBe(5);
    client.close();
    await closedAndTraced(t, 2000, 'close');
    expect(ofType(t.events, 'error').map((e) => e.code)).toContain('TAP_ERR_DECODER');
    expect(ofType(t.events, 'exchange')).toHaveLength(0);
  });
});

describe('TapProxy socket options', () => {
  /** `ss -tno` lines of established TCP sockets matching a filter (Linux iproute2). */
  function ssLines(filter: string): string[] {
    return execFileSync('ss', ['-tnoH', 'state', 'established', filter], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '');
  }
  const hasSs = ((): boolean => {
    try {
      execFileSync('ss', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasSs)(
    "keepAliveMs: TCP keepalive on both of the tap's sockets (accepted and upstream), none without it",
    async () => {
      const c = await container();
      for (const keepAliveMs of [7000, undefined]) {
        const t = await tapTo(c.port, keepAliveMs === undefined ? {} : { keepAliveMs });
        const client = await AjpTestClient.connect(t.port);
        expect((await client.request('/app/ka')).status).toBe(200);
        const accepted = ssLines(`( sport = :${t.port} )`);
        const upstream = ssLines(`( dport = :${c.port} )`);
        expect(accepted).toHaveLength(1);
        expect(upstream).toHaveLength(1);
        for (const line of [...accepted, ...upstream]) {
          if (keepAliveMs === undefined) expect(line).not.toMatch(/timer:\(keepalive/);
          else expect(line).toMatch(/timer:\(keepalive,[0-9.]+(s|sec)?/);
        }
        client.close();
        await closedAndTraced(t, 2000, 'close');
        await t.tap.stop({ drainMs: 0 });
      }
    },
  );

  it('refuses a keepalive below 1 s (the kernel counts it in whole seconds)', () => {
    expect(
      () =>
        new TapProxy({
          listen: { host: '127.0.0.1', port: 0 },
          upstream: { host: '127.0.0.1', port: 1 },
          keepAliveMs: 500,
        }),
    ).toThrow(/keepAliveMs must be from 1000/);
  });
});

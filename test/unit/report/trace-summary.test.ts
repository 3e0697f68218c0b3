/** TraceSummaryBuilder: exact counts and percentiles from hand-made events, URI folding, bounds. */
import { mkdtempSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderSummaryTable } from '../../../src/report/summary-table.js';
import { TraceSummaryBuilder, summarizeTrace, type Count } from '../../../src/report/trace-summary.js';
import { MAX_URI_KEY_LENGTH, foldUri } from '../../../src/trace/uri-fold.js';
import { TraceWriter } from '../../../src/trace/trace-writer.js';
import type { ExchangeEvent, TraceEvent, TraceHeader } from '../../../src/trace/trace-types.js';

const header: TraceHeader = {
  format: 'ajpbench-trace',
  version: 1,
  minorVersion: 0,
  tool: 'ajpbench 0.1.0',
  source: { kind: 'pcap', file: 'prod.pcap', ports: [8009] },
  startTime: '2025-03-01T12:00:00.000Z',
  startTimeUs: Date.parse('2025-03-01T12:00:00.000Z') * 1000,
  options: { redact: true, bodies: 'none', maxBody: 0 },
};

interface Ex {
  t?: number;
  method?: string;
  uri?: string | null;
  status?: number;
  route?: string | null;
  worker?: string;
  headersUs?: number | null;
  endUs?: number;
  inBytes?: number;
  outBytes?: number;
  byteStrings?: true;
}

let nextId = 0;
function exchange(x: Ex = {}): ExchangeEvent {
  return {
    event: 'exchange',
    id: nextId++,
    conn: 1,
    t: x.t ?? 0,
    upstream: '10.0.0.2:8009',
    ...(x.worker === undefined ? {} : { worker: x.worker }),
    request: {
      method: x.method ?? 'GET',
      protocol: 'HTTP/1.1',
      uri: x.uri === undefined ? '/' : x.uri,
      query: null,
      remoteAddr: '10.0.0.9',
      remoteHost: null,
      serverName: 'www',
      serverPort: 80,
      isSsl: false,
      headers: [],
      attributes: {},
      reqAttributes: [],
      body: { length: x.inBytes ?? 0, sha256: '' },
    },
    response: {
      status: x.status ?? 200,
      message: 'OK',
      headers: [],
      body: { length: x.outBytes ?? 0, sha256: '' },
      reuse: true,
    },
    timing: { headersUs: x.headersUs === undefined ? 10 : x.headersUs, endUs: x.endUs ?? 20 },
    route: x.route === undefined ? null : x.route,
    routeSource: x.route === undefined || x.route === null ? null : 'cookie',
    bodyRequests: 0,
    ...(x.byteStrings === undefined ? {} : { byteStrings: x.byteStrings }),
  };
}

function summarize(events: TraceEvent[], opts = {}): ReturnType<TraceSummaryBuilder['build']> {
  const b = new TraceSummaryBuilder(header, opts);
  for (const e of events) b.add(e);
  return b.build();
}

const asObject = (rows: Count[]): Record<string, number> => Object.fromEntries(rows.map((r) => [r.name, r.count]));

/** Nearest rank, as HdrHistogram defines a percentile: the smallest value with at least p% at or below it. */
function exactPercentile(sorted: number[], permille: number): number {
  const rank = Math.max(1, Math.ceil((permille * sorted.length) / 1000));
  return sorted[rank - 1] ?? NaN;
}

describe('TraceSummaryBuilder counts', () => {
  const events: TraceEvent[] = [
    { event: 'connection', conn: 1, t: 100, state: 'open', client: '10.0.0.1:50000', upstream: '10.0.0.2:8009' },
    { event: 'connection', conn: 2, t: 150, state: 'open', client: '10.0.0.1:50001', upstream: '10.0.0.2:8009' },
    exchange({ t: 1_000, method: 'GET', uri: '/a', status: 200, route: 'node1', inBytes: 0, outBytes: 1000 }),
    exchange({ t: 2_000, method: 'GET', uri: '/a', status: 304, route: 'node1', outBytes: 0 }),
    exchange({ t: 3_000, method: 'POST', uri: '/b', status: 201, route: 'node2', inBytes: 512, outBytes: 10 }),
    exchange({ t: 4_000, method: 'GET', uri: '/c', status: 404, route: null, outBytes: 5 }),
    exchange({ t: 11_000, method: 'DELETE', uri: '/c', status: 503, route: null, headersUs: null, endUs: 5_000 }),
    exchange({ t: 5_000, method: 'GET', uri: '/c', status: 101 }),
    exchange({ t: 6_000, method: 'GET', uri: '/d', status: 700 }),
    { event: 'cping', conn: 1, t: 50, rttUs: 100 },
    { event: 'cping', conn: 1, t: 60, rttUs: 300 },
    { event: 'cping', conn: 1, t: 70, rttUs: null },
    {
      event: 'incomplete',
      id: 99,
      conn: 2,
      t: 7_000,
      upstream: '10.0.0.2:8009',
      reason: 'reset',
      seen: ['forward-request'],
      request: null,
      status: null,
    },
    {
      event: 'incomplete',
      id: 98,
      conn: 2,
      t: 7_500,
      upstream: '10.0.0.2:8009',
      reason: 'gap',
      seen: [],
      request: null,
      status: null,
    },
    {
      event: 'incomplete',
      id: 97,
      conn: 2,
      t: 7_600,
      upstream: '10.0.0.2:8009',
      reason: 'reset',
      seen: [],
      request: null,
      status: null,
    },
    { event: 'error', t: 8_000, conn: 2, code: 'AJP_ERR_BAD_MAGIC', message: 'x' },
    { event: 'error', t: 8_100, code: 'CAPTURE_ERR_GAP', message: 'y' },
    { event: 'error', t: 8_200, code: 'AJP_ERR_BAD_MAGIC', message: 'z' },
    {
      event: 'connection',
      conn: 1,
      t: 20_000,
      state: 'close',
      client: '10.0.0.1:50000',
      upstream: '10.0.0.2:8009',
      reason: 'fin',
      bytesToContainer: 700,
      bytesToWebServer: 9000,
    },
    {
      event: 'connection',
      conn: 2,
      t: 20_500,
      state: 'close',
      client: '10.0.0.1:50001',
      upstream: '10.0.0.2:8009',
      reason: 'rst',
    },
    { event: 'connection', conn: 3, t: 20_600, state: 'close', client: '10.0.0.1:50002', upstream: '10.0.0.2:8009' },
  ];
  const s = summarize(events);

  it('counts exchanges by method, status class, route and URI', () => {
    expect(s.events).toBe(events.length);
    expect(s.exchanges).toBe(7);
    expect(s.methods).toEqual([
      { name: 'GET', count: 5 },
      { name: 'DELETE', count: 1 },
      { name: 'POST', count: 1 },
    ]);
    expect(s.statusClasses).toEqual({ '1xx': 1, '2xx': 2, '3xx': 1, '4xx': 1, '5xx': 1, other: 1, incomplete: 3 });
    expect(asObject(s.routes)).toEqual({ none: 4, node1: 2, node2: 1 });
    expect(s.workers).toBeNull();
    expect(s.uris).toEqual({
      top: [
        { name: '/c', count: 3 },
        { name: '/a', count: 2 },
        { name: '/b', count: 1 },
        { name: '/d', count: 1 },
      ],
      distinct: 4,
      capped: false,
      other: 0,
    });
  });

  it('sums body bytes, and counts CPings, connections, errors and incomplete exchanges', () => {
    expect(s.bytes).toEqual({ requestBodies: 512, responseBodies: 1015 });
    expect(s.cping).toMatchObject({
      count: 3,
      noCPong: 1,
      rttUs: { count: 2, mean: 200, p50: 100, p99: 300, max: 300 },
    });
    expect(s.connections).toEqual({
      opened: 2,
      closed: 3,
      closedBy: [
        { name: 'fin', count: 1 },
        { name: 'rst', count: 1 },
        { name: 'unknown', count: 1 },
      ],
      bytesToContainer: 700,
      bytesToWebServer: 9000,
    });
    expect(s.errors).toEqual({
      count: 3,
      byCode: [
        { name: 'AJP_ERR_BAD_MAGIC', count: 2 },
        { name: 'CAPTURE_ERR_GAP', count: 1 },
      ],
    });
    expect(s.incomplete).toEqual({
      count: 3,
      byReason: [
        { name: 'reset', count: 2 },
        { name: 'gap', count: 1 },
      ],
    });
  });

  it('counts truncated exchanges (trace minor 1), ended or not, and the bytes they lack', () => {
    expect(s.truncated).toEqual({ exchanges: 0, incomplete: 0, missingBytes: 0 });
    const t = summarize([
      {
        ...exchange({ t: 1_000, method: 'GET', uri: '/a', status: 200 }),
        truncated: { missingBytes: 300, request: 'headers' },
      },
      exchange({ t: 2_000, method: 'GET', uri: '/b', status: 200 }),
      {
        event: 'incomplete',
        id: 9,
        conn: 1,
        t: 3_000,
        upstream: '10.0.0.2:8009',
        reason: 'end',
        seen: ['forward-request'],
        request: null,
        status: null,
        truncated: { missingBytes: 20, response: 'status' },
      },
    ]);
    expect(t.exchanges).toBe(2);
    expect(t.truncated).toEqual({ exchanges: 1, incomplete: 1, missingBytes: 320 });
    expect(renderSummaryTable(t)).toMatch(
      /truncated \(capture lacks bytes\) +│ +1 exchanges, 1 incomplete, 320 B missing/,
    );
  });

  it('measures the time span and the request rate', () => {
    // Earliest event: the CPing at 50; latest end: the close at 20 600 (the DELETE ends at 16 000).
    expect(s.span).toEqual({
      firstUs: 50,
      lastUs: 20_600,
      durationUs: 20_550,
      firstAt: '2025-03-01T12:00:00.000Z',
      lastAt: '2025-03-01T12:00:00.020Z',
    });
    // Seven Forward Requests from 1 000 to 11 000 µs: six intervals in 10 ms.
    expect(s.requestSpanUs).toBe(10_000);
    expect(s.requestsPerSecond).toBeCloseTo(600, 9);
    expect(s.latency.headersUs.count).toBe(6); // the 503 had no Send Headers
    expect(s.latency.endUs).toMatchObject({ count: 7, max: 5_000 });
  });

  it('copies the header facts', () => {
    expect(s.trace).toEqual({ ...header, format: 'ajpbench-trace' });
  });

  it('lists workers when any exchange has one', () => {
    const w = summarize([
      exchange({ worker: 'jk1' }),
      exchange({ worker: 'jk1' }),
      exchange({ worker: 'jk2' }),
      exchange(),
    ]);
    expect(w.workers).toEqual([
      { name: 'jk1', count: 2 },
      { name: 'jk2', count: 1 },
      { name: 'none', count: 1 },
    ]);
  });

  it('gives nulls, not zeros, for statistics over nothing', () => {
    const empty = summarize([]);
    expect(empty.exchanges).toBe(0);
    expect(empty.requestsPerSecond).toBeNull();
    expect(empty.span).toEqual({ firstUs: null, lastUs: null, durationUs: 0, firstAt: null, lastAt: null });
    expect(empty.latency.endUs).toEqual({
      count: 0,
      mean: null,
      p50: null,
      p90: null,
      p99: null,
      p99_9: null,
      max: null,
    });
    expect(summarize([exchange()]).requestsPerSecond).toBeNull();
  });

  it('skips and counts malformed events and event kinds it does not know', () => {
    const broken = { event: 'exchange', id: 1, conn: 1, t: 5 } as unknown as TraceEvent;
    const noTime = { event: 'cping', conn: 1, rttUs: 3 } as unknown as TraceEvent;
    const future = { event: 'gc-pause', t: 9 } as unknown as TraceEvent;
    const r = summarize([broken, noTime, future, exchange()]);
    expect(r).toMatchObject({ events: 4, malformedEvents: 2, unknownEvents: 1, exchanges: 1 });
  });

  it("counts the tap's dropped events as trace work shed, not as unknown kinds", () => {
    const dropped = (exchanges: number, events: number): TraceEvent => ({
      event: 'dropped',
      t: 10,
      code: 'TAP_ERR_TRACE_BEHIND',
      exchanges,
      events,
      from: 1,
      to: 9,
    });
    const bad = { event: 'dropped', t: 11, code: 'TAP_ERR_TRACE_BEHIND', exchanges: 'many' } as unknown as TraceEvent;
    const r = summarize([dropped(3, 7), dropped(2, 2), bad, exchange()]);
    expect(r).toMatchObject({ unknownEvents: 0, malformedEvents: 1, dropped: { reports: 2, exchanges: 5, events: 9 } });
    expect(renderSummaryTable(r)).toMatch(/not traced \(the tap fell behind\).*5 exchanges, 9 events, in 2 gaps/);
  });

  it('counts an exchange whose fields have the wrong type as malformed, never throws', () => {
    const bad = (path: string[], value: unknown): TraceEvent => {
      const ev = structuredClone(exchange()) as unknown as Record<string, Record<string, unknown>>;
      const last = path.at(-1) as string;
      if (path.length === 1) (ev as Record<string, unknown>)[last] = value;
      else (ev[path[0] as string] as Record<string, unknown>)[last] = value;
      return ev as unknown as TraceEvent;
    };
    const events = [
      bad(['request', 'uri'], 42),
      bad(['request', 'uri'], ['/a', '/b']),
      bad(['request', 'uri'], { path: '/a' }),
      bad(['request', 'method'], 7),
      bad(['request', 'headers'], 'host: x'),
      bad(['response', 'status'], '200'),
      bad(['response', 'body'], null),
      bad(['route'], 5),
      bad(['worker'], ['w']),
      exchange(),
    ];
    const r = summarize(events);
    expect(r).toMatchObject({ events: 10, malformedEvents: 9, exchanges: 1 });
    expect(r.uris.top).toEqual([{ name: '/', count: 1 }]);
  });

  it('renders a header whose fields have the wrong type without throwing', () => {
    const odd = {
      ...header,
      tool: 42,
      startTime: ['x'],
      startTimeUs: 'soon',
      source: { kind: 'tap', taps: [null, { listen: 1 }] },
      options: { redact: 'yes', bodies: 3, maxBody: null },
    } as unknown as TraceHeader;
    const b = new TraceSummaryBuilder(odd);
    b.add(exchange());
    const s = b.build();
    expect(s.trace).toMatchObject({ tool: 'unknown', startTime: '', startTimeUs: null, options: null });
    expect(() => renderSummaryTable(s)).not.toThrow();
    const pcap = new TraceSummaryBuilder({
      ...header,
      source: { kind: 'pcap', file: { x: 1 }, ports: 'all' },
    } as unknown as TraceHeader).build();
    expect(() => renderSummaryTable(pcap)).not.toThrow();
  });
});

describe('latency percentiles', () => {
  const PERMILLES = { p50: 500, p90: 900, p99: 990, p99_9: 999 } as const;

  it('are exact against sorting for values below 2048 µs (full HDR resolution there)', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 2000); // a permutation-ish spread
    const s = summarize(values.map((endUs, i) => exchange({ t: i, endUs, headersUs: Math.floor(endUs / 2) })));
    const sorted = [...values].sort((a, b) => a - b);
    for (const [k, pm] of Object.entries(PERMILLES)) {
      expect(s.latency.endUs[k as keyof typeof PERMILLES], k).toBe(exactPercentile(sorted, pm));
    }
    expect(s.latency.endUs.max).toBe(sorted[sorted.length - 1]);
    expect(s.latency.endUs.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
    const halves = [...values].map((v) => Math.floor(v / 2)).sort((a, b) => a - b);
    expect(s.latency.headersUs.p99).toBe(exactPercentile(halves, 990));
  });

  it('with a hand-made list: 1..100 ms and one 10 s outlier', () => {
    const values = [...Array.from({ length: 100 }, (_, i) => (i + 1) * 1000), 10_000_000];
    const s = summarize(values.map((endUs) => exchange({ endUs })));
    // Nearest rank over 101 values: p50 is the 51st (51 ms), p90 the 91st, p99 the 100th, p99.9 the 101st.
    const sorted = [...values].sort((a, b) => a - b);
    expect(s.latency.endUs.count).toBe(101);
    expect(s.latency.endUs.max).toBe(10_000_000);
    for (const [k, pm] of Object.entries(PERMILLES)) {
      const got = s.latency.endUs[k as keyof typeof PERMILLES] ?? NaN;
      const want = exactPercentile(sorted, pm);
      expect(got, k).toBeGreaterThanOrEqual(want);
      expect(got, k).toBeLessThanOrEqual(want * (1 + 1 / 1024));
    }
    expect(s.latency.endUs.p99_9).toBe(10_000_000); // clamped to the true max, not the bucket's top
  });

  it('are within HDR precision of the sorted values, never above max (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3_600_000_000 }), { minLength: 1, maxLength: 300 }), (values) => {
        const s = summarize(values.map((endUs) => exchange({ endUs })));
        const sorted = [...values].sort((a, b) => a - b);
        const l = s.latency.endUs;
        expect(l.max).toBe(sorted[sorted.length - 1]);
        for (const [k, pm] of Object.entries(PERMILLES)) {
          const got = l[k as keyof typeof PERMILLES] ?? NaN;
          const want = exactPercentile(sorted, pm);
          expect(got).toBeGreaterThanOrEqual(want);
          expect(got).toBeLessThanOrEqual(Math.min(want * (1 + 1 / 1024), l.max ?? NaN));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('foldUri', () => {
  it.each([
    ['/orders/123', '/orders/{n}'],
    ['/orders/123/items/7', '/orders/{n}/items/{n}'],
    ['/u/550e8400-e29b-41d4-a716-446655440000/x', '/u/{id}/x'],
    ['/blob/5f2b8c0e9a7d4e1f', '/blob/{id}'],
    ['/sess/0A1B2C3D4E5F60718293A4B5C6D7E8F9', '/sess/{id}'],
    ['/facade/deadbeef', '/facade/deadbeef'], // hex-looking words without a digit stay
    ['/v2/api', '/v2/api'],
    ['/abc1', '/abc1'], // too short for an id
    ['/search?q=1&page=2', '/search'],
    ['/login;jsessionid=ABC123.node1', '/login'],
    ['/a/42;v=1/b', '/a/{n}/b'],
    ['/', '/'],
    ['*', '*'],
  ])('%s -> %s', (uri, folded) => {
    expect(foldUri(uri)).toBe(folded);
  });

  it('names a missing URI and escapes control characters', () => {
    expect(foldUri(null)).toBe('(none)');
    expect(foldUri('')).toBe('(none)');
    expect(foldUri('/a\x1b[31m/b\n')).toBe('/a%1B[31m/b%0A');
    expect(foldUri('/x\u009b2J')).toBe('/x%9B2J');
  });

  it('reads byte strings as UTF-8 when they are, else escapes the bytes', () => {
    const utf8AsBytes = Buffer.from('/café/12', 'utf8').toString('latin1');
    expect(foldUri(utf8AsBytes, { byteStrings: true })).toBe('/café/{n}');
    expect(foldUri('/caf\xe9', { byteStrings: true })).toBe('/caf%E9');
    expect(foldUri('/caf\xe9')).toBe('/café'); // not a byte string: the text as it is
  });

  it('bounds the key length', () => {
    const key = foldUri('/' + 'x'.repeat(5000));
    expect(key).toHaveLength(MAX_URI_KEY_LENGTH);
    expect(key.endsWith('…')).toBe(true);
  });
});

describe('URI table', () => {
  it('folds before counting and lists the top N', () => {
    const uris = ['/item/1', '/item/2', '/item/3', '/cart', '/cart', '/x?y=1', '/x'];
    const s = summarize(
      uris.map((uri) => exchange({ uri })),
      { top: 2 },
    );
    expect(s.uris).toEqual({
      top: [
        { name: '/item/{n}', count: 3 },
        { name: '/cart', count: 2 },
      ],
      distinct: 3,
      capped: false,
      other: 0,
    });
  });

  it('counts distinct URIs up to the cap, and the rest as other', () => {
    const uris = ['/a', '/b', '/c', '/d', '/a', '/e', '/d', '/c'];
    const s = summarize(
      uris.map((uri) => exchange({ uri })),
      { maxDistinctUris: 3 },
    );
    expect(s.uris).toEqual({
      top: [
        { name: '/a', count: 2 },
        { name: '/c', count: 2 },
        { name: '/b', count: 1 },
      ],
      distinct: 3,
      capped: true,
      other: 3, // /d twice and /e
    });
  });

  it('stays bounded over many distinct URIs', () => {
    const b = new TraceSummaryBuilder(header, { maxDistinctUris: 100 });
    for (let i = 0; i < 20_000; i++) b.add(exchange({ uri: `/page-${i}` }));
    const s = b.build();
    expect(s.uris.distinct).toBe(100);
    expect(s.uris.other).toBe(19_900);
    expect(s.uris.top).toHaveLength(10);
  });

  it('groups byteStrings exchanges with their text twins and keeps their other keys readable', () => {
    const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
    const s = summarize([
      exchange({ uri: '/straße/9' }),
      exchange({ uri: bytes('/straße/10'), route: bytes('knoten-ü'), byteStrings: true }),
      exchange({ uri: '/bad\xff', route: 'r\xff', byteStrings: true }),
    ]);
    expect(s.exchanges).toBe(3);
    expect(s.uris.top).toEqual([
      { name: '/straße/{n}', count: 2 },
      { name: '/bad%FF', count: 1 },
    ]);
    expect(asObject(s.routes)).toEqual({ 'knoten-ü': 1, none: 1, 'r%FF': 1 });
  });
});

describe('summarizeTrace', () => {
  it('streams a trace file and counts lines it cannot read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ajpbench-summary-'));
    const file = join(dir, 't.jsonl');
    const w = await TraceWriter.create(file, header);
    await w.write(exchange({ status: 500 }));
    await w.write(exchange({ status: 200 }));
    await w.close();
    appendFileSync(file, '{"event":"exch\n[1,2]\n');
    const s = await summarizeTrace(file, { top: 5 });
    expect(s).toMatchObject({ events: 2, exchanges: 2, unreadableLines: 2, firstUnreadableLine: 4 });
    expect(s.statusClasses).toMatchObject({ '2xx': 1, '5xx': 1 });
  });
});

/**
 * The metrics monitor: a known sequence of trace events gives exact counts, histogram _count and
 * _sum on the scraped text; the URI label stays bounded; live figures are read at scrape time; the
 * /metrics endpoint answers, 404s elsewhere and closes.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AjpMetrics,
  MAX_TRACKED_CONNECTIONS,
  MetricsServer,
  OTHER_URI,
  parseUriGroupRule,
  UriGroups,
  type LiveFigures,
} from '../../../src/capture/index.js';
import type { ExchangeEvent, TraceEvent } from '../../../src/trace/index.js';
import { parseSamples, sampleSum, sampleValue } from '../../fixtures/prom-text.js';

interface Ex {
  conn?: number;
  worker?: string;
  method?: string;
  uri?: string | null;
  status?: number;
  headersUs?: number | null;
  endUs?: number;
  inBytes?: number;
  outBytes?: number;
}

let nextId = 0;
function exchange(x: Ex = {}): ExchangeEvent {
  return {
    event: 'exchange',
    id: ++nextId,
    conn: x.conn ?? 1,
    t: 0,
    upstream: '127.0.0.1:18009',
    ...(x.worker === undefined ? {} : { worker: x.worker }),
    request: {
      method: x.method ?? 'GET',
      protocol: 'HTTP/1.1',
      uri: x.uri === undefined ? '/app/hello' : x.uri,
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
    timing: { headersUs: x.headersUs === undefined ? 1000 : x.headersUs, endUs: x.endUs ?? 2000 },
    route: null,
    routeSource: null,
    bodyRequests: 0,
  };
}

const open = (conn: number, worker?: string): TraceEvent => ({
  event: 'connection',
  conn,
  t: 0,
  state: 'open',
  client: '127.0.0.1:40000',
  upstream: '127.0.0.1:18009',
  ...(worker === undefined ? {} : { worker }),
});
const close = (conn: number, worker: string | undefined, toC: number, toW: number): TraceEvent => ({
  event: 'connection',
  conn,
  t: 1,
  state: 'close',
  client: '127.0.0.1:40000',
  upstream: '127.0.0.1:18009',
  ...(worker === undefined ? {} : { worker }),
  reason: 'fin',
  bytesToContainer: toC,
  bytesToWebServer: toW,
});

async function scrape(m: AjpMetrics): Promise<string> {
  return (await m.scrape()).body;
}

describe('AjpMetrics', () => {
  it('counts exchanges by worker, method and status class, with exact histogram counts and sums', async () => {
    const m = new AjpMetrics({ processMetrics: false });
    const events: TraceEvent[] = [
      open(1, 'tomcat1'),
      open(2, 'tomcat2'),
      exchange({ worker: 'tomcat1', headersUs: 1000, endUs: 3000, inBytes: 10, outBytes: 100 }),
      exchange({ worker: 'tomcat1', headersUs: 2000, endUs: 5000, outBytes: 5000 }),
      exchange({ worker: 'tomcat1', method: 'POST', status: 503, headersUs: 500, endUs: 700, inBytes: 2048 }),
      exchange({ worker: 'tomcat2', status: 302, headersUs: null, endUs: 40_000_000 }),
      exchange({ worker: 'tomcat2', method: 'BREW', status: 999 }),
      { event: 'cping', conn: 1, t: 0, rttUs: 150 },
      { event: 'cping', conn: 1, t: 0, rttUs: 250 },
      { event: 'cping', conn: 2, t: 0, rttUs: null },
      { event: 'error', conn: 2, t: 0, code: 'AJP_ERR_BAD_MAGIC', message: 'x' },
      { event: 'error', t: 0, code: 'TAP_ERR_ACCEPT', message: 'y' },
      {
        event: 'incomplete',
        id: 99,
        conn: 2,
        t: 0,
        upstream: '127.0.0.1:28009',
        worker: 'tomcat2',
        reason: 'reset',
        seen: [],
        request: null,
        status: null,
      },
      close(1, 'tomcat1', 300, 7000),
    ];
    for (const e of events) m.observe(e);
    const s = parseSamples(await scrape(m));
    const v = (name: string, labels: Record<string, string>): number | undefined => sampleValue(s, name, labels);

    expect(v('ajpbench_exchanges_total', { worker: 'tomcat1', method: 'GET', status_class: '2xx' })).toBe(2);
    expect(v('ajpbench_exchanges_total', { worker: 'tomcat1', method: 'POST', status_class: '5xx' })).toBe(1);
    expect(v('ajpbench_exchanges_total', { worker: 'tomcat2', method: 'GET', status_class: '3xx' })).toBe(1);
    expect(v('ajpbench_exchanges_total', { worker: 'tomcat2', method: 'other', status_class: 'other' })).toBe(1);
    expect(sampleSum(s, 'ajpbench_exchanges_total')).toBe(5);

    // Time to end: tomcat1 2xx saw 3 ms and 5 ms.
    expect(v('ajpbench_exchange_duration_seconds_count', { worker: 'tomcat1', status_class: '2xx' })).toBe(2);
    expect(v('ajpbench_exchange_duration_seconds_sum', { worker: 'tomcat1', status_class: '2xx' })).toBeCloseTo(
      0.008,
      12,
    );
    expect(
      v('ajpbench_exchange_duration_seconds_bucket', { worker: 'tomcat1', status_class: '2xx', le: '0.0025' }),
    ).toBe(0);
    expect(
      v('ajpbench_exchange_duration_seconds_bucket', { worker: 'tomcat1', status_class: '2xx', le: '0.005' }),
    ).toBe(2);
    // 40 s is past the last bucket (30 s): only +Inf holds it.
    expect(v('ajpbench_exchange_duration_seconds_bucket', { worker: 'tomcat2', status_class: '3xx', le: '30' })).toBe(
      0,
    );
    expect(v('ajpbench_exchange_duration_seconds_bucket', { worker: 'tomcat2', status_class: '3xx', le: '+Inf' })).toBe(
      1,
    );
    // Time to headers: an exchange without Send Headers is not observed.
    expect(v('ajpbench_time_to_headers_seconds_count', { worker: 'tomcat1', status_class: '2xx' })).toBe(2);
    expect(v('ajpbench_time_to_headers_seconds_sum', { worker: 'tomcat1', status_class: '2xx' })).toBeCloseTo(
      0.003,
      12,
    );
    expect(v('ajpbench_time_to_headers_seconds_count', { worker: 'tomcat2', status_class: '3xx' })).toBeUndefined();
    // Histogram counts equal exchange counts, per worker.
    expect(sampleSum(s, 'ajpbench_exchange_duration_seconds_count', { worker: 'tomcat2' })).toBe(2);
    expect(sampleSum(s, 'ajpbench_uri_duration_seconds_count', { worker: 'tomcat1' })).toBe(3);

    expect(v('ajpbench_request_body_bytes_sum', { worker: 'tomcat1' })).toBe(10 + 2048);
    expect(v('ajpbench_response_body_bytes_sum', { worker: 'tomcat1' })).toBe(5100);
    expect(v('ajpbench_response_body_bytes_bucket', { worker: 'tomcat1', le: '4096' })).toBe(2);

    expect(v('ajpbench_cping_rtt_seconds_count', { worker: 'tomcat1' })).toBe(2);
    expect(v('ajpbench_cping_rtt_seconds_sum', { worker: 'tomcat1' })).toBeCloseTo(0.0004, 12);
    expect(v('ajpbench_cpings_without_pong_total', { worker: 'tomcat2' })).toBe(1);
    expect(v('ajpbench_errors_total', { worker: 'tomcat2', code: 'AJP_ERR_BAD_MAGIC' })).toBe(1);
    expect(v('ajpbench_errors_total', { worker: 'unknown', code: 'TAP_ERR_ACCEPT' })).toBe(1);
    expect(v('ajpbench_incomplete_exchanges_total', { worker: 'tomcat2', reason: 'reset' })).toBe(1);

    // Without live figures: open connections and bytes from the connection events.
    expect(v('ajpbench_connections_total', { worker: 'tomcat1' })).toBe(1);
    expect(v('ajpbench_connections_closed_total', { worker: 'tomcat1', reason: 'fin' })).toBe(1);
    expect(v('ajpbench_open_connections', { worker: 'tomcat1' })).toBe(0);
    expect(v('ajpbench_open_connections', { worker: 'tomcat2' })).toBe(1);
    expect(v('ajpbench_bytes_total', { worker: 'tomcat1', direction: 'to_container' })).toBe(300);
    expect(v('ajpbench_bytes_total', { worker: 'tomcat1', direction: 'to_web_server' })).toBe(7000);
  });

  it('labels by the container address when the tap has no worker name (an import)', async () => {
    const m = new AjpMetrics({ processMetrics: false });
    m.observe(open(1));
    m.observe(exchange());
    const text = await scrape(m);
    expect(
      sampleValue(text, 'ajpbench_exchanges_total', { worker: '127.0.0.1:18009', method: 'GET', status_class: '2xx' }),
    ).toBe(1);
  });

  it('reads bytes, open connections and dropped trace work from live figures at scrape time', async () => {
    const m = new AjpMetrics({ processMetrics: false });
    let figures: LiveFigures = { taps: [], eventsDropped: 0, exchangesDropped: 0 };
    m.readLiveFrom(() => figures);
    const tap = { open: 3, bytesToContainer: 10, bytesToWebServer: 20, upstreamFailures: 1, resets: 2, tracesShed: 0 };
    figures = { taps: [{ label: 'tomcat1', ...tap }], eventsDropped: 7, exchangesDropped: 4 };
    let text = await scrape(m);
    expect(sampleValue(text, 'ajpbench_open_connections', { worker: 'tomcat1' })).toBe(3);
    expect(sampleValue(text, 'ajpbench_bytes_total', { worker: 'tomcat1', direction: 'to_web_server' })).toBe(20);
    expect(sampleValue(text, 'ajpbench_tap_events_total', { worker: 'tomcat1', kind: 'reset_passed_on' })).toBe(2);
    expect(sampleValue(text, 'ajpbench_trace_dropped_total', { kind: 'exchanges' })).toBe(4);
    figures = {
      taps: [{ label: 'tomcat1', ...tap, open: 1, bytesToWebServer: 5000 }],
      eventsDropped: 7,
      exchangesDropped: 4,
    };
    text = await scrape(m);
    expect(sampleValue(text, 'ajpbench_open_connections', { worker: 'tomcat1' })).toBe(1);
    expect(sampleValue(text, 'ajpbench_bytes_total', { worker: 'tomcat1', direction: 'to_web_server' })).toBe(5000);
    // A source that throws costs its figures, not the scrape.
    m.readLiveFrom(() => {
      throw new Error('gone');
    });
    text = await scrape(m);
    expect(sampleValue(text, 'ajpbench_trace_dropped_total', { kind: 'events' })).toBe(0);
  });

  it('keeps the uri label bounded: rules, then the top patterns, then other', async () => {
    const m = new AjpMetrics({
      processMetrics: false,
      uriGroups: { rules: [parseUriGroupRule('static=/static/**'), parseUriGroupRule('api=~^/api/v\\d+/')], top: 3 },
    });
    for (let i = 0; i < 2000; i++) m.observe(exchange({ worker: 'tomcat1', uri: `/scan/${i.toString(36)}x/${i}` }));
    for (let round = 0; round < 3; round++)
      for (const p of ['/a', '/b', '/c', '/d', '/e']) m.observe(exchange({ worker: 'tomcat1', uri: `${p}/${round}` }));
    m.observe(exchange({ worker: 'tomcat1', uri: '/static/css/site.css' }));
    m.observe(exchange({ worker: 'tomcat1', uri: '/api/v2/orders/7?x=1' }));
    m.observe(exchange({ worker: 'tomcat1', uri: null }));
    const s = parseSamples(await scrape(m));
    const uris = new Set(s.filter((x) => x.name === 'ajpbench_uri_exchanges_total').map((x) => x.labels.uri));
    expect([...uris].sort()).toEqual(['(none)', '/a/{n}', '/b/{n}', '/c/{n}', 'api', 'other', 'static'].sort());
    expect(sampleSum(s, 'ajpbench_uri_exchanges_total')).toBe(2000 + 15 + 3);
    // Each admitted pattern counts from its second sighting: its first went to other.
    expect(
      sampleValue(s, 'ajpbench_uri_exchanges_total', { worker: 'tomcat1', uri: '/a/{n}', status_class: '2xx' }),
    ).toBe(2);
    expect(sampleValue(s, 'ajpbench_uri_groups', {})).toBe(2 + 3 + 2);
  });

  it('forgets the oldest connection past MAX_TRACKED_CONNECTIONS (one whose close never comes)', async () => {
    const m = new AjpMetrics({ processMetrics: false });
    for (let c = 1; c <= MAX_TRACKED_CONNECTIONS + 1; c++) m.observe(open(c, 'tomcat1'));
    m.observe({ event: 'cping', conn: 1, t: 0, rttUs: null });
    m.observe({ event: 'cping', conn: 2, t: 0, rttUs: null });
    const s = parseSamples(await scrape(m));
    expect(sampleValue(s, 'ajpbench_cpings_without_pong_total', { worker: 'unknown' })).toBe(1);
    expect(sampleValue(s, 'ajpbench_cpings_without_pong_total', { worker: 'tomcat1' })).toBe(1);
  });

  it('keeps the worker label bounded', async () => {
    const m = new AjpMetrics({ processMetrics: false });
    for (let i = 0; i < 100; i++) m.observe(exchange({ worker: `w${i}` }));
    const s = parseSamples(await scrape(m));
    const workers = new Set(s.filter((x) => x.name === 'ajpbench_exchanges_total').map((x) => x.labels.worker));
    expect(workers.size).toBe(65);
    expect(sampleValue(s, 'ajpbench_exchanges_total', { worker: 'other', method: 'GET', status_class: '2xx' })).toBe(
      36,
    );
  });

  it('scrapes, metric by metric, the same text as the registry renders in one go', async () => {
    const m = new AjpMetrics({ processMetrics: false, uriGroups: { top: 5 } });
    m.observe(open(1, 'tomcat1'));
    for (let i = 0; i < 20; i++)
      m.observe(exchange({ worker: 'tomcat1', uri: `/x${i % 3}/${i}`, status: 200 + (i % 3) * 100 }));
    expect((await m.scrape()).body).toBe(await m.registry.metrics());
  });

  it('exports the process metrics by default', async () => {
    const text = await scrape(new AjpMetrics());
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
  });
});

describe('UriGroups and --uri-group rules', () => {
  it('globs match whole paths segment by segment; regexes are unanchored; the query is ignored', () => {
    const g = parseUriGroupRule('orders=/shop/*/orders/**');
    expect(g.matches('/shop/eu/orders/1/lines')).toBe(true);
    expect(g.matches('/shop/eu/x/orders/1')).toBe(false);
    expect(parseUriGroupRule('q=/a?c').matches('/abc')).toBe(true);
    expect(parseUriGroupRule('dot=/a.b').matches('/aXb')).toBe(false);
    const groups = new UriGroups({ rules: [parseUriGroupRule('jsp=~\\.jsp$')], top: 0 });
    expect(groups.label('/app/index.jsp?x=1.jsp')).toBe('jsp');
    expect(groups.label('/app/other')).toBe(OTHER_URI);
  });

  it('refuses malformed rules with a message that says the form', () => {
    expect(() => parseUriGroupRule('nothing')).toThrow(/NAME=GLOB or NAME=~REGEX/);
    expect(() => parseUriGroupRule('bad name=/x')).toThrow(/NAME=GLOB/);
    expect(() => parseUriGroupRule('r=~(')).toThrow(/not a valid pattern/);
    expect(() => new UriGroups({ top: 1001 })).toThrow(/0 to 1000/);
  });
});

describe('MetricsServer', () => {
  const servers: MetricsServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves /metrics in the text format, 404 elsewhere, 405 for other methods, 500 for a failed scrape', async () => {
    const m = new AjpMetrics({ processMetrics: false });
    m.observe(exchange({ worker: 'tomcat1' }));
    const server = await MetricsServer.start({ host: '127.0.0.1', port: 0 }, () => m.scrape());
    servers.push(server);
    const ok = await get(server.url);
    expect(ok.status).toBe(200);
    expect(ok.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(
      sampleValue(ok.body, 'ajpbench_exchanges_total', { worker: 'tomcat1', method: 'GET', status_class: '2xx' }),
    ).toBe(1);
    expect((await get(`${server.url}?x=1`)).status).toBe(200);
    expect((await get(server.url.replace('/metrics', '/'))).status).toBe(404);
    expect((await get(server.url.replace('/metrics', '/metricsx'))).status).toBe(404);
    expect((await get(server.url, 'POST')).status).toBe(405);
    const head = await get(server.url, 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);

    const failing = await MetricsServer.start({ host: '127.0.0.1', port: 0 }, () => Promise.reject(new Error('boom')));
    servers.push(failing);
    const err = await get(failing.url);
    expect([err.status, err.body]).toEqual([500, 'the metrics could not be collected: boom\n']);
  });

  it('refuses an address in use with a TapListenError, and closes with a keep-alive scraper connected', async () => {
    const server = await MetricsServer.start({ host: '127.0.0.1', port: 0 }, () =>
      Promise.resolve({ contentType: 'text/plain', body: 'x\n' }),
    );
    await expect(MetricsServer.start(server.address(), () => Promise.reject(new Error('no')))).rejects.toMatchObject({
      name: 'TapListenError',
      errno: 'EADDRINUSE',
    });
    // A keep-alive connection stays open after its answer; close() must not wait for it.
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request(server.url, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    agent.destroy();
    await expect(get(server.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

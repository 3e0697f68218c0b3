/** ReplayResults, the verifier and the value parsers: exact counts from hand-made records. */
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseRate } from '../../../src/cli/options.js';
import { ReplayResults } from '../../../src/load/replay-results.js';
import { newResult, type RequestResult } from '../../../src/load/request-result.js';
import { responseVerifier } from '../../../src/load/response-verifier.js';
import { parseTarget } from '../../../src/load/target.js';
import { UsageError } from '../../../src/errors.js';
import { progressLine, renderReplayTable } from '../../../src/report/replay-table.js';
import type { ScheduleStats } from '../../../src/results/replay-report.js';
import { request } from './helpers.js';

function rec(over: Partial<RequestResult>): RequestResult {
  return { ...newResult(), intendedMs: 1000, sentMs: 1000, headersMs: 1001, endMs: 1002, status: 200, ...over };
}

const schedule: ScheduleStats = {
  model: 'open loop, constant 10/s, up to 4 in flight',
  startMs: 1000,
  elapsedMs: 3000,
  stoppedBy: 'duration',
  sent: 8,
  warmupRequests: 1,
  abandoned: 0,
  notSent: 0,
  lateSends: 0,
  maxLateMs: 0,
  queued: 0,
  maxBacklog: 0,
};

describe('ReplayResults', () => {
  it('keeps warmup out, times only responses (from the due time), groups by route, status class and second', () => {
    const r = new ReplayResults(['ajp://a:1', 'ajp://b:2']);
    r.begin(1000, 500);
    r.add(rec({ warmup: true }));
    r.add(rec({ intendedMs: 1500, headersMs: 1510, endMs: 1520, route: 'tomcat1' }));
    r.add(rec({ intendedMs: 1600, headersMs: 1700, endMs: 1750, route: 'tomcat1', status: 302 }));
    r.add(rec({ intendedMs: 2600, headersMs: 2601, endMs: 2602, target: 1 }));
    r.add(rec({ intendedMs: 2700, headersMs: 2800, endMs: 3600, status: 503, error: 'status-5xx', route: 'tomcat2' }));
    r.add(
      rec({
        intendedMs: 2800,
        headersMs: -1,
        endMs: 2900,
        status: 0,
        error: 'connect-refused',
        errorMessage: 'ECONNREFUSED',
        target: 1,
      }),
    );
    r.add(rec({ intendedMs: 2900, headersMs: -1, endMs: 3000, status: 0, error: 'connect-refused', target: 1 }));
    const rep = r.report(schedule, [], { warmupMs: 500 }, 'now');
    expect(rep.requests).toMatchObject({ total: 6, responses: 4, errors: 3 });
    expect(rep.latency.timeToCompleteUs).toMatchObject({ count: 4, max: 900_000 });
    // HDR percentiles are the highest value equivalent to the recorded one (3 significant digits).
    expect(rep.latency.timeToHeadersUs.p50).toBeGreaterThanOrEqual(10_000);
    expect(rep.latency.timeToHeadersUs.p50).toBeLessThan(10_010);
    expect(decodeFromCompressedBase64(rep.latency.timeToCompleteUs.histogram).totalCount).toBe(4);
    expect(rep.byStatusClass.map((g) => [g.name, g.count])).toEqual([
      ['2xx', 2],
      ['3xx', 1],
      ['5xx', 1],
    ]);
    expect(rep.workers).toEqual([
      { name: 'ajp://b:2', count: 3, share: 0.5 },
      { name: 'tomcat1', count: 2, share: 2 / 6 },
      { name: 'tomcat2', count: 1, share: 1 / 6 },
    ]);
    expect(rep.errors.byKind).toEqual([
      { kind: 'connect-refused', count: 2, example: 'ECONNREFUSED' },
      { kind: 'status-5xx', count: 1, example: null },
    ]);
    // Seconds after the warmup (it ends at 1500), by end time.
    expect(rep.throughput.series.map(({ p99Us: _p99, ...rest }) => rest)).toEqual([
      { second: 0, responses: 2, errors: 0, workers: { tomcat1: 2 } },
      { second: 1, responses: 1, errors: 2, workers: { 'ajp://b:2': 3 } },
      { second: 2, responses: 1, errors: 1, workers: { tomcat2: 1 } },
    ]);
    // Per-second p99 of the responses that ended in each second: 150 ms, 2 ms, 900 ms (2 significant digits).
    const p99 = rep.throughput.series.map((x) => x.p99Us ?? 0);
    [150_000, 2_000, 900_000].forEach((want, i) => {
      expect(p99[i]).toBeGreaterThanOrEqual(want);
      expect(p99[i]).toBeLessThan(want * 1.01);
    });
    expect(rep.measuredMs).toBe(2100);
    expect(rep.verify).toBeNull();
    const text = renderReplayTable(rep);
    expect(text).toContain('Latency (from the due time)');
    expect(text).toContain('connect-refused');
  });

  it('a reply that failed after its headers is an error only: not a response, not timed, not in throughput or status classes', () => {
    const r = new ReplayResults(['ajp://a:1']);
    r.begin(0, 0);
    // As a client that did not clear the status would hand it over: headers came, then the peer closed.
    for (let i = 0; i < 44; i++)
      r.add(
        rec({
          intendedMs: 0,
          headersMs: 1,
          endMs: 5,
          status: 200,
          error: 'closed',
          errorMessage: 'the connection closed',
        }),
      );
    r.add(rec({ intendedMs: 0, headersMs: 1, endMs: 5, status: 502, error: 'status-5xx' }));
    const rep = r.report(schedule, [], {}, '');
    expect(rep.requests).toMatchObject({ total: 45, responses: 1, errors: 45 });
    expect(rep.statuses).toEqual([{ status: 502, count: 1 }]);
    expect(rep.byStatusClass.map((g) => [g.name, g.count])).toEqual([['5xx', 1]]);
    expect(rep.latency.timeToCompleteUs.count).toBe(1);
    expect(rep.latency.timeToHeadersUs.count).toBe(1);
    expect(rep.throughput.series[0]).toMatchObject({ responses: 1, errors: 45 });
  });

  it('says when no request got a response, warmup included', async () => {
    const { noResponseError } = await import('../../../src/load/no-response.js');
    const dead = new ReplayResults(['ajp://127.0.0.1:1']);
    dead.begin(0, 0);
    for (let i = 0; i < 44; i++)
      dead.add(
        rec({ status: 0, headersMs: -1, error: 'connect-refused', errorMessage: 'connect ECONNREFUSED 127.0.0.1:1' }),
      );
    const e = noResponseError(dead.report(schedule, [], {}, ''), 'ajp://127.0.0.1:1');
    expect(e?.code).toBe('AJPBENCH_ERR_BACKEND');
    expect(e?.exitCode).toBe(3);
    expect(e?.message).toBe('no request got a response from ajp://127.0.0.1:1: connection refused (44 errors)');
    // A backend that answered in the warmup and failed afterwards did answer: the failures are measured, not fatal.
    const died = new ReplayResults(['t']);
    died.begin(0, 100);
    died.add(rec({ warmup: true }));
    died.add(rec({ status: 0, headersMs: -1, error: 'timeout', errorMessage: 'no complete response within 30000 ms' }));
    expect(noResponseError(died.report(schedule, [], {}, ''), 't')).toBeUndefined();
    const ok = new ReplayResults(['t']);
    ok.begin(0, 0);
    ok.add(rec({}));
    expect(noResponseError(ok.report(schedule, [], {}, ''), 't')).toBeUndefined();
  });

  it('counts requests with no route for their target, folded into the route a single-backend target named', () => {
    const r = new ReplayResults(['ajp://a:1', 'http://lb:80']);
    r.begin(0, 0);
    r.add(rec({ target: 0, route: 'tomcat1' }));
    r.add(rec({ target: 0 }));
    r.add(rec({ target: 0, status: 0, error: 'timeout' }));
    r.add(rec({ target: 1, route: 'tomcat1' }));
    r.add(rec({ target: 1, route: 'tomcat2' }));
    r.add(rec({ target: 1 }));
    const rep = r.report(schedule, [], {}, '');
    expect(rep.workers.map((w) => [w.name, w.count])).toEqual([
      ['tomcat1', 4],
      ['http://lb:80', 1],
      ['tomcat2', 1],
    ]);
    expect(rep.byRoute[0]?.timeToCompleteUs.count).toBe(3);
  });

  it('progress: requests per second since the last call, p99 so far, errors', () => {
    const r = new ReplayResults(['t']);
    r.begin(0, 0);
    for (let i = 0; i < 100; i++)
      r.add(rec({ intendedMs: 0, endMs: 1, error: i < 3 ? 'timeout' : null, status: i < 3 ? 0 : 200 }));
    const p = r.progress(2000);
    expect(p).toMatchObject({ requests: 100, perSecond: 50, errors: 3, warmup: false });
    expect(progressLine(p)).toMatch(/2\.0s {2}100 requests {2}50 req\/s {2}p99 1\.00 ms {2}errors 3/);
  });
});

describe('responseVerifier', () => {
  it('compares status, body hash and the named headers (all values, names case-insensitive)', () => {
    const verify = responseVerifier(['content-type', 'set-cookie']);
    const req = request({ status: 200 });
    req.expected.headers = [
      ['Content-Type', 'text/html'],
      ['Set-Cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ];
    const ok = rec({ bodySha256: req.expected.bodySha256, verifyHeaders: ['text/html', 'a=1\nb=2'] });
    verify(ok, req);
    expect(ok.mismatches).toBeNull();
    const bad = rec({ status: 404, bodySha256: 'ff', verifyHeaders: ['text/plain', null] });
    verify(bad, req);
    expect(bad.mismatches?.map((m) => m.kind)).toEqual(['status', 'body', 'header:content-type', 'header:set-cookie']);
    const none = rec({ status: 0, error: 'timeout' });
    verify(none, req);
    expect(none.mismatches).toEqual([{ kind: 'no-response', expected: 200, actual: 'timeout' }]);
  });

  it('ReplayResults counts mismatches by kind and keeps three examples of each', () => {
    const r = new ReplayResults(['t'], true);
    r.begin(0, 0);
    for (let i = 0; i < 5; i++)
      r.add(rec({ exchangeId: i, uri: `/u${i}`, mismatches: [{ kind: 'body', expected: 'a', actual: 'b' }] }));
    r.add(rec({}));
    const v = r.report(schedule, [], {}, '').verify;
    expect(v).toMatchObject({ compared: 6, matched: 1, mismatched: 5 });
    expect(v?.byKind[0]?.count).toBe(5);
    expect(v?.byKind[0]?.examples.map((e) => e.uri)).toEqual(['/u0', '/u1', '/u2']);
  });
});

describe('value parsers', () => {
  it('parseDuration and parseRate', () => {
    expect(['500ms', '5s', '2m', '1h', '1.5s', '3'].map((v) => parseDuration(v, '--d'))).toEqual([
      500, 5000, 120_000, 3_600_000, 1500, 3000,
    ]);
    expect(() => parseDuration('soon', '--duration')).toThrow(/--duration takes a duration/);
    expect(['500/s', '500', '30000/m', '36/h'].map((v) => parseRate(v, '--r'))).toEqual([500, 500, 500, 0.01]);
    expect(() => parseRate('0/s', '--rate')).toThrow(/above zero/);
  });

  it('parseTarget', () => {
    expect(parseTarget('ajp://127.0.0.1:8009')).toEqual({
      protocol: 'ajp',
      host: '127.0.0.1',
      port: 8009,
      prefix: '',
      label: 'ajp://127.0.0.1:8009',
    });
    expect(parseTarget('http://[::1]:8080/app/')).toMatchObject({
      protocol: 'http',
      host: '::1',
      port: 8080,
      prefix: '/app',
    });
    expect(parseTarget('ajp://localhost')).toMatchObject({ port: 8009 });
    expect(() => parseTarget('https://x')).toThrow(/ajp:\/\/ or http:\/\//);
    expect(() => parseTarget('ajp://x:1/path')).toThrow(/takes no path/);
    expect(() => parseTarget('nope')).toThrow(/not a URL/);
  });

  it('parseTarget refuses port 0 and ports out of range with a usage error of code AJPBENCH_ERR_TARGET', () => {
    for (const bad of [
      'ajp://127.0.0.1:0',
      'http://127.0.0.1:0/app',
      'ajp://127.0.0.1:65536',
      'ajp://127.0.0.1:99999999999',
      'http://[::1]:70000',
    ]) {
      let err: unknown;
      try {
        parseTarget(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('AJPBENCH_ERR_TARGET');
      expect((err as UsageError).message).toMatch(/port .* 1 to 65535/);
    }
    expect(parseTarget('ajp://127.0.0.1:65535').port).toBe(65535);
    expect(parseTarget('ajp://127.0.0.1:1').port).toBe(1);
  });
});

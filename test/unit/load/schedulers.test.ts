/** Pacers, schedulers and the trace source: exact pacing, limits, warmup, and the open-loop stall test (wrk2). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AjpClient } from '../../../src/load/ajp-client.js';
import { AjpRequestEncoder } from '../../../src/load/ajp-connection.js';
import { ConstantPacer, RecordedPacer } from '../../../src/load/pacer.js';
import { ReplayResults } from '../../../src/load/replay-results.js';
import { ArrayRequestSource, TraceRequestSource } from '../../../src/load/request-source.js';
import { ClosedLoopScheduler, OpenLoopScheduler, type SchedulerOptions } from '../../../src/load/schedulers.js';
import { StubContainer } from '../../../src/load/stub-container.js';
import { emptyConnectionStats, type LoadClient } from '../../../src/load/load-client.js';
import type { ReplayRequest } from '../../../src/load/replay-request.js';
import type { RequestSource } from '../../../src/load/request-source.js';
import { UsageError } from '../../../src/errors.js';
import { CollectingSink, exchange, request } from './helpers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-sched-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function target(
  opts: Partial<Parameters<typeof StubContainer.start>[0]> = {},
): Promise<{ stub: StubContainer; client: AjpClient }> {
  const stub = await StubContainer.start({
    listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }],
    bodySize: 100,
    ...opts,
  });
  const client = new AjpClient({
    host: '127.0.0.1',
    port: (stub.listeners[0] as { port: number }).port,
    connections: 16,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    encoder: new AjpRequestEncoder(),
  });
  cleanup.push(
    () => stub.close(),
    () => client.close(),
  );
  return { stub, client };
}

function base(client: AjpClient, over: Partial<SchedulerOptions> = {}): SchedulerOptions {
  return {
    clients: [client],
    source: new ArrayRequestSource([request({ id: 1 }), request({ id: 2 })], true),
    sink: new CollectingSink(),
    limits: { warmupMs: 0, durationMs: Infinity, requests: Infinity },
    concurrency: 4,
    ...over,
  };
}

describe('pacers', () => {
  it('ConstantPacer: request n is due at n / rate', () => {
    const p = new ConstantPacer(500);
    expect([0, 1, 2, 500].map((n) => p.dueMs(n))).toEqual([0, 2, 4, 1000]);
  });

  it('RecordedPacer: recorded times from the first, divided by speed, each loop shifted by the pass span', () => {
    const src = { firstT: 1_000_000, passSpanUs: 3_000_000 };
    const p = new RecordedPacer(src, 2);
    const at = (t: number, loop: number) => p.dueMs(0, request({ t }), loop);
    expect(at(1_000_000, 0)).toBe(0);
    expect(at(1_500_000, 0)).toBe(250);
    expect(at(1_500_000, 1)).toBe(1750);
  });
});

describe('ClosedLoopScheduler', () => {
  it('stops at exactly --requests measured requests, keeping warmup requests apart', async () => {
    const { client } = await target();
    const sink = new CollectingSink();
    const stats = await new ClosedLoopScheduler(
      base(client, { sink, limits: { warmupMs: 100, durationMs: Infinity, requests: 50 } }),
    ).run();
    const measured = sink.records.filter((r) => !r.warmup);
    expect(measured.length).toBe(50);
    expect(stats.warmupRequests).toBe(sink.records.length - 50);
    expect(stats.warmupRequests).toBeGreaterThan(0);
    expect(stats.stoppedBy).toBe('requests');
    expect(sink.records.every((r) => r.status === 200)).toBe(true);
    // Closed loop: a request is intended when its slot frees and sent at once (no schedule to fall
    // behind). Compared by the median, which a busy machine preempting a few sends cannot move.
    const gaps = sink.records.map((r) => r.sentMs - r.intendedMs).sort((a, b) => a - b);
    expect(gaps[0]).toBeGreaterThanOrEqual(0);
    expect(gaps[Math.floor(gaps.length / 2)]).toBeLessThan(1);
  });

  it('stops by itself after --duration, and at the end of a trace that is not looped', async () => {
    const { client } = await target({ latencyMs: 5 });
    const s1 = await new ClosedLoopScheduler(
      base(client, { limits: { warmupMs: 0, durationMs: 300, requests: Infinity } }),
    ).run();
    expect(s1.stoppedBy).toBe('duration');
    expect(s1.elapsedMs).toBeGreaterThanOrEqual(300);
    expect(s1.elapsedMs).toBeLessThan(1000);
    const sink = new CollectingSink();
    const s2 = await new ClosedLoopScheduler(
      base(client, { sink, source: new ArrayRequestSource([request(), request(), request()]) }),
    ).run();
    expect([s2.stoppedBy, sink.records.length]).toEqual(['trace-end', 3]);
  });

  it('stops on the abort signal and reports what was measured', async () => {
    const { client } = await target({ latencyMs: 2 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const sink = new CollectingSink();
    const s = await new ClosedLoopScheduler(base(client, { sink, signal: ac.signal })).run();
    expect(s.stoppedBy).toBe('signal');
    expect(sink.records.length).toBeGreaterThan(10);
  });

  it('measures a dead target instead of failing', async () => {
    const { stub, client } = await target();
    await stub.close();
    const sink = new CollectingSink();
    await new ClosedLoopScheduler(
      base(client, { sink, limits: { warmupMs: 0, durationMs: Infinity, requests: 20 } }),
    ).run();
    expect(sink.records.length).toBe(20);
    expect(new Set(sink.records.map((r) => r.error))).toEqual(new Set(['connect-refused']));
  });
});

describe('OpenLoopScheduler', () => {
  it('sends at the rate whatever the responses do, with latency from the due time', async () => {
    const { client } = await target();
    const sink = new CollectingSink();
    const stats = await new OpenLoopScheduler(
      base(client, { sink, limits: { warmupMs: 0, durationMs: 500, requests: Infinity } }),
      new ConstantPacer(200),
    ).run();
    expect(sink.records.length).toBe(100);
    const starts = sink.records.map((r) => r.intendedMs - stats.startMs).sort((a, b) => a - b);
    expect(starts[1]).toBeCloseTo(5, 6);
    expect(starts[99]).toBeCloseTo(495, 6);
    // A busy test machine may delay a timer now and then; a systematic lag would show in every request.
    expect(stats.lateSends).toBeLessThan(20);
  });

  it('the wrk2 test: a 1 s stall shows in p99 and max for every request due during it (no coordinated omission)', async () => {
    const { stub, client } = await target({ latencyMs: 1 });
    const results = new ReplayResults(['stub']);
    const kept = new CollectingSink();
    const tee = { add: (r: Parameters<ReplayResults['add']>[0]) => (results.add(r), kept.add(r)) };
    const opts = base(client, {
      sink: tee,
      concurrency: 8,
      limits: { warmupMs: 0, durationMs: 3000, requests: Infinity },
    });
    const sched = new OpenLoopScheduler(opts, new ConstantPacer(200));
    results.begin(performance.now(), 0);
    setTimeout(() => stub.stall(1000), 1000);
    const stats = await sched.run();
    const h = results.completeHistogram;
    // 600 requests; the ~200 due during the stalled second waited for its end: latencies spread
    // evenly over 0–1000 ms, so a sixth of all requests is above 500 ms.
    expect(h.totalCount).toBe(600);
    expect(h.maxValue).toBeGreaterThan(950_000);
    expect(h.getValueAtPercentile(99)).toBeGreaterThan(900_000);
    expect(h.getValueAtPercentile(90)).toBeGreaterThan(350_000);
    const over500 = kept.records.filter((r) => r.endMs - r.intendedMs > 500).length;
    expect(over500).toBeGreaterThan(60);
    expect(over500).toBeLessThan(140);
    expect(stats.queued).toBeGreaterThan(150);
    const report = results.report(stats, [], {}, '');
    expect(report.warnings.join('\n')).toMatch(/waited for a free connection/);
  });

  it('the same stall in closed loop hides in the percentiles (what coordinated omission looks like)', async () => {
    const { stub, client } = await target({ latencyMs: 1 });
    const results = new ReplayResults(['stub']);
    results.begin(performance.now(), 0);
    setTimeout(() => stub.stall(1000), 500);
    await new ClosedLoopScheduler(
      base(client, { sink: results, concurrency: 8, limits: { warmupMs: 0, durationMs: 2000, requests: Infinity } }),
    ).run();
    const h = results.completeHistogram;
    expect(h.maxValue).toBeGreaterThan(900_000);
    expect(h.getValueAtPercentile(90)).toBeLessThan(50_000);
  });

  it('warns when the generator itself cannot keep the rate (a blocked event loop), apart from a slow target', async () => {
    const { client } = await target();
    const results = new ReplayResults(['stub']);
    results.begin(performance.now(), 0);
    // Block the load generator's event loop for 300 ms in the middle of the run.
    setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until);
    }, 200);
    const stats = await new OpenLoopScheduler(
      base(client, { sink: results, limits: { warmupMs: 0, durationMs: 800, requests: Infinity } }),
      new ConstantPacer(200),
    ).run();
    expect(stats.lateSends).toBeGreaterThan(40);
    expect(stats.maxLateMs).toBeGreaterThan(250);
    const report = results.report(stats, [], {}, '');
    expect(report.warnings.join('\n')).toMatch(/the generator could not keep the rate/);
    // Those requests still count from their due time: the lag shows in the latency.
    expect(results.completeHistogram.maxValue).toBeGreaterThan(250_000);
  });

  it('drops due requests past the backlog cap, as errors of kind dropped', async () => {
    const { client } = await target({ latencyMs: 400 });
    const sink = new CollectingSink();
    const stats = await new OpenLoopScheduler(
      base(client, {
        sink,
        concurrency: 1,
        maxBacklog: 5,
        limits: { warmupMs: 0, durationMs: 200, requests: Infinity },
      }),
      new ConstantPacer(100),
    ).run();
    const kinds = sink.records.map((r) => r.error ?? 'ok');
    expect(kinds.filter((k) => k === 'ok').length).toBe(6);
    expect(kinds.filter((k) => k === 'dropped').length).toBe(14);
    expect(stats.queued).toBe(5);
  });

  it('recorded timing keeps the inter-arrival times, sped up', async () => {
    const { client } = await target();
    const sink = new CollectingSink();
    const reqs = [0, 100_000, 400_000].map((t, i) => request({ id: i, t }));
    const src = new ArrayRequestSource(reqs);
    const stats = await new OpenLoopScheduler(base(client, { sink, source: src }), new RecordedPacer(src, 2)).run();
    expect(sink.records.map((r) => Math.round(r.intendedMs - stats.startMs))).toEqual([0, 50, 200]);
  });
});

/** A client that answers every request after `delayMs` with a 200, touching nothing else. */
function fakeClient(delayMs: number): LoadClient {
  return {
    label: 'fake',
    send(_req, rec, done) {
      setTimeout(() => {
        rec.status = 200;
        rec.headersMs = rec.endMs = performance.now();
        done();
      }, delayMs);
    },
    connectionStats: emptyConnectionStats,
    close: async () => undefined,
  };
}

/** A source that has `n` requests and then nothing yet (a trace still being read): counts the waits asked of it. */
class DrySource implements RequestSource {
  loop = 0;
  firstT = 0;
  passSpanUs = undefined;
  exhausted = false;
  waits = 0;
  private given = 0;
  constructor(private readonly n: number) {}
  next(): ReplayRequest | undefined {
    return this.given < this.n ? request({ id: ++this.given }) : undefined;
  }
  waitForMore(): Promise<void> {
    this.waits++;
    return new Promise(() => undefined);
  }
  close(): void {}
}

describe('schedulers cannot be made to blow up', () => {
  it('closed loop: idle workers are a count, not one pending wait each (--concurrency 10000 on a dry source)', async () => {
    const source = new DrySource(44);
    const stop = new AbortController();
    const sink = new CollectingSink();
    const run = new ClosedLoopScheduler({
      clients: [fakeClient(1)],
      source,
      sink,
      limits: { warmupMs: 0, durationMs: Infinity, requests: Infinity },
      concurrency: 10_000,
      signal: stop.signal,
    }).run();
    await until(() => sink.records.length === 44);
    stop.abort();
    const stats = await run;
    expect(stats.sent).toBe(44);
    expect(source.waits).toBe(1);
  });

  it('rejects a concurrency or a target list no run can have, with a usage error', () => {
    const o = {
      clients: [fakeClient(1)],
      source: new DrySource(1),
      sink: new CollectingSink(),
      limits: { warmupMs: 0, durationMs: Infinity, requests: Infinity },
    };
    for (const concurrency of [0, 1.5, NaN, 99_999_999_999])
      expect(() => new ClosedLoopScheduler({ ...o, concurrency })).toThrow(UsageError);
    expect(() => new ClosedLoopScheduler({ ...o, clients: [], concurrency: 1 })).toThrow(UsageError);
    expect(() => new ConstantPacer(Infinity)).toThrow(UsageError);
    expect(() => new RecordedPacer({ firstT: 0, passSpanUs: 1 }, 0)).toThrow(UsageError);
  });

  it('recorded timing with a gap beyond the timer limit (24.8 days) waits in chunks: no timer overflow, one note, Ctrl-C still stops it', async () => {
    let overflows = 0;
    const onWarning = (w: Error): void => {
      if (w.name === 'TimeoutOverflowWarning') overflows++;
    };
    process.on('warning', onWarning);
    cleanup.push(() => void process.off('warning', onWarning));
    const thirtyDaysUs = 30 * 86_400_000_000;
    const source = new ArrayRequestSource([request({ id: 1, t: 0 }), request({ id: 2, t: thirtyDaysUs })]);
    const notes: string[] = [];
    const stop = new AbortController();
    const sink = new CollectingSink();
    const run = new OpenLoopScheduler(
      {
        clients: [fakeClient(1)],
        source,
        sink,
        limits: { warmupMs: 0, durationMs: Infinity, requests: Infinity },
        concurrency: 4,
        signal: stop.signal,
        onIssue: (m) => notes.push(m),
      },
      new RecordedPacer(source, 1),
    ).run();
    await until(() => sink.records.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    stop.abort();
    const stats = await run;
    expect(stats.stoppedBy).toBe('signal');
    expect(stats.sent).toBe(1);
    expect(overflows).toBe(0);
    expect(notes).toEqual([expect.stringMatching(/next request is due in 30\.0 days/)]);
  });

  it('a drain time beyond the timer limit does not abandon the requests in flight at once', async () => {
    const sink = new CollectingSink();
    const stats = await new ClosedLoopScheduler({
      clients: [fakeClient(200)],
      source: new ArrayRequestSource([request({ id: 1 })]),
      sink,
      limits: { warmupMs: 0, durationMs: Infinity, requests: Infinity },
      concurrency: 2,
      drainMs: 2 ** 31 + 5000,
    }).run();
    expect(stats.abandoned).toBe(0);
    expect(sink.records).toHaveLength(1);
  });
});

/** Polls `pred` until it holds, at most `ms`. */
async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('TraceRequestSource', () => {
  function writeTrace(name: string, n: number): string {
    const file = join(dir, name);
    const header = {
      format: 'ajpbench-trace',
      version: 1,
      minorVersion: 0,
      tool: 't',
      source: { kind: 'pcap', file: 'x', ports: [8009] },
      startTime: '2026-01-01T00:00:00.000Z',
      startTimeUs: 0,
      options: { redact: true, bodies: 'request', maxBody: 1 },
    };
    const lines = [JSON.stringify(header)];
    // Completion order differs from start order: every pair is swapped.
    for (let i = 0; i < n; i++)
      lines.push(
        JSON.stringify(exchange({ id: i, t: (i ^ 1) * 1000 })),
        JSON.stringify({ event: 'cping', conn: 1, t: 0, rttUs: 5 }),
      );
    lines.push('{"event":"exchange","id":999,"oops":true}');
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  }

  async function drain(src: TraceRequestSource, max: number): Promise<{ id: number; loop: number }[]> {
    const out: { id: number; loop: number }[] = [];
    while (out.length < max) {
      const r = src.next();
      if (r === undefined) {
        if (src.exhausted) break;
        await src.waitForMore();
        continue;
      }
      out.push({ id: r.exchangeId, loop: src.loop });
    }
    return out;
  }

  it('streams the exchanges once, skipping other events and counting unreadable exchanges', async () => {
    const issues: string[] = [];
    const src = await TraceRequestSource.open(writeTrace('a.jsonl', 5000), {
      highWater: 64,
      onIssue: (m) => issues.push(m),
    });
    const got = await drain(src, 100_000);
    expect(got.length).toBe(5000);
    expect(got[4999]).toEqual({ id: 4999, loop: 0 });
    expect(src.skipped).toBe(1);
    expect(issues[0]).toMatch(/exchange 999 skipped/);
  });

  it('loops in memory when small, re-reads the file when over the cache limit; orders by recorded time on request', async () => {
    const file = writeTrace('b.jsonl', 10);
    const mem = await TraceRequestSource.open(file, { loop: true, orderWindow: 16 });
    const a = await drain(mem, 25);
    expect(a.slice(0, 4).map((x) => x.id)).toEqual([1, 0, 3, 2]);
    expect(a.slice(10, 12)).toEqual([
      { id: 1, loop: 1 },
      { id: 0, loop: 1 },
    ]);
    expect(mem.passSpanUs).toBeGreaterThan(9000);
    const reread = await TraceRequestSource.open(file, { loop: true, cacheLimit: 3 });
    const b = await drain(reread, 25);
    expect(b[10]).toEqual({ id: 0, loop: 1 });
    expect(b[24]).toEqual({ id: 4, loop: 2 });
    mem.close();
    reread.close();
  });
});

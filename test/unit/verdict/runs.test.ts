/** compare / sweep / fairness orchestration with a fake replay, step lists, mod_jk status parsing, stickiness on a stub. */
import { describe, expect, it } from 'vitest';
import type { ReplayOptions, ReplayOutcome } from '../../../src/load/replay.js';
import { ReplayResults } from '../../../src/load/replay-results.js';
import { StubContainer } from '../../../src/load/stub-container.js';
import { parseTarget } from '../../../src/load/target.js';
import { judgeGenerator } from '../../../src/results/generator-report.js';
import { compare } from '../../../src/verdict/compare.js';
import { runFairness, workerCounts } from '../../../src/verdict/fairness-run.js';
import { parseExpect } from '../../../src/verdict/fairness.js';
import { jkCountsByRoute, parseJkStatusProperties } from '../../../src/verdict/jk-status.js';
import { checkStickiness } from '../../../src/verdict/sticky.js';
import { parseSteps, sweep } from '../../../src/verdict/sweep.js';
import { UsageError } from '../../../src/errors.js';
import { buildReport, steady } from './report-fixture.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceWriter } from '../../../src/trace/index.js';
import { generatedExchange } from '../../../src/verdict/generated-trace.js';
import { tapCounts } from '../../../src/verdict/tap-counts.js';

const base: ReplayOptions = {
  trace: 't.jsonl',
  targets: [],
  model: 'closed',
  concurrency: 1,
  limits: { warmupMs: 0, durationMs: 1000, requests: Infinity },
};
const outcome = (report: ReturnType<typeof buildReport>): ReplayOutcome => ({ report, results: new ReplayResults([]) });

describe('parseSteps', () => {
  it('lists and progressions', () => {
    expect(parseSteps('1,2,4,8', 'x')).toEqual([1, 2, 4, 8]);
    expect(parseSteps('1,2,...,256', 'x')).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
    expect(parseSteps('100,200,...,1000', 'x')).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    expect(parseSteps('100,200,300,...,500', 'x')).toEqual([100, 200, 300, 400, 500]);
    expect(parseSteps('1,3,...,10', 'x')).toEqual([1, 3, 5, 7, 9, 10]);
    expect(parseSteps('100/s,200/s', 'x')).toEqual([100, 200]);
  });
  it('rejects', () => {
    expect(() => parseSteps('4,2', '--concurrency')).toThrow(/--concurrency .*increase/);
    expect(() => parseSteps('1', 'x')).toThrow(/two steps/);
    expect(() => parseSteps('1,...,8', 'x')).toThrow(/a,b,\.\.\.,last/);
    expect(parseSteps('1,2,...,65536', 'x')).toHaveLength(17);
    expect(() => parseSteps('1,2,...,100000', 'x')).toThrow(/at most 64/); // not a power of 2: arithmetic
    expect(() => parseSteps('1,2,...,1e30', 'x')).toThrow(/at most 64/);
    expect(() => parseSteps('0,1', 'x')).toThrow(/above zero/);
  });
});

describe('compare', () => {
  it('interleaves rounds, pools them per target, calls noise by overlapping ranges', async () => {
    const calls: string[] = [];
    // Target A: ~100/s; B: ~101/s (noise); C: ~50/s (a real difference).
    const rates: Record<string, number[]> = {
      'ajp://a:8009': [100, 104, 98],
      'ajp://b:8009': [101, 99, 103],
      'ajp://c:8009': [50, 52, 49],
    };
    const seen: Record<string, number> = {};
    const fake = async (o: ReplayOptions): Promise<ReplayOutcome> => {
      const label = o.targets[0]?.label ?? '';
      calls.push(label);
      const i = (seen[label] = (seen[label] ?? -1) + 1);
      const rate = rates[label]?.[i] ?? 0;
      return outcome(buildReport(steady(rate, 1, [label === 'ajp://c:8009' ? 20 : 10]), { measuredMs: 1000 }));
    };
    const r = await compare({
      replay: base,
      targets: ['ajp://a', 'ajp://b', 'ajp://c'].map(parseTarget),
      rounds: 3,
      replayFn: fake,
    });
    expect(calls).toEqual([
      'ajp://a:8009',
      'ajp://b:8009',
      'ajp://c:8009',
      'ajp://a:8009',
      'ajp://b:8009',
      'ajp://c:8009',
      'ajp://a:8009',
      'ajp://b:8009',
      'ajp://c:8009',
    ]);
    const [a, b, c] = r.summary.targets;
    expect(a).toMatchObject({ rps: 302 / 3, rpsMin: 98, rpsMax: 104, rpsRatio: null, withinNoise: null });
    expect(b?.rpsRatio).toBeCloseTo(303 / 302, 10);
    expect(b?.withinNoise).toEqual({ rps: true, p99: true });
    expect(c?.withinNoise).toEqual({ rps: false, p99: false });
    expect(c?.p99Ratio).toBeCloseTo(2, 1);
    expect(r.targets[0]?.pooled.requests.total).toBe(302);
    expect(r.targets[0]?.pooled.measuredMs).toBe(3000);
  });
  it('one round: no noise call', async () => {
    const fake = async (): Promise<ReplayOutcome> => outcome(buildReport(steady(10, 1, [5]), { measuredMs: 1000 }));
    const r = await compare({
      replay: base,
      targets: ['ajp://a', 'ajp://b'].map(parseTarget),
      rounds: 1,
      replayFn: fake,
    });
    expect(r.summary.targets[1]?.withinNoise).toBeNull();
  });
});

describe('sweep', () => {
  it('sets concurrency or rate per step and finds the knee', async () => {
    const got: { model: string; concurrency: number; rate: number | undefined }[] = [];
    // Capacity 400/s at 10 ms: closed loop saturates at 4.
    const fake = async (o: ReplayOptions): Promise<ReplayOutcome> => {
      got.push({ model: o.model, concurrency: o.concurrency, rate: o.rate });
      const rps = Math.min(o.concurrency * 100, 400);
      const latency = (o.concurrency / rps) * 1000;
      return outcome(buildReport(steady(rps, 1, [latency]), { measuredMs: 1000 }));
    };
    const r = await sweep({ replay: base, mode: 'concurrency', steps: [1, 2, 4, 8, 16], replayFn: fake });
    expect(got.map((g) => g.concurrency)).toEqual([1, 2, 4, 8, 16]);
    expect(r.knee.index).toBe(2);
    expect(r.summary.knee).toBe(2);
    expect(r.advice[0]).toMatch(/^Knee at 4 concurrent requests: 400\.0 responses\/s/);
    expect(r.advice.join('\n')).toMatch(/about 4 requests are in flight/);
    expect(r.advice.join('\n')).toMatch(/maxThreads/);
    const rated = await sweep({ replay: { ...base, concurrency: 64 }, mode: 'rate', steps: [50, 100], replayFn: fake });
    expect(rated.steps).toHaveLength(2);
    expect(got.slice(-2)).toEqual([
      { model: 'open', concurrency: 64, rate: 50 },
      { model: 'open', concurrency: 64, rate: 100 },
    ]);
  });
  it('a saturation the generator reached is no knee: the advice names its steps and the summary marks them', async () => {
    // The same 400/s curve, but from concurrency 8 on the generator's CPU was at 97% of its core.
    const fake = async (o: ReplayOptions): Promise<ReplayOutcome> => {
      const rps = Math.min(o.concurrency * 100, 400);
      const r = buildReport(steady(rps, 1, [(o.concurrency / rps) * 1000]), { measuredMs: 1000 });
      const cpuShare = o.concurrency >= 8 ? 0.97 : 0.4;
      return outcome({
        ...r,
        generator: judgeGenerator(
          { threads: 1, wallMs: 1000, cpuMs: cpuShare * 1000, cpuShare, eventLoopDelayUs: { p50: 0, p99: 0, max: 0 } },
          r.latency.timeToCompleteUs.p50,
          0,
          rps,
        ),
      });
    };
    const r = await sweep({ replay: base, mode: 'concurrency', steps: [1, 2, 4, 8, 16], replayFn: fake });
    expect(r.knee.index).toBeNull();
    expect(r.summary.steps.map((s) => s.generatorBound)).toEqual([false, false, false, true, true]);
    expect(r.summary.steps[3]?.generatorCpu).toBeCloseTo(0.97, 10);
    expect(r.advice.join('\n')).toMatch(
      /generator-bound: these figures measure ajpbench, add --workers or machines at steps 8, 16: .*no knee is read from it/,
    );
  });
  it('stops after a step that mostly failed', async () => {
    let n = 0;
    const fake = async (): Promise<ReplayOutcome> =>
      outcome(buildReport(steady(10, 1, [5], n++ === 1 ? { error: 'connect-refused' } : {}), { measuredMs: 1000 }));
    const r = await sweep({ replay: base, mode: 'concurrency', steps: [1, 2, 4], replayFn: fake });
    expect(r.steps).toHaveLength(2);
    expect(r.stoppedEarly).toMatch(/step 2 failed 100%/);
  });
});

describe('compare and sweep tell the truth and stop when told', () => {
  const dead = (): ReplayOutcome =>
    outcome(buildReport(steady(44, 1, [5], { error: 'connect-refused' }), { measuredMs: 1000 }));
  const fine = (): ReplayOutcome => outcome(buildReport(steady(100, 1, [5]), { measuredMs: 1000 }));

  it('compare stopped before every target ran returns what was measured, naming the targets that never ran', async () => {
    const stop = new AbortController();
    const fake = async (): Promise<ReplayOutcome> => {
      stop.abort(); // Ctrl-C during the first run
      return fine();
    };
    const r = await compare({
      replay: base,
      targets: ['ajp://a', 'ajp://b', 'ajp://c'].map(parseTarget),
      rounds: 3,
      signal: stop.signal,
      replayFn: fake,
    });
    expect(r.interrupted).toBe(true);
    expect(r.targets.map((t) => t.target)).toEqual(['ajp://a:8009']);
    expect(r.notRun).toEqual(['ajp://b:8009', 'ajp://c:8009']);
    expect(r.summary.targets).toHaveLength(1);
  });

  it('compare and sweep: Ctrl-C during the pause between runs ends it at once', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const t0 = Date.now();
    const c = await compare({
      replay: base,
      targets: ['ajp://a', 'ajp://b'].map(parseTarget),
      rounds: 2,
      pauseMs: 60_000,
      signal: stop.signal,
      replayFn: async () => fine(),
    });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(c.targets.map((t) => t.rounds.length)).toEqual([1]);
    const stop2 = new AbortController();
    setTimeout(() => stop2.abort(), 50);
    const s = await sweep({
      replay: base,
      mode: 'concurrency',
      steps: [1, 2],
      pauseMs: 60_000,
      signal: stop2.signal,
      replayFn: async () => fine(),
    });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(s.steps).toHaveLength(1);
    expect(s.stoppedEarly).toMatch(/Ctrl-C/);
  });

  it('sweep: a step stopped by Ctrl-C is reported as such, not as "failed 100%"', async () => {
    const stop = new AbortController();
    const fake = async (): Promise<ReplayOutcome> => {
      stop.abort();
      const o = outcome(buildReport([], { measuredMs: 0 }));
      o.report.schedule.stoppedBy = 'signal';
      return o;
    };
    const s = await sweep({ replay: base, mode: 'concurrency', steps: [1, 2], signal: stop.signal, replayFn: fake });
    expect(s.stoppedEarly).toMatch(/Ctrl-C during step 1/);
    expect(s.stoppedEarly).not.toMatch(/failed/);
  });

  it('sweep: steps that got no response never make growth or a knee', async () => {
    const allDead = await sweep({
      replay: base,
      mode: 'concurrency',
      steps: [1, 2, 4],
      stopOnErrorShare: 1,
      replayFn: async () => dead(),
    });
    expect(allDead.knee.index).toBeNull();
    expect(allDead.advice.join('\n')).not.toMatch(/grew/);
    expect(allDead.advice.join('\n')).toMatch(/no step got a response/i);
    // Answers at 1 and 2, nothing at 4: no knee from the dead step, and no claim that throughput still grew.
    let n = 0;
    const fake = async (o: ReplayOptions): Promise<ReplayOutcome> =>
      n++ < 2 ? outcome(buildReport(steady(o.concurrency * 100, 1, [10]), { measuredMs: 1000 })) : dead();
    const s = await sweep({ replay: base, mode: 'concurrency', steps: [1, 2, 4], replayFn: fake });
    expect(s.knee.index).toBeNull();
    expect(s.advice.join('\n')).not.toMatch(/still grew/);
    expect(s.advice.join('\n')).toMatch(/Step 4 got no response/);
  });

  it('sweep() refuses steps no sweep can have before it runs any (not a RangeError after running them all)', async () => {
    let runs = 0;
    const fake = async (): Promise<ReplayOutcome> => {
      runs++;
      return fine();
    };
    for (const steps of [[2, 1], [], [1, 1.5], [0, 1], [1, 20_000]]) {
      await expect(
        sweep({ replay: base, mode: 'concurrency', steps, replayFn: fake }),
        JSON.stringify(steps),
      ).rejects.toThrow(UsageError);
    }
    await expect(sweep({ replay: base, mode: 'rate', steps: [1, 1e9], replayFn: fake })).rejects.toThrow(UsageError);
    expect(runs).toBe(0);
  });

  it('step lists are bounded: whole concurrencies up to 10000, rates up to 1000000/s, as usage errors', () => {
    expect(() => parseSteps('1,2,...,65536', '--concurrency', { max: 10_000, integer: true })).toThrow(UsageError);
    expect(() => parseSteps('0.2,0.5', '--concurrency', { max: 10_000, integer: true })).toThrow(/whole number/);
    expect(() => parseSteps('1,99999999999', '--concurrency', { max: 10_000, integer: true })).toThrow(/1 to 10000/);
    expect(() => parseSteps('100,1e12', '--rates', { max: 1_000_000 })).toThrow(/at most 1000000/);
    expect(parseSteps('1,2,...,8192', '--concurrency', { max: 10_000, integer: true })).toHaveLength(14);
    expect(() => parseSteps('4,2', 'x')).toThrow(UsageError);
  });
});

describe('fairness run', () => {
  it('counts routes as workers, target-named groups as unattributed', async () => {
    const report = buildReport(
      [
        ...steady(60, 1, [2], { route: 'tomcat1' }),
        ...steady(40, 1, [2], { route: 'tomcat2' }),
        ...steady(5, 1, [2], { error: 'connect-refused' }),
      ],
      { target: 'http://lb:80' },
    );
    expect(workerCounts(report, ['http://lb:80'])).toEqual({
      counts: new Map([
        ['tomcat1', 60],
        ['tomcat2', 40],
      ]),
      unattributed: 5,
    });
    const r = await runFairness({
      replay: { ...base, targets: [parseTarget('http://lb:80')] },
      expected: parseExpect('tomcat1=3,tomcat2=2'),
      replayFn: async () => outcome(report),
    });
    expect(r.pass).toBe(true);
    expect(r.unattributed).toBe(5);
    expect(r.counts).toEqual({ tomcat1: 60, tomcat2: 40 });
  });
});

describe('fairness by tap labels (--tap-trace)', () => {
  it('counts the recorded exchanges by tap label within the run window', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ajpbench-tap-'));
    try {
      const file = join(dir, 'tap.jsonl');
      const origin = Date.parse('2026-01-01T00:00:00.000Z');
      const w = await TraceWriter.create(file, {
        format: 'ajpbench-trace',
        version: 1,
        minorVersion: 0,
        tool: 'test',
        source: {
          kind: 'tap',
          taps: [
            { listen: '127.0.0.1:1', upstream: '127.0.0.1:2', worker: 'w1' },
            { listen: '127.0.0.1:3', upstream: '127.0.0.1:4', worker: 'w2' },
          ],
        },
        startTime: new Date(origin).toISOString(),
        startTimeUs: origin * 1000,
        options: { redact: true, bodies: 'none', maxBody: 0 },
      });
      const ex = (id: number, tMs: number, worker: string | undefined) => ({
        ...generatedExchange({ path: '/', target: { host: 'x', port: 80 } }),
        id,
        t: tMs * 1000,
        ...(worker === undefined ? {} : { worker }),
      });
      // Before the run (t = 0.5 s), 30 + 10 in the run (1-4 s), one without a label, one long after.
      await w.write(ex(1, 500, 'w1'));
      for (let i = 0; i < 40; i++) await w.write(ex(10 + i, 1000 + i * 50, i % 4 === 3 ? 'w2' : 'w1'));
      await w.write(ex(99, 2000, undefined));
      await w.write(ex(100, 60_000, 'w2'));
      await w.close();
      const c = await tapCounts(file, origin + 1000, origin + 4000);
      expect(c).toEqual({
        counts: new Map([
          ['w1', 30],
          ['w2', 10],
        ]),
        unlabelled: 1,
        outside: 2,
      });
      const report = buildReport(steady(40, 3, [2]), {
        startedAt: new Date(origin + 1000).toISOString(),
        measuredMs: 3000,
        target: 'http://lb:80',
      });
      const r = await runFairness({
        replay: { ...base, targets: [parseTarget('http://lb:80')] },
        expected: parseExpect('w1=3,w2=1'),
        tapTrace: file,
        replayFn: async () => outcome(report),
      });
      expect(r.source).toBe('tap');
      expect(r.counts).toEqual({ w1: 30, w2: 10 });
      expect(r.unattributed).toBe(1);
      expect(r.pass).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mod_jk status', () => {
  it('parses members after balance_workers lines, by route', () => {
    const text = [
      'worker.list=balancer',
      'worker.balancer.type=lb',
      'worker.balancer.balance_workers=w1',
      'worker.w1.type=ajp13',
      'worker.w1.route=tomcat1',
      'worker.w1.lbfactor=3',
      'worker.w1.state=OK',
      'worker.w1.activation=ACT',
      'worker.w1.elected=750',
      'worker.w1.errors=0',
      'worker.balancer.balance_workers=w2',
      'worker.w2.route=tomcat2',
      'worker.w2.elected=250',
      'worker.w2.errors=2',
      'worker.other.balance_workers=w3',
      'worker.w3.elected=5',
    ].join('\n');
    const b = parseJkStatusProperties(text);
    expect(b.map((x) => x.name)).toEqual(['balancer', 'other']);
    expect(b[0]?.members).toEqual([
      { name: 'w1', route: 'tomcat1', elected: 750, errors: 0, state: 'OK', activation: 'ACT', lbfactor: 3 },
      { name: 'w2', route: 'tomcat2', elected: 250, errors: 2, state: '?', activation: '?', lbfactor: 1 },
    ]);
    expect(b[1]?.members[0]?.route).toBe('w3');
    expect(jkCountsByRoute(b.slice(0, 1))).toEqual([
      { worker: 'tomcat1', count: 750 },
      { worker: 'tomcat2', count: 250 },
    ]);
  });
});

describe('checkStickiness', () => {
  it('sessions open on a stub; follow-ups with no route header are unknown, which fails', async () => {
    const stub = await StubContainer.start({
      listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat7', protocol: 'http' }],
      bodySize: 10,
    });
    try {
      const r = await checkStickiness({
        url: `http://${stub.listeners[0]?.address}/x`,
        sessions: 3,
        followUps: 2,
        routeHeader: 'x-served-by',
        concurrency: 2,
        timeoutMs: 5000,
      });
      expect(r).toMatchObject({
        sessions: 3,
        opened: 3,
        followUps: 6,
        violations: 0,
        unknown: 6,
        errors: 0,
        pass: false,
      });
      expect(r.byWorker).toEqual([{ worker: 'tomcat7', sessions: 3, followUps: 6, violations: 0, landedOn: {} }]);
      expect(r.failures[0]).toMatch(/--route-header/);
      await expect(
        checkStickiness({
          url: 'ajp://127.0.0.1:1/',
          sessions: 1,
          followUps: 1,
          routeHeader: null,
          concurrency: 1,
          timeoutMs: 100,
        }),
      ).rejects.toThrow(/http:\/\//);
    } finally {
      await stub.close();
    }
  });
});

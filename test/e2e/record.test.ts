/**
 * `ajpbench record` between real peers: two taps in front of the Tomcats' AJP connectors, httpd's
 * mod_jk balancer (`balancer_tap`, ping_mode=A, sticky) pointed at the taps, the mixed traffic sent
 * through httpd. The traffic must behave as without the taps, the trace must match what the
 * client sent and received, and every exchange must carry the worker that served it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TapRecorder, type RecordSummary } from '../../src/capture/index.js';
import { TraceWriter, type ExchangeEvent, type TraceEvent, type TraceHeader } from '../../src/trace/index.js';
import { readTrace } from '../fixtures/tap-fixtures.js';
import { labForTests, type LabState } from '../lab/lab.js';
import { driveMixedTraffic, traceMismatches, type SentRequest } from '../lab/traffic.js';

const lab = labForTests();

describe.skipIf(lab === undefined)('record: taps between mod_jk and both Tomcats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-e2e-record-'));
  const file = join(dir, 'lab.jsonl');
  let sent: SentRequest[] = [];
  let direct: SentRequest[] = [];
  let summary: RecordSummary;
  let header: TraceHeader;
  let events: TraceEvent[] = [];
  let exchanges: ExchangeEvent[] = [];

  beforeAll(async () => {
    const state = lab as LabState;
    const p = state.ports;
    const recorder = await TapRecorder.start({
      taps: [
        {
          listen: { host: '127.0.0.1', port: p.tapTomcat1 },
          upstream: { host: '127.0.0.1', port: p.tomcat1Ajp },
          worker: 'tomcat1',
        },
        {
          listen: { host: '127.0.0.1', port: p.tapTomcat2 },
          upstream: { host: '127.0.0.1', port: p.tomcat2Ajp },
          worker: 'tomcat2',
        },
      ],
      trace: { redact: true, bodies: 'all', maxBody: 1024 * 1024 },
      tool: 'ajpbench e2e',
      openOutput: (h) => TraceWriter.create(file, h),
    });
    try {
      sent = await driveMixedTraffic(state, [{ frontEnd: 'jkTap', baseUrl: `http://127.0.0.1:${p.httpdJkTap}` }]);
    } finally {
      summary = await recorder.stop();
    }
    // The same mix straight through mod_jk, for comparison.
    direct = await driveMixedTraffic(state, [{ frontEnd: 'jk', baseUrl: state.frontends.jk.baseUrl }]);
    ({ header, events } = await readTrace(file));
    exchanges = events.filter((e): e is ExchangeEvent => e.event === 'exchange').sort((a, b) => a.t - b.t);
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('traffic through the taps answers as it does without them', () => {
    expect(sent.length).toBeGreaterThanOrEqual(10);
    expect(sent.map((s) => [s.method, s.path, s.status])).toEqual(direct.map((s) => [s.method, s.path, s.status]));
    // A body that depends on nothing but the request (large.jsp) is byte for byte the same.
    const stable = (list: SentRequest[]) => list.filter((s) => s.path.includes('large')).map((s) => s.responseSha256);
    expect(stable(sent)).toEqual(stable(direct));
  });

  it('the trace matches what the client sent and received', () => {
    expect(header.source).toMatchObject({ kind: 'tap', taps: [{ worker: 'tomcat1' }, { worker: 'tomcat2' }] });
    expect(traceMismatches(exchanges, sent)).toEqual([]);
    expect(events.filter((e) => e.event === 'incomplete')).toEqual([]);
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
  });

  it('every exchange carries the worker that served it, and both workers served', () => {
    // Requests Jasper refuses before the page runs (PATCH: 405) carry no X-Served-By; every other one does.
    const known = sent.flatMap((s, i) => (s.servedBy === undefined ? [] : [[i, s.servedBy]]));
    expect(known.length).toBeGreaterThanOrEqual(sent.length - 1);
    expect(known.map(([i]) => [i, exchanges[i as number]?.worker])).toEqual(known);
    expect(new Set(exchanges.map((x) => x.worker))).toEqual(new Set(['tomcat1', 'tomcat2']));
    expect(Object.values(summary.exchangesByLabel).reduce((a, b) => a + b, 0)).toBe(sent.length);
  });

  it("mod_jk's CPing before every request (ping_mode=A) passed through and was answered", () => {
    const cpings = events.filter((e) => e.event === 'cping');
    expect(cpings.length).toBeGreaterThanOrEqual(sent.length);
    expect(cpings.every((c) => c.rttUs !== null)).toBe(true);
    // Connection reuse passed through too: mod_jk sent several exchanges over one pooled connection.
    const perConn = new Map<number, number>();
    for (const x of exchanges) perConn.set(x.conn, (perConn.get(x.conn) ?? 0) + 1);
    expect(Math.max(...perConn.values())).toBeGreaterThanOrEqual(2);
    expect(summary.cutOff).toBe(0);
    expect(summary.upstreamFailures).toBe(0);
  });
});

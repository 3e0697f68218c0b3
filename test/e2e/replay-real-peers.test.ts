/**
 * The load engine against real peers: the bundled trace replayed to Tomcat 10.1's AJP connector
 * (with and without its secret), to its HTTP connector, and through httpd mod_jk as an HTTP
 * front end, where the per-worker share shows the balancer at work.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay, type ReplayOptions } from '../../src/load/replay.js';
import type { ReplayReport } from '../../src/results/replay-report.js';
import { parseTarget } from '../../src/load/target.js';
import { labForTests, type LabState } from '../lab/lab.js';

const lab = labForTests();
const trace = join(import.meta.dirname, '../../captures/lab-mixed.trace.jsonl');

async function run(target: string, over: Partial<ReplayOptions> = {}): Promise<ReplayReport> {
  const { report } = await replay({
    trace,
    targets: [parseTarget(target)],
    model: 'closed',
    concurrency: 4,
    limits: { warmupMs: 0, durationMs: Infinity, requests: Infinity },
    requestTimeoutMs: 20_000,
    ...over,
  });
  return report;
}

const count = (r: ReplayReport, cls: string): number => r.byStatusClass.find((g) => g.name === cls)?.count ?? 0;

describe.skipIf(lab === undefined)('replay against the real-peer lab', () => {
  const state = lab as LabState;
  const t1 = state?.tomcats.tomcat1;

  it("replays every exchange to Tomcat's AJP connector with the recorded statuses, on reused connections", async () => {
    const r = await run(`ajp://127.0.0.1:${t1.ajpPort}`, { routeHeader: 'X-Served-By', verify: { headers: [] } });
    expect(r.errors.byKind).toEqual([]);
    expect(r.requests.responses).toBe(44);
    // Every status is the recorded one (200, 204, 302, and 405 for PATCH on a JSP); bodies differ
    // where they echo ports and session ids.
    expect(r.verify?.byKind.map((k) => k.kind)).toEqual(['body']);
    // Every JSP answer names its Tomcat; the few without X-Served-By (none of the webapp's) fall back to the target.
    expect(r.workers[0]).toMatchObject({ name: 'tomcat1' });
    expect(r.workers[0]?.count).toBeGreaterThanOrEqual(40);
    expect(r.connections[0]?.opened).toBeLessThanOrEqual(4 + (r.connections[0]?.closedNoReuse ?? 0));
  });

  it('the secret connector answers 403 and closes without --secret, and serves with it', async () => {
    const target = `ajp://127.0.0.1:${t1.ajpSecretPort}`;
    const without = await run(target, { concurrency: 1 });
    expect(count(without, '4xx')).toBe(44);
    expect(without.statuses).toEqual([{ status: 403, count: 44 }]);
    expect(without.connections[0]?.closedNoReuse).toBe(44);
    const withSecret = await run(target, {
      secret: state.secret,
      ping: { modes: 'A', timeoutMs: 5000, intervalMs: 60_000 },
      verify: { headers: [] },
    });
    expect(withSecret.statuses.find((s) => s.status === 403)).toBeUndefined();
    expect(withSecret.verify?.byKind.find((k) => k.kind === 'status')).toBeUndefined();
    expect(withSecret.requests.responses).toBe(44);
    expect(withSecret.connections[0]).toMatchObject({ cpingFailures: 0, closedNoReuse: 0 });
    expect(withSecret.connections[0]?.cpings).toBe(44);
  });

  it("replays the same exchanges as HTTP/1.1 to Tomcat's HTTP connector, with X-Forwarded-* on request", async () => {
    const r = await run(t1.baseUrl, { forwarded: true, routeHeader: 'X-Served-By' });
    expect(r.errors.byKind.filter((e) => e.kind !== 'status-5xx')).toEqual([]);
    expect(r.requests.responses).toBe(44);
    expect(count(r, '2xx')).toBeGreaterThan(30);
    expect(r.workers[0]?.name).toBe('tomcat1');
  });

  it('the lean HTTP client (net, the default) and undici get the same statuses from Tomcat, httpd and nginx', async () => {
    for (const base of [t1.baseUrl, state.frontends.proxyHttp.baseUrl, state.frontends.nginx.baseUrl]) {
      const lean = await run(base, { routeHeader: 'X-Served-By', verify: { headers: [] } });
      const undici = await run(base, { routeHeader: 'X-Served-By', verify: { headers: [] }, httpClient: 'undici' });
      expect(lean.config.httpClient, base).toBe('net');
      expect(
        lean.errors.byKind.filter((e) => e.kind !== 'status-5xx'),
        base,
      ).toEqual([]);
      expect(lean.requests.responses, base).toBe(44);
      expect(lean.statuses, base).toEqual(undici.statuses);
      expect(
        lean.verify?.byKind.find((k) => k.kind === 'status'),
        base,
      ).toEqual(undici.verify?.byKind.find((k) => k.kind === 'status'));
      // Both read the route the same way (behind httpd's balancer the split itself varies run to run).
      const routed = (r: ReplayReport): number => r.workers.reduce((n, w) => n + w.count, 0);
      expect(routed(lean), base).toBe(routed(undici));
    }
  });

  it('through mod_jk (HTTP front end) at a constant rate, the worker share shows both Tomcats', async () => {
    const r = await run(state.frontends.jk.baseUrl, {
      model: 'open',
      rate: 100,
      loop: true,
      limits: { warmupMs: 0, durationMs: 2000, requests: Infinity },
      routeHeader: 'X-Served-By',
    });
    expect(r.requests.responses).toBeGreaterThan(150);
    expect(r.workers.map((w) => w.name).sort()).toEqual(expect.arrayContaining(['tomcat1', 'tomcat2']));
  });
});

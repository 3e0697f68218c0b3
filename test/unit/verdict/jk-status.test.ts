/**
 * mod_jk's status worker, faked on loopback: counters that lag behind the wire (as mod_jk's do,
 * updated after the response has gone out), and the ways a status URL can be wrong.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeError, UsageError } from '../../../src/errors.js';
import { pickBalancers, readJkStatus, resetJkStatus, settleJkStatus } from '../../../src/verdict/jk-status.js';
import { runFairness } from '../../../src/verdict/fairness-run.js';
import { parseExpect } from '../../../src/verdict/fairness.js';
import { parseTarget } from '../../../src/load/target.js';
import { ReplayResults } from '../../../src/load/replay-results.js';
import { buildReport, steady } from './report-fixture.js';

function statusText(elected1: number, elected2: number, lock = 'Optimistic'): string {
  return [
    'worker.list=balancer,jkstatus',
    'worker.balancer.type=lb',
    `worker.balancer.lock=${lock}`,
    'worker.balancer.balance_workers=tomcat1',
    `worker.tomcat1.elected=${elected1}`,
    'worker.balancer.balance_workers=tomcat2',
    `worker.tomcat2.elected=${elected2}`,
  ].join('\n');
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  server = undefined;
});

/** A status worker whose answers come from `answer`, called once per list request. */
async function fakeStatus(answer: (n: number) => { status: number; body: string } | 'hang'): Promise<string> {
  let lists = 0;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('cmd') === 'reset') {
      res.end('worker.result.type=OK\nworker.result.message=Action finished\n');
      return;
    }
    const a = answer(lists++);
    if (a === 'hang') return;
    res.statusCode = a.status;
    res.end(a.body);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server?.address() as AddressInfo).port}/jkstatus`;
}

describe('settleJkStatus', () => {
  it('waits for lagging counters to reach the requests sent (499, then 500)', async () => {
    const url = await fakeStatus((n) => ({ status: 200, body: n === 0 ? statusText(250, 249) : statusText(250, 250) }));
    const b = await settleJkStatus(url, ['balancer'], { expectedTotal: 500, intervalMs: 10 });
    expect(b[0]?.members.map((m) => m.elected)).toEqual([250, 250]);
  });

  it('stops when two reads agree although the total is not reached (other requests failed before mod_jk)', async () => {
    let reads = 0;
    const url = await fakeStatus((n) => {
      reads = n + 1;
      return { status: 200, body: n === 0 ? statusText(100, 98) : statusText(100, 99) };
    });
    const b = await settleJkStatus(url, ['balancer'], { expectedTotal: 500, intervalMs: 10, deadlineMs: 10_000 });
    expect(b[0]?.members.map((m) => m.elected)).toEqual([100, 99]);
    expect(reads).toBe(3);
  });

  it('gives up at the deadline and returns the last read', async () => {
    const url = await fakeStatus((n) => ({ status: 200, body: statusText(n, 0) }));
    const t0 = Date.now();
    const b = await settleJkStatus(url, ['balancer'], { expectedTotal: 1_000_000, intervalMs: 20, deadlineMs: 300 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(b[0]?.members[0]?.elected).toBeGreaterThan(2);
  });
});

describe('status worker errors are one-line runtime errors with a stable code', () => {
  it('HTTP 404', async () => {
    const url = await fakeStatus(() => ({ status: 404, body: 'Not Found' }));
    const e = await readJkStatus(url).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e).toMatchObject({ code: 'AJPBENCH_ERR_JK_STATUS', message: expect.stringMatching(/HTTP status 404/) });
  });

  it('no answer within the timeout', async () => {
    const url = await fakeStatus(() => 'hang');
    const e = await readJkStatus(url, 200).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RuntimeError);
    expect((e as Error).message).toMatch(/no answer within 200 ms/);
  });

  it('nothing listening', async () => {
    const url = await fakeStatus(() => ({ status: 200, body: '' }));
    server?.close();
    server?.closeAllConnections();
    await new Promise((r) => setTimeout(r, 50));
    const e = await readJkStatus(url, 2000).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RuntimeError);
    expect((e as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('a 200 page that is not a status worker', async () => {
    const url = await fakeStatus(() => ({ status: 200, body: '<html>It works!</html>' }));
    await expect(readJkStatus(url)).rejects.toMatchObject({
      code: 'AJPBENCH_ERR_JK_STATUS',
      message: expect.stringMatching(/not a mod_jk status worker/),
    });
  });

  it('a read-only status worker refuses the reset', async () => {
    server = createServer((_req, res) => res.end('worker.result.type=NOT OK\nworker.result.message=read only\n'));
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jkstatus`;
    await expect(resetJkStatus(url, ['balancer'])).rejects.toMatchObject({
      code: 'AJPBENCH_ERR_JK_STATUS',
      message: expect.stringMatching(/read only/),
    });
  });

  it('an --jk-balancer it does not list is a usage error', () => {
    expect(() => pickBalancers([{ name: 'lb', lock: 'Optimistic', members: [] }], 'nope')).toThrow(UsageError);
  });
});

describe('fairness --jk-status beside the wire', () => {
  const report = buildReport(
    [...steady(250, 1, [2], { route: 'tomcat1' }), ...steady(250, 1, [2], { route: 'tomcat2' })],
    { target: 'http://lb:80' },
  );
  const run = (url: string) =>
    runFairness({
      replay: {
        trace: 't.jsonl',
        targets: [parseTarget('http://lb:80')],
        model: 'closed',
        concurrency: 1,
        limits: { warmupMs: 0, durationMs: 1000, requests: Infinity },
      },
      expected: parseExpect('tomcat1=1,tomcat2=1'),
      jkStatus: { url, settleMs: 300 },
      replayFn: async () => ({ report, results: new ReplayResults([]) }),
    });

  it('a count lost by an unlocked (lock=Optimistic) balancer differs, and the note says why and what fixes it', async () => {
    const url = await fakeStatus(() => ({ status: 200, body: statusText(250, 249) }));
    const r = await run(url);
    expect(r.jk).toMatchObject({
      agree: false,
      workers: expect.arrayContaining([{ worker: 'tomcat2', measured: 250, jk: 249, difference: -1 }]),
    });
    expect(r.jk?.note).toMatch(/lock=Optimistic \(balancer\).*lock=P makes them exact/);
  });

  it('exact counters (lock=Pessimistic) that agree need no such note', async () => {
    const url = await fakeStatus(() => ({ status: 200, body: statusText(250, 250, 'Pessimistic') }));
    const r = await run(url);
    expect(r.jk?.agree).toBe(true);
    expect(r.jk?.note).not.toMatch(/lock=/);
  });
});

/**
 * Issue 13's e2e: `record` taps in front of both lab Tomcats, httpd + mod_jk (balancer_tap) in front
 * of the taps, a few seconds of concurrent load through httpd: GETs, POSTs with bodies of random sizes
 * (crossing AJP packets), chunked uploads and large responses. The trace is then checked, request by
 * request, against what the client saw: one exchange per request, its method, status, the worker
 * that served it, and the length and SHA-256 of both bodies.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TapRecorder, type RecordSummary } from '../../src/capture/index.js';
import { TraceWriter, type ExchangeEvent } from '../../src/trace/index.js';
import { readTrace } from '../fixtures/tap-fixtures.js';
import { httpRequest } from '../lab/http-client.js';
import { labForTests, type LabState } from '../lab/lab.js';

const lab = labForTests();

/** Bounded in time and in count: whichever comes first. */
const LOAD_MS = 3_000;
const MAX_REQUESTS = 1_500;
const CONCURRENCY = 8;

interface Seen {
  n: number;
  method: string;
  status: number;
  servedBy: string;
  requestBytes: number;
  requestSha: string;
  responseBytes: number;
  responseSha: string;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A deterministic pseudo-random body: sizes from 0 to 40,000 bytes cross the 8 KiB AJP packets. */
function bodyFor(n: number): Buffer {
  const size = (n * 7919) % 40_001;
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (n + i * 31) & 0xff;
  return b;
}

async function one(base: string, n: number): Promise<Seen> {
  const kind = n % 4;
  const body = kind === 1 || kind === 3 ? bodyFor(n) : Buffer.alloc(0);
  const method = kind === 1 || kind === 3 ? 'POST' : 'GET';
  const path = kind === 2 ? `/app/large.jsp?size=${(n * 104_729) % 300_000}&n=${n}` : `/app/echo.jsp?n=${n}`;
  const chunks = kind === 3 ? [body.subarray(0, body.length >> 1), body.subarray(body.length >> 1)] : undefined;
  const res = await httpRequest(`${base}${path}`, {
    method,
    ...(method === 'POST' ? { body: chunks ?? body } : {}),
    timeoutMs: 20_000,
  });
  return {
    n,
    method,
    status: res.status,
    servedBy: String(res.headers['x-served-by']),
    requestBytes: body.length,
    requestSha: sha(body),
    responseBytes: res.body.length,
    responseSha: sha(res.body),
  };
}

describe.skipIf(lab === undefined)('record under load: httpd + mod_jk through taps to both Tomcats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-e2e-load-'));
  const file = join(dir, 'load.jsonl');
  const seen: Seen[] = [];
  let summary: RecordSummary;
  let byN = new Map<number, ExchangeEvent>();
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
      trace: { redact: true, bodies: 'none', maxBody: 0 },
      tool: 'ajpbench e2e',
      openOutput: (h) => TraceWriter.create(file, h),
    });
    try {
      const base = `http://127.0.0.1:${p.httpdJkTap}`;
      const until = Date.now() + LOAD_MS;
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (Date.now() < until && next < MAX_REQUESTS) seen.push(await one(base, next++));
        }),
      );
    } finally {
      summary = await recorder.stop();
    }
    exchanges = (await readTrace(file)).events.filter((e): e is ExchangeEvent => e.event === 'exchange');
    byN = new Map(exchanges.map((x) => [Number(new URLSearchParams(x.request.query ?? '').get('n')), x]));
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the load was real: hundreds of requests, all answered 200, by both workers', () => {
    expect(seen.length).toBeGreaterThanOrEqual(200);
    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
    expect(new Set(seen.map((s) => s.servedBy))).toEqual(new Set(['tomcat1', 'tomcat2']));
  });

  it('the trace holds one exchange per request, nothing dropped, cut off or in error', () => {
    expect(exchanges).toHaveLength(seen.length);
    expect(byN.size).toBe(seen.length);
    expect(summary.exchangesDropped).toBe(0);
    expect(summary.incomplete).toBe(0);
    expect(summary.errors).toBe(0);
    expect(summary.eventsLost).toBe(0);
    expect(summary.exchangesByLabel).toEqual({
      tomcat1: seen.filter((s) => s.servedBy === 'tomcat1').length,
      tomcat2: seen.filter((s) => s.servedBy === 'tomcat2').length,
    });
  });

  it('each exchange matches what the client sent and received: method, status, worker, both bodies', () => {
    const mismatches: string[] = [];
    for (const s of seen) {
      const x = byN.get(s.n);
      if (x === undefined) {
        mismatches.push(`n=${s.n}: not in the trace`);
        continue;
      }
      const got = {
        method: x.request.method,
        status: x.response.status,
        worker: x.worker,
        requestBytes: x.request.body.length,
        requestSha: x.request.body.sha256,
        responseBytes: x.response.body.length,
        responseSha: x.response.body.sha256,
      };
      const want = {
        method: s.method,
        status: s.status,
        worker: s.servedBy,
        requestBytes: s.requestBytes,
        requestSha: s.requestSha,
        responseBytes: s.responseBytes,
        responseSha: s.responseSha,
      };
      if (JSON.stringify(got) !== JSON.stringify(want))
        mismatches.push(`n=${s.n}: trace ${JSON.stringify(got)} client ${JSON.stringify(want)}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});

/**
 * runDiff against stub containers: lockstep replay to AJP and HTTP targets, noise learned from a
 * secondary node, a dead candidate, the recorded responses as the primary, sampling by session
 * and the request bound.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubContainer, type StubListen } from '../../../../src/load/stub-container.js';
import { parseTarget, type Target } from '../../../../src/load/target.js';
import { TraceWriter } from '../../../../src/trace/trace-writer.js';
import type { DiffEvent, ExchangeEvent } from '../../../../src/trace/trace-types.js';
import { testTraceHeader } from '../../../fixtures/trace-header.js';
import { runDiff, RECORDED_PRIMARY, type DiffRunOptions } from '../../../../src/verdict/diff/diff-run.js';

const root = join(import.meta.dirname, '../../../..');
const trace = join(root, 'captures/lab-mixed.trace.jsonl');
const schema = JSON.parse(readFileSync(join(root, 'docs/trace-format.schema.json'), 'utf8')) as { $id: string };
const validateEvent = new Ajv2020({ strict: false }).addSchema(schema).compile({ $ref: `${schema.$id}#/$defs/event` });

let stubs: StubContainer[] = [];
const node = (i: number, protocol: 'ajp' | 'http'): Target => {
  const l = stubs[i]?.listeners.find((x) => x.protocol === protocol);
  if (l === undefined) throw new Error('no listener');
  return parseTarget(`${protocol}://127.0.0.1:${l.port}`);
};

beforeAll(async () => {
  const listen = (route: string): StubListen[] => [
    { host: '127.0.0.1', port: 0, route, protocol: 'ajp' },
    { host: '127.0.0.1', port: 0, route, protocol: 'http' },
  ];
  stubs = await Promise.all([
    StubContainer.start({ listen: listen('node1'), bodySize: 64 }),
    StubContainer.start({ listen: listen('node2'), bodySize: 64 }),
    StubContainer.start({ listen: listen('node3'), bodySize: 80 }),
  ]);
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
});

const run = (o: Partial<DiffRunOptions> & { candidate: Target }): ReturnType<typeof runDiff> =>
  runDiff({ trace, concurrency: 4, requestTimeoutMs: 5000, connectTimeoutMs: 2000, ...o });

describe('runDiff', () => {
  it('shows per-node values as differences without a secondary, over AJP and HTTP, and writes valid diff events', async () => {
    const events: DiffEvent[] = [];
    const r = await run({ primary: node(0, 'ajp'), candidate: node(1, 'http'), onDiff: (e) => events.push(e) });
    expect(r.sent).toBe(44);
    expect(r.answered).toEqual({ primary: 44, candidate: 44, secondary: null });
    expect(r.summary.compared).toBe(44);
    expect(r.summary.differing).toBeGreaterThan(0);
    expect(r.summary.noiseOnly).toBe(0);
    // New sessions carry the node's route in their cookie: JSESSIONID={session}.node1 against .node2.
    const cookie = r.summary.groups.find((g) => g.field === 'header:set-cookie');
    expect(cookie?.examples[0]?.before).toMatch(/JSESSIONID=\{session\}\.node1/);
    expect(cookie?.examples[0]?.after).toMatch(/JSESSIONID=\{session\}\.node2/);
    expect(events).toHaveLength(r.summary.differing);
    for (const e of events) expect(validateEvent(e), JSON.stringify(validateEvent.errors)).toBe(true);
  });

  it("learns a secondary node's differences as noise, and still catches the candidate's own", async () => {
    const same = await run({ primary: node(0, 'ajp'), secondary: node(1, 'ajp'), candidate: node(1, 'http') });
    expect(same.summary).toMatchObject({ compared: 44, differing: 0 });
    expect(same.summary.noiseOnly).toBeGreaterThan(0);
    expect(same.answered.secondary).toBe(44);
    // node3 answers bodies of another length: not noise, whatever the secondary says.
    const other = await run({ primary: node(0, 'ajp'), secondary: node(1, 'ajp'), candidate: node(2, 'ajp') });
    expect(other.summary.differing).toBeGreaterThan(30);
    const body = other.summary.groups.find((g) => g.kind === 'body' && g.differences > 0);
    expect(body?.examples[0]).toMatchObject({ noise: false });
  });

  it('compares a dead candidate as no-response and a dead primary as dropped', async () => {
    const dead = parseTarget('ajp://127.0.0.1:1');
    const r = await run({ primary: node(0, 'ajp'), candidate: dead, requests: 5 });
    expect(r.answered.candidate).toBe(0);
    expect(r.summary.byKind).toEqual([{ kind: 'no-response', exchanges: 5, differences: 5 }]);
    expect(r.summary.groups[0]?.examples[0]?.after).toBe('connect: connection refused');
    const d = await run({ primary: dead, candidate: node(0, 'http'), requests: 3 });
    expect(d.summary).toMatchObject({ compared: 0, dropped: 3 });
    expect(d.summary.droppedBy).toEqual([{ reason: 'primary gave no answer: connect: connection refused', count: 3 }]);
  });

  it('takes the recorded responses as the primary when none is given (bodies by hash)', async () => {
    const r = await run({ candidate: node(0, 'ajp'), requests: 10 });
    expect(r.targets.primary).toBe(RECORDED_PRIMARY);
    expect(r.summary.compared).toBe(10);
    const body = r.summary.groups.find((g) => g.field === 'body');
    expect(body?.examples[0]?.before).toMatch(/^\d+ bytes, sha256 [0-9a-f]{12}$/);
  });

  it('samples whole sessions, the same ones on every run, and stops at --requests', async () => {
    const a = await run({ primary: node(0, 'ajp'), candidate: node(1, 'ajp'), sample: { share: 0.5, seed: 's' } });
    const b = await run({ primary: node(0, 'ajp'), candidate: node(1, 'ajp'), sample: { share: 0.5, seed: 's' } });
    expect(a.trace.sampledOut).toBeGreaterThan(0);
    expect(a.sent + a.trace.sampledOut).toBe(44);
    expect(b.sent).toBe(a.sent);
    const limited = await run({ primary: node(0, 'ajp'), candidate: node(1, 'ajp'), requests: 7, concurrency: 2 });
    expect(limited).toMatchObject({ sent: 7, stoppedBy: 'requests' });
  });

  it("redacts the candidate's cookies as the recording was redacted, and compares recorded JSON bodies field by field", async () => {
    const body = '{"user":"ann","n":1}';
    const sha = createHash('sha256').update(body).digest('hex');
    const base = recordedExchange(1);
    const exchange: ExchangeEvent = {
      ...base,
      response: {
        ...base.response,
        headers: [
          ['Content-Type', 'application/json'],
          ['Set-Cookie', 'lab=REDACTED; Path=/'],
        ],
        body: { length: body.length, sha256: sha, data: Buffer.from(body).toString('base64') },
      },
    };
    const file = join(mkdtempSync(join(tmpdir(), 'ajpbench-diff-run-')), 'recorded.jsonl');
    const w = await TraceWriter.create(
      file,
      testTraceHeader({ options: { redact: true, bodies: 'all', maxBody: 1024 } }),
    );
    await w.write(exchange);
    await w.close();
    let answer = body;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Set-Cookie': 'lab=1; Path=/' }).end(answer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const candidate = parseTarget(`http://127.0.0.1:${port}`);
      expect((await runDiff({ trace: file, candidate })).summary).toMatchObject({ compared: 1, equal: 1 });
      answer = '{"user":"bob","n":1}';
      const r = await runDiff({ trace: file, candidate });
      expect(r.summary.groups.map((g) => [g.field, g.examples[0]?.before, g.examples[0]?.after])).toEqual([
        ['body:$.user', '"ann"', '"bob"'],
      ]);
    } finally {
      server.close();
    }
  });

  it('skips truncated and malformed exchanges, counts them and lists the first few', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ajpbench-diff-skips-')), 'skips.jsonl');
    const w = await TraceWriter.create(file, testTraceHeader({ minorVersion: 1 }));
    for (let i = 1; i <= 8; i++)
      await w.write({ ...recordedExchange(i), truncated: { missingBytes: 10, response: 'body' } });
    await w.write({
      ...recordedExchange(9),
      request: { ...recordedExchange(9).request, uri: 42 },
    } as unknown as ExchangeEvent);
    await w.write(recordedExchange(10));
    await w.close();
    const issues: string[] = [];
    const r = await runDiff({ trace: file, candidate: node(0, 'ajp'), onIssue: (m) => issues.push(m) });
    expect(r.trace).toEqual({
      exchanges: 10,
      sampledOut: 0,
      skippedMalformed: 1,
      skippedTruncated: 8,
      unreadableLines: 0,
    });
    expect(r.sent).toBe(1);
    expect(issues).toEqual([
      ...[1, 2, 3, 4, 5].map((i) => `exchange ${i} skipped: the capture holds it only in part (truncated)`),
      'more truncated exchanges follow: counted in the summary, not listed',
      expect.stringMatching(/^exchange 9 skipped: request\.uri is the number 42/),
    ]);
  });
});

/** A GET exchange as a trace records it, with an empty JSON answer kept whole. */
function recordedExchange(id: number): ExchangeEvent {
  const body = '{}';
  return {
    event: 'exchange',
    id,
    conn: 1,
    t: id,
    upstream: '127.0.0.1:8009',
    request: {
      method: 'GET',
      protocol: 'HTTP/1.1',
      uri: '/me',
      query: null,
      remoteAddr: '127.0.0.1',
      remoteHost: null,
      serverName: 'localhost',
      serverPort: 80,
      isSsl: false,
      headers: [['host', 'localhost']],
      attributes: {},
      reqAttributes: [],
      body: { length: 0, sha256: createHash('sha256').digest('hex'), data: '' },
    },
    response: {
      status: 200,
      message: 'OK',
      headers: [['Content-Type', 'application/json']],
      body: {
        length: 2,
        sha256: createHash('sha256').update(body).digest('hex'),
        data: Buffer.from(body).toString('base64'),
      },
      reuse: true,
    },
    timing: { headersUs: 1, endUs: 2 },
    route: null,
    routeSource: null,
    bodyRequests: 0,
  };
}

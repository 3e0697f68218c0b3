/** TraceRequestSource on damaged traces: malformed exchanges and unreadable lines are skipped, counted and reported. */
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../../src/load/replay.js';
import { requestBody, toReplayRequest } from '../../../src/load/replay-request.js';
import { TraceRequestSource } from '../../../src/load/request-source.js';
import { StubContainer } from '../../../src/load/stub-container.js';
import { parseTarget } from '../../../src/load/target.js';
import { TraceWriter, type ExchangeEvent, type TraceHeader } from '../../../src/trace/index.js';
import { exchange } from './helpers.js';
import { testTraceHeader } from '../../fixtures/trace-header.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-source-'));
const header: TraceHeader = testTraceHeader();

/** An exchange event with request.uri (or another request field) replaced, as a JSON line. */
function withRequest(id: number, field: string, value: unknown): string {
  const ev = exchange({ id, t: id * 1000 }) as unknown as { request: Record<string, unknown> };
  ev.request[field] = value;
  return JSON.stringify(ev);
}

let damaged: string;
beforeAll(async () => {
  damaged = join(dir, 'damaged.jsonl');
  const w = await TraceWriter.create(damaged, header);
  for (let i = 1; i <= 3; i++) await w.write(exchange({ id: i, t: i * 1000 }));
  await w.close();
  appendFileSync(
    damaged,
    [
      withRequest(4, 'uri', 42), // line 5
      withRequest(5, 'uri', ['/a']),
      withRequest(6, 'uri', { p: '/a' }),
      withRequest(7, 'headers', 'host: x'),
      '{"event":"exchange","id":8,"co', // line 9: cut off
      JSON.stringify({ ...exchange({ id: 9 }), pad: 'x'.repeat(1024 * 1024 + 10) }), // line 10: over a 1 MiB bound
      '[1,2,3]', // line 11: not an event
      JSON.stringify(exchange({ id: 10, t: 10_000 })),
    ].join('\n') + '\n',
  );
});

async function drain(src: TraceRequestSource): Promise<number[]> {
  const ids: number[] = [];
  for (;;) {
    const r = src.next();
    if (r !== undefined) ids.push(r.exchangeId);
    else if (src.exhausted) return ids;
    else await src.waitForMore();
  }
}

describe('TraceRequestSource on a damaged trace', () => {
  it('skips malformed exchanges and unreadable lines, counts each and says why', async () => {
    const notes: string[] = [];
    const src = await TraceRequestSource.open(damaged, { maxLineBytes: 1024 * 1024, onIssue: (m) => notes.push(m) });
    expect(await drain(src)).toEqual([1, 2, 3, 10]);
    expect(src.skips()).toEqual({ skippedExchanges: 4, unreadableLines: 3, firstUnreadableLine: 9 });
    expect(notes).toContain('exchange 4 skipped: request.uri is the number 42, not a string or null');
    expect(notes).toContain('exchange 5 skipped: request.uri is a list, not a string or null');
    expect(notes).toContain('exchange 7 skipped: request.headers is a string, not a list');
    expect(notes).toContain('line 10 is longer than 1 MiB; skipped unread');
    expect(notes.some((n) => /line 9 is not valid JSON/.test(n))).toBe(true);
    expect(src.skipNote()).toBe(
      'skipped 4 malformed exchanges (a field missing or of the wrong type) and 3 unreadable lines (first: line 9) of the trace',
    );
  });

  it('counts a looped trace once, not once per pass, and lists only the first few notes', async () => {
    const many = join(dir, 'many-bad.jsonl');
    const w = await TraceWriter.create(many, header);
    await w.write(exchange({ id: 1 }));
    await w.close();
    appendFileSync(
      many,
      Array.from({ length: 50 }, (_, i) => withRequest(100 + i, 'method', i)).join('\n') +
        '\n' +
        'garbage\n'.repeat(30),
    );
    const notes: string[] = [];
    const src = await TraceRequestSource.open(many, { loop: true, cacheLimit: 0, onIssue: (m) => notes.push(m) });
    let n = 0;
    while (n < 10) {
      if (src.next() !== undefined) n++;
      else await src.waitForMore();
    }
    src.close();
    expect(src.skips()).toEqual({ skippedExchanges: 50, unreadableLines: 30, firstUnreadableLine: 53 });
    expect(notes.length).toBeLessThanOrEqual(12);
    expect(notes.filter((m) => /more .* counted/.test(m))).toHaveLength(2);
  });
});

describe('toReplayRequest', () => {
  it('refuses a request body longer than a replay pads, in words', () => {
    const ev = exchange({ id: 3 });
    const big: ExchangeEvent = { ...ev, request: { ...ev.request, body: { length: 5 * 1024 ** 3, sha256: 'x' } } };
    expect(() => toReplayRequest(big)).toThrow(/request\.body\.length 5368709120 is above 1 GiB/);
    expect(requestBody({ length: 4, sha256: '', data: Buffer.from('ab').toString('base64') })).toEqual(
      Buffer.from([0x61, 0x62, 0, 0]),
    );
  });
});

describe('replay on a damaged trace', () => {
  let stub: StubContainer;
  afterAll(() => stub?.close());

  it('reports the skipped exchanges and unreadable lines in its config and warnings', async () => {
    const small = join(dir, 'damaged-small.jsonl');
    const w = await TraceWriter.create(small, header);
    for (let i = 1; i <= 3; i++) await w.write(exchange({ id: i, t: i * 1000 }));
    await w.close();
    appendFileSync(
      small,
      [withRequest(4, 'uri', 42), 'not json', withRequest(5, 'isSsl', 'yes'), JSON.stringify(exchange({ id: 6 }))].join(
        '\n',
      ) + '\n',
    );
    stub = await StubContainer.start({
      listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }],
      bodySize: 10,
    });
    const { report } = await replay({
      trace: small,
      targets: [parseTarget(`ajp://${stub.listeners[0]?.address ?? ''}`)],
      model: 'closed',
      concurrency: 1,
      limits: { durationMs: Infinity, requests: Infinity, warmupMs: 0 },
    });
    expect(report.requests.total).toBe(4);
    expect(report.config).toMatchObject({ skippedExchanges: 2, unreadableLines: 1, firstUnreadableLine: 6 });
    expect(report.warnings).toContain(
      'skipped 2 malformed exchanges (a field missing or of the wrong type) and 1 unreadable line (first: line 6) of the trace',
    );
  });
});

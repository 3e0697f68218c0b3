/**
 * Replay and exchanges a damaged capture holds only in part (trace `truncated`, minor 1): skipped
 * and counted by default, replayed as far as known with --include-truncated unless their method or
 * URI was not captured.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TraceRequestSource } from '../../../src/load/request-source.js';
import { TraceWriter, type ExchangeEvent, type TraceHeader } from '../../../src/trace/index.js';
import { exchange } from './helpers.js';
import { testTraceHeader } from '../../fixtures/trace-header.js';

const header: TraceHeader = testTraceHeader({ minorVersion: 1 });

let file: string;
beforeAll(async () => {
  file = join(mkdtempSync(join(tmpdir(), 'ajpbench-truncated-')), 'trace.jsonl');
  const w = await TraceWriter.create(file, header);
  const cut = (id: number, truncated: ExchangeEvent['truncated'], uri = '/a'): ExchangeEvent => {
    const x = exchange({ id, t: id * 1000 });
    return { ...x, request: { ...x.request, uri }, truncated };
  };
  await w.write(exchange({ id: 1, t: 1000 }));
  await w.write(cut(2, { missingBytes: 300, request: 'headers', response: 'body' }));
  await w.write(cut(3, { missingBytes: 900, request: 'uri' }, '/app/ec'));
  await w.write(cut(4, { missingBytes: 20, response: 'end' }));
  await w.write(exchange({ id: 5, t: 5000 }));
  await w.close();
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

describe('TraceRequestSource and truncated exchanges', () => {
  it('skips them by default and says how many, and how to replay them', async () => {
    const src = await TraceRequestSource.open(file);
    expect(await drain(src)).toEqual([1, 5]);
    expect(src.skippedTruncated).toBe(3);
    expect(src.skipNote()).toBe(
      'skipped 3 truncated exchanges (the capture lacked bytes of them; --include-truncated replays what is known) of the trace',
    );
  });

  it('--include-truncated: replays what is known, still skips one whose URI was cut', async () => {
    const src = await TraceRequestSource.open(file, { includeTruncated: true });
    expect(await drain(src)).toEqual([1, 2, 4, 5]);
    expect(src.skippedTruncated).toBe(1);
    expect(src.skipNote()).toBe(
      'skipped 1 truncated exchange (the capture lacked bytes of it; method or URI not captured) of the trace',
    );
  });

  it('a looped trace counts them once', async () => {
    const src = await TraceRequestSource.open(file, { loop: true });
    for (let i = 0; i < 6; i++) {
      while (src.next() === undefined) await src.waitForMore();
    }
    src.close();
    expect(src.skippedTruncated).toBe(3);
  });
});

/** Trace files: written 0600 with a header first, read back streaming, versions and damage handled. */
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  openTrace,
  SerializedEvent,
  TraceFormatError,
  TraceWriter,
  type TraceEvent,
  type TraceHeader,
} from '../../../src/trace/index.js';
import { testTraceHeader } from '../../fixtures/trace-header.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-trace-'));
const header: TraceHeader = testTraceHeader();
const cping = (t: number): TraceEvent => ({ event: 'cping', conn: 1, t, rttUs: 50 });

async function readAll(
  file: string,
  issues: TraceFormatError[] = [],
): Promise<{ header: TraceHeader; events: TraceEvent[] }> {
  const trace = await openTrace(file, { onIssue: (e) => issues.push(e) });
  const events: TraceEvent[] = [];
  for await (const e of trace.events) events.push(e);
  return { header: trace.header, events };
}

describe('TraceWriter and openTrace', () => {
  it('writes the header then one event per line, mode 0600 even over an existing 0644 file', async () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, 'old');
    chmodSync(file, 0o644);
    const w = await TraceWriter.create(file, header);
    for (let i = 0; i < 1000; i++) await w.write(cping(i));
    await w.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(1001);
    const back = await readAll(file);
    expect(back.header).toEqual(header);
    expect(back.events).toHaveLength(1000);
    expect(back.events[999]).toEqual(cping(999));
  });

  it('writes a serialised event verbatim, in order with plain ones (what a worker thread hands over)', async () => {
    const file = join(dir, 'serialized.jsonl');
    const w = await TraceWriter.create(file, header);
    await w.write(cping(1));
    // Not what JSON.stringify would write for it (key order): proves the text is not produced again.
    await w.write(new SerializedEvent('cping', 2, '{"t":2,"event":"cping","conn":1,"rttUs":50}'));
    await w.write(SerializedEvent.of(cping(3)));
    await w.close();
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines.slice(1)).toEqual([
      JSON.stringify(cping(1)),
      '{"t":2,"event":"cping","conn":1,"rttUs":50}',
      JSON.stringify(cping(3)),
    ]);
    expect(w.events).toBe(3);
    expect((await readAll(file)).events).toEqual([cping(1), cping(2), cping(3)]);
  });

  it('refuses a newer major version and something that is not a trace, with codes', async () => {
    const newer = join(dir, 'newer.jsonl');
    writeFileSync(newer, JSON.stringify({ ...header, version: 2 }) + '\n');
    await expect(openTrace(newer)).rejects.toMatchObject({
      code: 'TRACE_ERR_NEWER_VERSION',
      message: expect.stringContaining('upgrade ajpbench'),
    });
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, '{"hello":1}\n');
    await expect(openTrace(other)).rejects.toMatchObject({ code: 'TRACE_ERR_NOT_A_TRACE' });
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    await expect(openTrace(empty)).rejects.toMatchObject({ code: 'TRACE_ERR_EMPTY' });
  });

  it('skips and reports a line cut off by a killed recorder, keeping everything before it', async () => {
    const file = join(dir, 'cut.jsonl');
    writeFileSync(
      file,
      [JSON.stringify(header), JSON.stringify(cping(1)), JSON.stringify(cping(2)), '{"event":"exch'].join('\n'),
    );
    const issues: TraceFormatError[] = [];
    const back = await readAll(file, issues);
    expect(back.events).toEqual([cping(1), cping(2)]);
    expect(issues.map((i) => [i.code, i.line])).toEqual([['TRACE_ERR_BAD_LINE', 4]]);
  });

  it('accepts a newer minor version and ignores fields it does not know', async () => {
    const file = join(dir, 'minor.jsonl');
    writeFileSync(
      file,
      [JSON.stringify({ ...header, minorVersion: 7, future: true }), JSON.stringify({ ...cping(3), extra: 'x' })].join(
        '\n',
      ) + '\n',
    );
    const back = await readAll(file);
    expect(back.header.minorVersion).toBe(7);
    expect(back.events[0]).toMatchObject(cping(3));
  });
});

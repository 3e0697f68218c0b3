/** openTrace's line reader: a bound on line length, lines split across chunks, CRLF, and streams closed. */
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_LINE_BYTES,
  MAX_LINE_BYTES_LIMIT,
  lineBoundFor,
  openTrace,
  type TraceEvent,
  type TraceFormatError,
  type TraceHeader,
} from '../../../src/trace/index.js';
import { testTraceHeader } from '../../fixtures/trace-header.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-reader-'));
const header: TraceHeader = testTraceHeader();
const cping = (t: number): TraceEvent => ({ event: 'cping', conn: 1, t, rttUs: 50 });
const MiB = 1024 * 1024;

async function readAll(
  input: string | NodeJS.ReadableStream,
  maxLineBytes?: number,
): Promise<{ events: TraceEvent[]; issues: TraceFormatError[] }> {
  const issues: TraceFormatError[] = [];
  const trace = await openTrace(input, {
    onIssue: (e) => issues.push(e),
    ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
  });
  const events: TraceEvent[] = [];
  for await (const e of trace.events) events.push(e);
  return { events, issues };
}

describe('openTrace line bound', () => {
  it('skips a line over the bound without failing, reports its line number, and reads on', async () => {
    const file = join(dir, 'oversized.jsonl');
    const out = createWriteStream(file);
    out.write(JSON.stringify(header) + '\n');
    for (let i = 0; i < 50; i++) out.write(JSON.stringify(cping(i)) + '\n');
    // Line 52: 3 MiB in 64 KiB pieces, as a huge body would be; never a newline inside.
    out.write('{"event":"exchange","data":"');
    const piece = 'A'.repeat(64 * 1024);
    for (let i = 0; i < 48; i++) out.write(piece);
    out.write('"}\n');
    for (let i = 50; i < 100; i++) out.write(JSON.stringify(cping(i)) + '\n');
    out.end();
    await once(out, 'finish');
    const r = await readAll(file, 1 * MiB);
    expect(r.events).toHaveLength(100);
    expect(r.events[50]).toEqual(cping(50));
    expect(r.issues.map((i) => [i.code, i.line])).toEqual([['TRACE_ERR_LINE_TOO_LONG', 52]]);
    expect(r.issues[0]?.message).toMatch(/line 52 is longer than 1 MiB/);
  });

  it('counts the bound exactly: a line of the bound is read, one byte more is skipped', async () => {
    const make = (len: number): string => {
      const base = JSON.stringify({ event: 'cping', conn: 1, t: 1, rttUs: 2, pad: '' });
      return base.replace('"pad":""', `"pad":"${'x'.repeat(len - base.length)}"`);
    };
    const bound = 1000;
    const text = [JSON.stringify(header), make(bound), make(bound + 1), make(bound)].join('\n') + '\n';
    const r = await readAll(Readable.from([Buffer.from(text)]), bound);
    expect(r.events).toHaveLength(2);
    expect(r.issues.map((i) => i.line)).toEqual([3]);
  });

  it('refuses a header line over the bound as not a trace, without reading on to its end', async () => {
    const file = join(dir, 'binary.jsonl');
    writeFileSync(file, Buffer.alloc(2 * 4096, 0x41));
    await expect(openTrace(file, { maxLineBytes: 4096 })).rejects.toMatchObject({
      code: 'TRACE_ERR_NOT_A_TRACE',
      message: expect.stringMatching(/longer than 4 KiB/),
    });
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled++;
        this.push(Buffer.alloc(64 * 1024, 0x41));
      },
    });
    await expect(openTrace(endless, { maxLineBytes: 1024 * 1024 })).rejects.toMatchObject({
      code: 'TRACE_ERR_NOT_A_TRACE',
    });
    expect(pulled).toBeLessThan(40);
    expect(endless.destroyed).toBe(true);
  });

  it('sizes the default bound from the header: 64 MiB, or room for two kept bodies in base64, at most the longest string', () => {
    expect(DEFAULT_MAX_LINE_BYTES).toBe(64 * MiB);
    expect(lineBoundFor(header)).toBe(64 * MiB);
    const big = lineBoundFor({ ...header, options: { redact: true, bodies: 'all', maxBody: 60 * MiB } });
    expect(big).toBeGreaterThanOrEqual(2 * 80 * MiB);
    expect(lineBoundFor({ ...header, options: { redact: true, bodies: 'none', maxBody: 60 * MiB } })).toBe(64 * MiB);
    expect(lineBoundFor({ ...header, options: { redact: true, bodies: 'all', maxBody: 1e15 } })).toBe(
      MAX_LINE_BYTES_LIMIT,
    );
    // A damaged header says nothing useful: the default.
    expect(lineBoundFor({ ...header, options: null } as unknown as TraceHeader)).toBe(64 * MiB);
  });
});

describe('openTrace lines', () => {
  it('reads lines split at every byte offset, multi-byte UTF-8 and CRLF included', async () => {
    const ev = { event: 'error', t: 1, code: 'AJP_ERR_X', message: 'straße → 東京 😀' };
    const text = Buffer.from(`${JSON.stringify(header)}\r\n${JSON.stringify(ev)}\r\n\r\n${JSON.stringify(cping(2))}`);
    for (let cut = 1; cut < text.length; cut++) {
      const r = await readAll(Readable.from([text.subarray(0, cut), text.subarray(cut)]));
      expect(r.issues).toEqual([]);
      expect(r.events).toEqual([ev, cping(2)]);
    }
  });

  it('closes the input when the header is refused and when the reader stops early', async () => {
    const bad = Readable.from([Buffer.from('{"hello":1}\n{"more":2}\n')]);
    await expect(openTrace(bad)).rejects.toMatchObject({ code: 'TRACE_ERR_NOT_A_TRACE' });
    expect(bad.destroyed).toBe(true);
    const lines = [JSON.stringify(header), ...Array.from({ length: 1000 }, (_, i) => JSON.stringify(cping(i)))].map(
      (l) => Buffer.from(l + '\n'),
    );
    const good = Readable.from(lines);
    const trace = await openTrace(good);
    for await (const e of trace.events) if (e.t === 3) break;
    expect(good.destroyed).toBe(true);
  });
});

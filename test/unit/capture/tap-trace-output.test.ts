/**
 * The tap's trace outputs when the output itself fails: a full disk, /dev/full, a rotated file
 * that cannot be created, a reader that went away. The failure is caught (never an unhandled
 * 'error' event), said once, and then by every write and by close(); what reached the output
 * before it is counted and kept.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { LineWriter } from '../../../src/cli/line-writer.js';
import {
  RotatingTraceWriter,
  rotatedPath,
  TraceWriter,
  type TraceEvent,
  type TraceHeader,
} from '../../../src/trace/index.js';
import { failingStream, readTrace, waitFor, withTimeout } from '../../fixtures/tap-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-trace-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const header: TraceHeader = {
  format: 'ajpbench-trace',
  version: 1,
  minorVersion: 0,
  tool: 'test',
  source: { kind: 'tap', taps: [] },
  startTime: new Date(0).toISOString(),
  startTimeUs: 0,
  options: { redact: true, bodies: 'none', maxBody: 0 },
};
const cping = (i: number): TraceEvent => ({ event: 'cping', conn: i, t: i, rttUs: 100 });
const headerBytes = JSON.stringify(header).length + 1;
const cpingBytes = (i: number): number => JSON.stringify(cping(i)).length + 1;

/** Writes events until a write throws (the writer knows it failed) or `n` were written; awaits when full. */
async function writeUntilFailed(w: { write(e: TraceEvent): Promise<void> | undefined }, n: number): Promise<number> {
  let i = 0;
  for (; i < n; i++) {
    let wait: Promise<void> | undefined;
    try {
      wait = w.write(cping(i));
    } catch {
      return i;
    }
    if (wait !== undefined) await wait.catch(() => undefined);
    else if (i % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  return i;
}

describe('TraceWriter on an output that fails', () => {
  it('catches a full disk: says so once, then every write and close() fail with the reason; the events before it are counted', async () => {
    const out = failingStream(headerBytes + cpingBytes(0) + cpingBytes(1) + cpingBytes(2), 'ENOSPC');
    const w = await TraceWriter.toStream(out.stream, header, 'the test disk');
    const failures: Error[] = [];
    w.onFailure((e) => failures.push(e));
    await writeUntilFailed(w, 100);
    await waitFor(() => failures.length > 0, 2000, 'the failure to be reported');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ name: 'RuntimeError', code: 'AJPBENCH_ERR_OUTPUT' });
    expect(failures[0]?.message).toBe('cannot write the test disk: no space left on the device');
    expect(() => w.write(cping(1000))).toThrow('cannot write the test disk: no space left on the device');
    await expect(w.close()).rejects.toThrow('no space left on the device');
    expect(out.accepted()).toBe(4); // the header and three events
    expect(w.written).toBe(3);
    expect(w.events).toBeGreaterThan(3);
    expect(failures).toHaveLength(1);
  });

  it('a write waiting for a full output to drain is released (rejected) when the output fails, not left hanging', async () => {
    let failNow: ((e: Error) => void) | undefined;
    const stream = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, cb) {
        failNow = cb; // never completes on its own
      },
    });
    const w = await TraceWriter.toStream(stream, header, 'a pipe');
    const wait = w.write(cping(1));
    expect(wait).toBeDefined();
    failNow?.(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await expect(withTimeout(wait as Promise<void>, 2000, 'the drain wait')).rejects.toThrow(
      'cannot write a pipe: the reader went away',
    );
    await expect(w.close()).rejects.toThrow('the reader went away');
  });

  it.runIf(existsSync('/dev/full'))(
    'writes to /dev/full fail with ENOSPC: caught and reported, and /dev/full keeps its mode',
    async () => {
      const modeBefore = statSync('/dev/full').mode;
      const w = await TraceWriter.create('/dev/full', header);
      const failures: Error[] = [];
      w.onFailure((e) => failures.push(e));
      await writeUntilFailed(w, 1000);
      await waitFor(() => failures.length > 0, 2000, 'the failure to be reported');
      expect(failures[0]?.message).toBe('cannot write /dev/full: no space left on the device');
      await expect(w.close()).rejects.toThrow('no space left on the device');
      expect(w.written).toBe(0);
      // A trace file is made 0600; a device that happens to be the output is not ours to change.
      expect(statSync('/dev/full').mode).toBe(modeBefore);
    },
  );
});

describe('RotatingTraceWriter on an output that fails', () => {
  it('a next file that cannot be created fails the output once; the files before it are complete', async () => {
    const sub = mkdtempSync(join(dir, 'rot-fail-'));
    const path = join(sub, 'trace.jsonl');
    mkdirSync(rotatedPath(path, 2)); // where the second file should go: a directory
    const w = await RotatingTraceWriter.create(path, header, 1024);
    const failures: Error[] = [];
    w.onFailure((e) => failures.push(e));
    // Written in one go, as a busy tap does: the events after the first file filled wait for the second.
    for (let i = 0; i < 100; i++) void w.write(cping(i))?.catch(() => undefined);
    await waitFor(() => failures.length > 0, 2000, 'the failure to be reported');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'AJPBENCH_ERR_OUTPUT' });
    expect(failures[0]?.message).toBe(`cannot write ${rotatedPath(path, 2)}: is a directory`);
    expect(() => w.write(cping(999))).toThrow('is a directory');
    await expect(w.close()).rejects.toThrow('is a directory');
    const first = await readTrace(rotatedPath(path, 1));
    expect(first.header).toEqual(header);
    expect(first.events.length).toBe(w.written);
    expect(first.events).toEqual(Array.from({ length: w.written }, (_, i) => cping(i)));
    expect(w.events).toBe(100);
    expect(w.written).toBeLessThan(100); // the rest was taken but never written: the caller counts it as lost
  });
});

describe('LineWriter on an output that fails', () => {
  it('a reader that goes away while it waits for room ends ready() and close() with the reason instead of hanging', async () => {
    const out = failingStream(10, 'EPIPE', 16);
    const lw = new LineWriter(out.stream, 'stdout');
    for (let i = 0; i < 5000; i++) lw.line(`line ${i} ${'x'.repeat(40)}`);
    await expect(withTimeout(lw.close(), 2000, 'close')).rejects.toMatchObject({
      code: 'AJPBENCH_ERR_OUTPUT',
      message: 'cannot write stdout: the reader went away',
    });
    expect(() => lw.line('more')).toThrow('the reader went away');
  });
});

/**
 * Long recordings: RotatingTraceWriter's retention (--keep, --keep-for), compression of closed
 * files (--gzip) and reopen() (SIGHUP: the next numbered file, or the same name again after
 * logrotate renamed it).
 */
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { RotatingTraceWriter, type TraceEvent, type TraceHeader } from '../../../src/trace/index.js';
import { readTrace } from '../../fixtures/tap-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-rotation-'));
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

const cping = (i: number): TraceEvent => ({ event: 'cping', conn: i, t: i, rttUs: 100 + i });

/** Writes events `from` to `to - 1`, awaiting the output when it is full. */
async function writeAll(w: RotatingTraceWriter, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await w.write(cping(i));
}

function conns(text: string): number[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .slice(1)
    .map((l) => (JSON.parse(l) as { conn: number }).conn);
}

describe('RotatingTraceWriter retention and compression', () => {
  it('--keep N: only the N newest files remain (the current one included), the others are deleted', async () => {
    const sub = mkdtempSync(join(dir, 'keep-'));
    const warnings: string[] = [];
    const w = await RotatingTraceWriter.create(join(sub, 'trace.jsonl'), header, 2048, {
      keep: 3,
      onWarning: (m) => warnings.push(m),
    });
    await writeAll(w, 0, 400);
    await w.close();
    expect(w.files.length).toBeGreaterThan(6); // it rotated well past the bound
    const left = readdirSync(sub).sort();
    expect(left).toEqual(w.files.slice(-3).map((f) => f.slice(sub.length + 1)));
    // What remains is the end of the recording, unbroken.
    const seen: number[] = [];
    for (const f of left) seen.push(...conns(readFileSync(join(sub, f), 'utf8')));
    expect(seen.at(-1)).toBe(399);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => 400 - seen.length + i));
    expect(warnings).toEqual([]);
  });

  it('--keep-for: closed files are deleted once they are older than the bound', async () => {
    const sub = mkdtempSync(join(dir, 'keepfor-'));
    let now = 1_000_000;
    const w = await RotatingTraceWriter.create(join(sub, 'trace.jsonl'), header, 2048, {
      keepForMs: 60_000,
      now: () => now,
    });
    await writeAll(w, 0, 100); // a few files, closed "now"
    const early = w.files.length - 1;
    expect(early).toBeGreaterThan(1);
    now += 61_000; // a minute later: those are expired at the next rotation
    await writeAll(w, 100, 200);
    await w.close();
    const left = readdirSync(sub).sort();
    const all = w.files.map((f) => f.slice(sub.length + 1));
    // The early files are gone; every file closed within the minute, and the current one, remain.
    expect(left).toEqual(all.slice(early));
  });

  it('--gzip: every rotated file becomes FILE.gz (mode 0600, a valid trace once unpacked); the last stays plain', async () => {
    const sub = mkdtempSync(join(dir, 'gzip-'));
    const w = await RotatingTraceWriter.create(join(sub, 'trace.jsonl'), header, 2048, { gzip: true });
    await writeAll(w, 0, 150);
    await w.close();
    const names = w.files.map((f) => f.slice(sub.length + 1));
    expect(names.length).toBeGreaterThan(2);
    const left = readdirSync(sub).sort();
    expect(left).toEqual([...names.slice(0, -1).map((n) => `${n}.gz`), names.at(-1)].sort());
    const seen: number[] = [];
    for (const n of names.slice(0, -1)) {
      const file = join(sub, `${n}.gz`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const text = gunzipSync(readFileSync(file)).toString('utf8');
      expect(JSON.parse(text.split('\n')[0] as string)).toEqual(header);
      seen.push(...conns(text));
    }
    seen.push(...conns(readFileSync(join(sub, names.at(-1) as string), 'utf8')));
    expect(seen).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });

  it('--gzip with --keep: retention counts the compressed files', async () => {
    const sub = mkdtempSync(join(dir, 'gzkeep-'));
    const w = await RotatingTraceWriter.create(join(sub, 'trace.jsonl'), header, 2048, { gzip: true, keep: 2 });
    await writeAll(w, 0, 300);
    await w.close();
    const names = w.files.map((f) => f.slice(sub.length + 1));
    expect(readdirSync(sub).sort()).toEqual([`${names.at(-2)}.gz`, names.at(-1)]);
  });

  it('refuses a retention no writer could use', async () => {
    await expect(RotatingTraceWriter.create(join(dir, 'x.jsonl'), header, 2048, { keep: 0 })).rejects.toThrow(
      /keep must be a whole number ≥ 1/,
    );
    await expect(RotatingTraceWriter.create(join(dir, 'x.jsonl'), header, 2048, { keepForMs: 0 })).rejects.toThrow(
      /keepForMs must be above 0/,
    );
  });
});

describe('RotatingTraceWriter.reopen (SIGHUP)', () => {
  it('rotated: starts the next numbered file at once', async () => {
    const sub = mkdtempSync(join(dir, 'hup-rot-'));
    const w = await RotatingTraceWriter.create(join(sub, 'trace.jsonl'), header, 1024 ** 3);
    await writeAll(w, 0, 5);
    await w.reopen();
    await writeAll(w, 5, 8);
    await w.close();
    expect(readdirSync(sub).sort()).toEqual(['trace.0001.jsonl', 'trace.0002.jsonl']);
    expect(conns(readFileSync(join(sub, 'trace.0001.jsonl'), 'utf8'))).toEqual([0, 1, 2, 3, 4]);
    expect(conns(readFileSync(join(sub, 'trace.0002.jsonl'), 'utf8'))).toEqual([5, 6, 7]);
    expect(w.written).toBe(8);
  });

  it('one file: after logrotate renamed it, reopen() creates it again, header first; nothing lost or doubled', async () => {
    const sub = mkdtempSync(join(dir, 'hup-one-'));
    const path = join(sub, 'trace.jsonl');
    const w = await RotatingTraceWriter.reopening(path, header);
    await writeAll(w, 0, 10);
    renameSync(path, `${path}.1`); // logrotate
    // Events written while the reopen is under way wait for the new file, in order.
    const reopened = w.reopen();
    for (let i = 10; i < 15; i++) void w.write(cping(i));
    await reopened;
    await writeAll(w, 15, 20);
    await w.close();
    expect(readdirSync(sub).sort()).toEqual(['trace.jsonl', 'trace.jsonl.1']);
    expect(conns(readFileSync(`${path}.1`, 'utf8'))).toEqual(Array.from({ length: 10 }, (_, i) => i));
    const now = await readTrace(path);
    expect(now.header).toEqual(header);
    expect(now.events.map((e) => (e as { conn: number }).conn)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(w.files).toEqual([path]);
    expect(w.written).toBe(20);
  });

  it('a reopen that cannot create the file fails the output (reported once), it does not throw at the caller of write', async () => {
    const sub = mkdtempSync(join(dir, 'hup-fail-'));
    const path = join(sub, 'trace.jsonl');
    const w = await RotatingTraceWriter.reopening(path, header);
    const failures: Error[] = [];
    w.onFailure((e) => failures.push(e));
    await writeAll(w, 0, 3);
    rmSync(sub, { recursive: true }); // the directory went away
    await expect(w.reopen()).rejects.toThrow(/cannot write/);
    expect(failures).toHaveLength(1);
    expect(() => w.write(cping(3))).toThrow(/cannot write/);
  });
});

/**
 * mergeTraces() on two taps' traces (the lab capture imported as the tomcat1 ports and the tomcat2
 * ports apart): everything kept, in completion order, connection and exchange identities distinct and
 * mapped back, labels, clock offsets, and the header's account of the inputs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { mergeTraces, TraceFormatError, type ExchangeEvent, type TraceEvent } from '../../../src/index.js';
import { importToEvents } from '../../fixtures/import-trace.js';
import { testTraceHeader } from '../../fixtures/trace-header.js';
import {
  readTraceFile,
  syntheticExchange,
  tempPath,
  toTempTrace,
  writeTraceFile,
  type TraceContent,
} from '../../fixtures/trace-files.js';

const root = join(import.meta.dirname, '../../..');
const capture = join(root, 'captures/lab-mixed.pcap');
const schema = JSON.parse(readFileSync(join(root, 'docs/trace-format.schema.json'), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).addSchema(schema);
const validateHeader = ajv.compile({ $ref: `${schema.$id}#/$defs/header` });
const validateEvent = ajv.compile({ $ref: `${schema.$id}#/$defs/event` });

let a: TraceContent;
let b: TraceContent;
let fileA: string;
let fileB: string;

beforeAll(async () => {
  const ta = await importToEvents(capture, [28009, 28109]);
  const tb = await importToEvents(capture, [29009, 29109]);
  a = { header: ta.header, events: ta.events };
  b = { header: tb.header, events: tb.events };
  fileA = await writeTraceFile(a.header, a.events, 'tap1.trace.jsonl');
  fileB = await writeTraceFile(b.header, b.events, 'tap2.jsonl');
});

const exchanges = (events: TraceEvent[]): ExchangeEvent[] =>
  events.filter((e): e is ExchangeEvent => e.event === 'exchange');
const endOf = (e: TraceEvent): number => (e.event === 'exchange' ? e.t + e.timing.endUs : e.t);

describe('mergeTraces', () => {
  it('keeps every event of both taps, in completion order, with distinct connections and ids that map back', async () => {
    expect(exchanges(a.events).length).toBeGreaterThan(0);
    expect(exchanges(b.events).length).toBeGreaterThan(0);
    const out = toTempTrace();
    const summary = await mergeTraces([{ file: fileA }, { file: fileB }], out.open, { tool: 't' });
    const m = await readTraceFile(out.path);
    expect(m.events.length).toBe(a.events.length + b.events.length);
    expect(summary.exchangesOut).toBe(exchanges(a.events).length + exchanges(b.events).length);
    for (let i = 1; i < m.events.length; i++)
      expect(endOf(m.events[i]!)).toBeGreaterThanOrEqual(endOf(m.events[i - 1]!));
    const xs = exchanges(m.events);
    expect(new Set(xs.map((e) => e.id)).size).toBe(xs.length);
    // Input i of k: n became (n - 1) * k + i; so it maps back to the input's own exchange.
    for (const e of xs) {
      const input = ((e.id - 1) % 2) + 1;
      const own = Math.floor((e.id - 1) / 2) + 1;
      const src = exchanges((input === 1 ? a : b).events).find((x) => x.id === own)!;
      expect(src.request.uri).toBe(e.request.uri);
      expect(((e.conn - 1) % 2) + 1).toBe(input);
      expect(Math.floor((e.conn - 1) / 2) + 1).toBe(src.conn);
      expect(e.worker).toBe(input === 1 ? 'tap1' : 'tap2');
    }
    const connsA = new Set(exchanges(a.events).map((e) => e.conn));
    const connsB = new Set(exchanges(b.events).map((e) => e.conn));
    expect([...connsA].some((c) => connsB.has(c))).toBe(true); // the inputs' numbers collide ...
    expect(new Set(xs.map((e) => e.conn)).size).toBe(connsA.size + connsB.size); // ... the merge's do not
  });

  it('moves an input by its clock offset and starts at the earliest start; the header lists the inputs', async () => {
    const out = toTempTrace();
    await mergeTraces(
      [
        { file: fileA, label: 'tomcat1' },
        { file: fileB, offsetUs: -2_000_000, label: 'tomcat2' },
      ],
      out.open,
      { tool: 't' },
    );
    const m = await readTraceFile(out.path);
    expect(m.header.startTimeUs).toBe(Math.min(a.header.startTimeUs, b.header.startTimeUs - 2_000_000));
    expect(m.header.minorVersion).toBe(2);
    expect(m.header.source).toMatchObject({
      kind: 'merge',
      ids: 'interleaved',
      inputs: [
        { file: fileA, index: 1, offsetUs: 0, label: 'tomcat1', startTimeUs: a.header.startTimeUs },
        { file: fileB, index: 2, offsetUs: -2_000_000, label: 'tomcat2', startTimeUs: b.header.startTimeUs },
      ],
    });
    // Wall-clock time of each event: its input's, moved by the offset.
    const wall = (e: ExchangeEvent): number => m.header.startTimeUs + e.t;
    const firstB = exchanges(b.events)[0]!;
    const mergedB = exchanges(m.events).find((e) => e.id === (firstB.id - 1) * 2 + 2)!;
    expect(wall(mergedB)).toBe(b.header.startTimeUs + firstB.t - 2_000_000);
    expect(
      exchanges(m.events)
        .slice(0, 5)
        .every((e) => e.worker === 'tomcat2'),
    ).toBe(true); // 2 s earlier now
    expect(validateHeader(m.header), JSON.stringify(validateHeader.errors)).toBe(true);
    for (const e of m.events) expect(validateEvent(e), JSON.stringify(validateEvent.errors)).toBe(true);
  });

  it('keeps worker labels already there; the same file name twice gets labels kept apart', async () => {
    const x = await writeTraceFile(testTraceHeader(), [
      syntheticExchange({ id: 1, conn: 1, t: 0, worker: 'w1' }),
      syntheticExchange({ id: 2, conn: 1, t: 5 }),
    ]);
    const y = await writeTraceFile(testTraceHeader(), [syntheticExchange({ id: 1, conn: 1, t: 3 })]);
    const out = toTempTrace();
    const s = await mergeTraces([{ file: x }, { file: y }], out.open, { tool: 't' });
    expect(s.inputs.map((i) => i.label)).toEqual(['in-1', 'in-2']);
    const m = await readTraceFile(out.path);
    expect(exchanges(m.events).map((e) => [e.id, e.worker])).toEqual([
      [1, 'w1'],
      [2, 'in-2'],
      [3, 'in-1'],
    ]);
  });

  it('skips and counts an event whose connection is not a number (it could not be renumbered)', async () => {
    const x = await writeTraceFile(testTraceHeader(), [
      { event: 'cping', conn: 'two' as unknown as number, t: 1, rttUs: 5 },
      syntheticExchange({ id: 1, conn: 1, t: 2 }),
    ]);
    const out = toTempTrace();
    const malformed: string[] = [];
    const s = await mergeTraces([{ file: x }, { file: fileB }], out.open, {
      tool: 't',
      onMalformed: (_f, what) => malformed.push(what),
    });
    expect(s.inputs[0]).toMatchObject({ eventsIn: 2, malformed: 1 });
    expect(malformed).toEqual(['cping event (no id): conn is a string, not a whole number ≥ 0']);
    expect(s.eventsOut).toBe(1 + b.events.length);
  });

  it('takes an input start from startTime when its header has no startTimeUs', async () => {
    const old = testTraceHeader({ startTime: '2026-11-23T00:00:01.000Z' });
    delete (old as Partial<typeof old>).startTimeUs;
    const x = await writeTraceFile(old, [syntheticExchange({ id: 1, conn: 1, t: 0 })]);
    const y = await writeTraceFile(testTraceHeader(), [syntheticExchange({ id: 1, conn: 1, t: 0 })]);
    const out = toTempTrace();
    await mergeTraces([{ file: x }, { file: y }], out.open, { tool: 't' });
    const m = await readTraceFile(out.path);
    expect(m.header.startTimeUs).toBe(testTraceHeader().startTimeUs);
    expect(exchanges(m.events).map((e) => e.t)).toEqual([0, 1_000_000]);
  });

  it('a missing input rejects with its system error, wherever it is in the list', async () => {
    const nope = join(root, 'no-such-trace.jsonl');
    for (const files of [
      [fileA, nope],
      [nope, fileA],
    ]) {
      const err = await mergeTraces(
        files.map((file) => ({ file })),
        toTempTrace().open,
        { tool: 't' },
      ).catch((e: unknown) => e);
      expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    }
  });

  it('says which input is not a trace', async () => {
    const bad = tempPath('notes.jsonl');
    writeFileSync(bad, 'hello\n');
    const err = await mergeTraces([{ file: fileA }, { file: bad }], toTempTrace().open, { tool: 't' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TraceFormatError);
    expect((err as Error).message).toContain(bad);
  });
});

/**
 * filterTrace() on the lab capture (imported without redaction, with bodies) and on traces made by
 * hand: each selector, sampling (sessions kept whole, the share within a stated tolerance, the same
 * keys for the same seed), each transform, ids and time, the derived header, and damaged input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { summarizeTrace } from '../../../src/report/trace-summary.js';
import {
  filterTrace,
  REDACTED,
  sessionOfEvent,
  type ExchangeEvent,
  type FilterSpec,
  type TraceEvent,
} from '../../../src/index.js';
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
const schema = JSON.parse(readFileSync(join(root, 'docs/trace-format.schema.json'), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).addSchema(schema);
const validateHeader = ajv.compile({ $ref: `${schema.$id}#/$defs/header` });
const validateEvent = ajv.compile({ $ref: `${schema.$id}#/$defs/event` });

let lab: TraceContent;
let labFile: string;
let redactedFile: string;

beforeAll(async () => {
  const ports = [28009, 29009, 28109, 29109];
  const raw = await importToEvents(join(root, 'captures/lab-mixed.pcap'), ports, { redact: false, bodies: 'all' });
  lab = { header: raw.header, events: raw.events };
  labFile = await writeTraceFile(raw.header, raw.events, 'lab.jsonl');
  redactedFile = join(root, 'captures/lab-mixed.trace.jsonl');
});

async function filter(
  spec: FilterSpec,
  input = labFile,
): Promise<TraceContent & { summary: Awaited<ReturnType<typeof filterTrace>> }> {
  const out = toTempTrace();
  const summary = await filterTrace(input, out.open, { spec, inputName: input, tool: 'ajpbench test' });
  return { ...(await readTraceFile(out.path)), summary };
}

const exchanges = (events: TraceEvent[]): ExchangeEvent[] =>
  events.filter((e): e is ExchangeEvent => e.event === 'exchange');
const labExchanges = (): ExchangeEvent[] => exchanges(lab.events);
const ids = (events: TraceEvent[]): number[] => exchanges(events).map((e) => e.id);

describe('filterTrace: selectors on the lab capture', () => {
  it('with nothing asked, passes every event through unchanged', async () => {
    const { events, header: h } = await filter({});
    expect(events).toEqual(lab.events);
    expect(h.startTimeUs).toBe(lab.header.startTimeUs);
    expect(h.derivedBy).toEqual([{ kind: 'filter', input: labFile, tool: 'ajpbench test', options: {}, ids: 'kept' }]);
  });

  it('--uri glob keeps the matching paths only and drops connection and CPing events', async () => {
    const { events, summary } = await filter({ uri: ['/app/st*.jsp'] });
    const want = labExchanges().filter((e) => /^\/app\/st[^/]*\.jsp$/.test(e.request.uri ?? ''));
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(labExchanges().length);
    expect(ids(events)).toEqual(want.map((e) => e.id));
    expect(events.every((e) => e.event === 'exchange')).toBe(true);
    expect(summary).toMatchObject({ exchangesIn: 44, exchangesOut: want.length, eventsIn: lab.events.length });
  });

  it('--uri-regex and --not-uri', async () => {
    const re = await filter({ uriRegex: ['status'] });
    const want = labExchanges().filter((e) => (e.request.uri ?? '').includes('status'));
    expect(want.length).toBeGreaterThan(0);
    expect(ids(re.events)).toEqual(want.map((e) => e.id));
    const not = await filter({ notUri: ['/app/echo.jsp'] });
    expect(exchanges(not.events).some((e) => e.request.uri === '/app/echo.jsp')).toBe(false);
    expect(exchanges(not.events).length).toBe(labExchanges().filter((e) => e.request.uri !== '/app/echo.jsp').length);
  });

  it('--method, --status (codes and classes) and --has-header', async () => {
    const post = await filter({ method: ['post'] });
    expect(exchanges(post.events).length).toBe(12);
    expect(exchanges(post.events).every((e) => e.request.method === 'POST')).toBe(true);
    const st = await filter({ status: ['3xx', '204'] });
    const want = labExchanges().filter((e) => e.response.status === 204 || Math.floor(e.response.status / 100) === 3);
    expect(want.length).toBeGreaterThan(0);
    expect(ids(st.events)).toEqual(want.map((e) => e.id));
    const auth = await filter({ hasHeader: ['Authorization'] });
    const withAuth = labExchanges().filter((e) => e.request.headers.some(([n]) => n.toLowerCase() === 'authorization'));
    expect(withAuth.length).toBeGreaterThan(0);
    expect(ids(auth.events)).toEqual(withAuth.map((e) => e.id));
  });

  it('--conn keeps every event of those connections (connection, CPing and exchange events)', async () => {
    const conn = labExchanges()[0]!.conn;
    const { events } = await filter({ conn: [conn] });
    expect(events.length).toBe(lab.events.filter((e) => 'conn' in e && e.conn === conn).length);
    expect(new Set(events.map((e) => e.event))).toEqual(new Set(['connection', 'cping', 'exchange']));
  });

  it('--min-latency and --max-latency judge the time to End Response', async () => {
    const ends = labExchanges()
      .map((e) => e.timing.endUs)
      .sort((a, b) => a - b);
    const median = ends[Math.floor(ends.length / 2)]!;
    const slow = await filter({ minLatencyUs: median });
    expect(exchanges(slow.events).length).toBe(ends.filter((u) => u >= median).length);
    const fast = await filter({ maxLatencyUs: median - 1 });
    expect(exchanges(fast.events).length).toBe(ends.filter((u) => u < median).length);
  });

  it('--head stops after N exchanges and says so', async () => {
    const { events, summary } = await filter({ head: 5, method: ['GET'] });
    expect(exchanges(events).length).toBe(5);
    expect(summary.stoppedAtHead).toBe(true);
    expect(summary.eventsIn).toBeLessThan(lab.events.length);
  });

  it('--from/--to (offset) cut the window; time zero moves to --from, wall-clock times do not change', async () => {
    const xs = labExchanges();
    const fromUs = xs[10]!.t;
    const toUs = xs[30]!.t;
    const { header: h, events } = await filter({ from: { offsetUs: fromUs }, to: { offsetUs: toUs } });
    const want = lab.events.filter((e) => e.t >= fromUs && e.t < toUs);
    expect(events.length).toBe(want.length);
    expect(h.startTimeUs).toBe(lab.header.startTimeUs + fromUs);
    expect(events.map((e) => h.startTimeUs + e.t)).toEqual(want.map((e) => lab.header.startTimeUs + e.t));
    expect(Math.min(...events.map((e) => e.t))).toBeGreaterThanOrEqual(0);
  });

  it('--from as an ISO time is the same instant as its offset', async () => {
    const fromUs = labExchanges()[20]!.t;
    const iso = new Date(Math.ceil((lab.header.startTimeUs + fromUs) / 1000)).toISOString();
    const offsetUs = Math.ceil((lab.header.startTimeUs + fromUs) / 1000) * 1000 - lab.header.startTimeUs;
    const a = await filter({ from: { at: iso } });
    const b = await filter({ from: { offsetUs } });
    expect(ids(a.events)).toEqual(ids(b.events));
    expect(a.header.startTimeUs).toBe(b.header.startTimeUs);
  });

  it('--uri globs ignore ;jsessionid= path parameters, --uri-regex sees them', async () => {
    const file = await writeTraceFile(testTraceHeader(), [
      syntheticExchange({ id: 1, conn: 1, t: 0, uri: '/app/cart.jsp;jsessionid=ABC.tomcat1' }),
      syntheticExchange({ id: 2, conn: 1, t: 10, uri: '/app/cart.jsp' }),
      syntheticExchange({ id: 3, conn: 1, t: 20, uri: '/app;x=1/other.jsp' }),
    ]);
    expect(ids((await filter({ uri: ['/app/*.jsp'] }, file)).events)).toEqual([1, 2, 3]);
    expect(ids((await filter({ notUri: ['/app/cart.jsp'] }, file)).events)).toEqual([3]);
    expect(ids((await filter({ uriRegex: [';jsessionid='] }, file)).events)).toEqual([1]);
  });

  it('--worker keeps the events of those tap workers', async () => {
    const events = [
      syntheticExchange({ id: 1, conn: 1, t: 0, worker: 'tomcat1' }),
      syntheticExchange({ id: 2, conn: 2, t: 10, worker: 'tomcat2' }),
      syntheticExchange({ id: 3, conn: 3, t: 20 }),
    ];
    const file = await writeTraceFile(testTraceHeader(), events);
    expect(ids((await filter({ worker: ['tomcat2'] }, file)).events)).toEqual([2]);
  });
});

describe('filterTrace: sampling', () => {
  it('by session keeps each lab session whole (its Set-Cookie exchange and those that send the cookie)', async () => {
    const sessions = new Map<string, number[]>();
    for (const e of labExchanges()) {
      const s = sessionOfEvent(e);
      if (s !== null) sessions.set(s, [...(sessions.get(s) ?? []), e.id]);
    }
    expect(sessions.size).toBe(4);
    expect([...sessions.values()].every((v) => v.length === 2)).toBe(true);
    let keptSome = 0;
    for (const seed of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const kept = new Set(ids((await filter({ sample: { share: 0.5, by: 'session', seed } })).events));
      for (const members of sessions.values()) {
        const inside = members.filter((id) => kept.has(id)).length;
        expect([0, members.length]).toContain(inside);
        if (inside > 0) keptSome++;
      }
    }
    expect(keptSome).toBeGreaterThan(0);
    expect(keptSome).toBeLessThan(6 * 4);
  });

  it('by session hits the requested share of 2,000 sessions within ±2.5 points, whole, and the same for the same seed', async () => {
    const events: ExchangeEvent[] = [];
    let id = 1;
    for (let s = 0; s < 2000; s++) {
      const n = 1 + (s % 5);
      // The first exchange gets the session (Set-Cookie), the next ones send it, after a failover on another route.
      events.push(
        syntheticExchange({ id: id++, conn: 1 + (s % 7), t: id * 10, setCookie: `JSESSIONID=S${s}.tomcat1; Path=/` }),
      );
      for (let k = 1; k < n; k++)
        events.push(
          syntheticExchange({
            id: id++,
            conn: 1 + (k % 7),
            t: id * 10,
            cookie: `JSESSIONID=S${s}.tomcat${1 + (k % 2)}`,
          }),
        );
    }
    const file = await writeTraceFile(
      testTraceHeader({ options: { redact: false, bodies: 'none', maxBody: 0 } }),
      events,
    );
    const run = async (seed: string): Promise<Map<string, number>> => {
      const kept = new Map<string, number>();
      for (const e of exchanges((await filter({ sample: { share: 0.1, by: 'session', seed } }, file)).events)) {
        const s = sessionOfEvent(e)!;
        kept.set(s, (kept.get(s) ?? 0) + 1);
      }
      return kept;
    };
    const kept = await run('demo');
    expect(kept.size / 2000).toBeGreaterThan(0.075);
    expect(kept.size / 2000).toBeLessThan(0.125);
    for (const [s, n] of kept) expect(n).toBe(1 + (Number(s.slice(1)) % 5)); // whole
    expect([...(await run('demo')).keys()]).toEqual([...kept.keys()]);
    expect([...(await run('other')).keys()]).not.toEqual([...kept.keys()]);
  });

  it('a larger share with the same seed keeps everything a smaller one kept', async () => {
    const small = new Set(ids((await filter({ sample: { share: 0.2, by: 'exchange', seed: 's' } })).events));
    const large = new Set(ids((await filter({ sample: { share: 0.6, by: 'exchange', seed: 's' } })).events));
    expect(small.size).toBeGreaterThan(0);
    expect(large.size).toBeGreaterThan(small.size);
    for (const id of small) expect(large.has(id)).toBe(true);
  });

  it('by connection keeps whole connections, with their connection and CPing events', async () => {
    const { events } = await filter({ sample: { share: 0.5, by: 'connection', seed: 'x' } });
    const conns = new Set(events.map((e) => ('conn' in e ? e.conn : undefined)));
    for (const c of conns) {
      const all = lab.events.filter((e) => 'conn' in e && e.conn === c).length;
      expect(events.filter((e) => 'conn' in e && e.conn === c).length).toBe(all);
    }
    expect(conns.size).toBeGreaterThan(0);
    expect(conns.size).toBeLessThan(17);
  });

  it('by exchange keeps a share of single exchanges', async () => {
    const { events } = await filter({ sample: { share: 0.5, by: 'exchange', seed: 'x' } });
    expect(exchanges(events).length).toBeGreaterThan(10);
    expect(exchanges(events).length).toBeLessThan(34);
  });

  it('refuses to sample a redacted trace by session: every session id reads REDACTED', async () => {
    await expect(filter({ sample: { share: 0.1, by: 'session', seed: '' } }, redactedFile)).rejects.toThrow(UsageError);
  });
});

describe('filterTrace: transforms', () => {
  it('--set-header replaces every header of that name in place, or appends it', async () => {
    const { events } = await filter({
      setHeader: [
        ['Host', 'staging.test'],
        ['X-Replay', 'yes'],
      ],
    });
    for (const e of exchanges(events)) {
      const hosts = e.request.headers.filter(([n]) => n.toLowerCase() === 'host');
      expect(hosts).toEqual([['host', 'staging.test']]);
      expect(e.request.headers.at(-1)).toEqual(['X-Replay', 'yes']);
      const original = labExchanges().find((x) => x.id === e.id)!;
      expect(e.request.headers.findIndex(([n]) => n === 'host')).toBe(
        original.request.headers.findIndex(([n]) => n === 'host'),
      );
    }
  });

  it('--drop-header and --redact-header act on requests and responses', async () => {
    const { events } = await filter({ dropHeader: ['x-served-by', 'Accept-Language'], redactHeader: ['Content-Type'] });
    for (const e of exchanges(events)) {
      for (const [n, v] of [...e.request.headers, ...e.response.headers]) {
        expect(['x-served-by', 'accept-language']).not.toContain(n.toLowerCase());
        if (n.toLowerCase() === 'content-type') expect(v).toBe(REDACTED);
      }
    }
    expect(exchanges(events).some((e) => e.response.headers.some(([n]) => n === 'Content-Type'))).toBe(true);
  });

  it('--rewrite-uri rewrites paths sed style, with groups', async () => {
    const { events } = await filter({ rewriteUri: ['s#^/app/(.*)\\.jsp$#/v2/\\1#'] });
    const xs = exchanges(events);
    expect(xs.some((e) => e.request.uri === '/v2/echo')).toBe(true);
    expect(xs.some((e) => (e.request.uri ?? '').startsWith('/app/') && (e.request.uri ?? '').endsWith('.jsp'))).toBe(
      false,
    );
  });

  it('--redact-query masks the value of that parameter only', async () => {
    const { events } = await filter({ redactQuery: ['b'], uri: ['/app/echo.jsp'] });
    const withQuery = exchanges(events).find((e) => e.request.query?.startsWith('a=1') === true);
    expect(withQuery?.request.query).toBe(`a=1&b=${REDACTED}`);
  });

  it('--drop-bodies removes body bytes, keeps lengths and hashes, and says bodies none in the header', async () => {
    const { header: h, events } = await filter({ dropBodies: true });
    expect(h.options.bodies).toBe('none');
    const xs = exchanges(events);
    expect(xs.every((e) => e.request.body.data === undefined && e.response.body.data === undefined)).toBe(true);
    expect(xs.map((e) => e.request.body.sha256)).toEqual(labExchanges().map((e) => e.request.body.sha256));
    expect(xs.some((e) => e.request.body.length > 0)).toBe(true);
  });

  it('a changed Cookie changes the route found', async () => {
    const { events } = await filter({ setHeader: [['Cookie', 'JSESSIONID=abc.tomcat9']], method: ['GET'] });
    expect(exchanges(events).every((e) => e.route === 'tomcat9' || e.routeSource === 'set-cookie')).toBe(true);
  });
});

describe('filterTrace: ids, time and the derived header', () => {
  it('keeps ids by default and renumbers 1..N with --renumber, and the header says which', async () => {
    const kept = await filter({ method: ['POST'] });
    expect(ids(kept.events)).toEqual(
      labExchanges()
        .filter((e) => e.request.method === 'POST')
        .map((e) => e.id),
    );
    expect(kept.header.derivedBy?.at(-1)?.ids).toBe('kept');
    const renumbered = await filter({ method: ['POST'], renumber: true });
    expect(ids(renumbered.events)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(renumbered.header.derivedBy?.at(-1)?.ids).toBe('renumbered');
  });

  it('--shift-time moves the wall clock only, by an amount or to an instant', async () => {
    const by = await filter({ shiftTime: { byUs: -3_600_000_000 } });
    expect(by.header.startTimeUs).toBe(lab.header.startTimeUs - 3_600_000_000);
    expect(by.events.map((e) => e.t)).toEqual(lab.events.map((e) => e.t));
    const to = await filter({ shiftTime: { to: '2030-01-01T00:00:00Z' } });
    expect(to.header.startTime).toBe('2030-01-01T00:00:00.000Z');
    expect(to.header.startTimeUs).toBe(Date.parse('2030-01-01T00:00:00Z') * 1000);
  });

  it('records the filter in the header after the input history; output validates against the trace schema', async () => {
    const first = await filter({ method: ['GET'], redactQuery: ['a'] });
    const again = toTempTrace();
    const firstPath = await writeTraceFile(first.header, first.events, 'first.jsonl');
    await filterTrace(firstPath, again.open, { spec: { head: 3 }, inputName: 'first.jsonl', tool: 't2' });
    const out = await readTraceFile(again.path);
    expect(out.header.minorVersion).toBe(2);
    expect(out.header.derivedBy?.map((d) => d.options)).toEqual([{ method: ['GET'], redactQuery: ['a'] }, { head: 3 }]);
    expect(out.header.derivedBy?.map((d) => d.input)).toEqual([labFile, 'first.jsonl']);
    expect(validateHeader(out.header), JSON.stringify(validateHeader.errors)).toBe(true);
    for (const e of [...first.events, ...out.events])
      expect(validateEvent(e), JSON.stringify(validateEvent.errors)).toBe(true);
  });

  it('inspect reads the output', async () => {
    const out = toTempTrace();
    await filterTrace(labFile, out.open, { spec: { status: ['2xx'] }, inputName: 'lab', tool: 't' });
    const s = await summarizeTrace(out.path);
    expect(s.exchanges).toBe(labExchanges().filter((e) => e.response.status < 300).length);
    expect(s.malformedEvents).toBe(0);
  });

  it('says a bad pattern or time before it opens the input or the output', async () => {
    const out = toTempTrace();
    let opened = false;
    const open = (h: Parameters<typeof out.open>[0]): ReturnType<typeof out.open> => {
      opened = true;
      return out.open(h);
    };
    const nowhere = join(root, 'no-such-trace.jsonl');
    for (const spec of [{ uriRegex: ['('] }, { rewriteUri: ['s#a#b'] }, { from: { at: 'soon' } }] as FilterSpec[])
      await expect(filterTrace(nowhere, open, { spec, inputName: 'x', tool: 't' })).rejects.toThrow(UsageError);
    expect(opened).toBe(false);
  });

  it('skips and counts unreadable lines and malformed events, and writes the rest', async () => {
    const good = await writeTraceFile(testTraceHeader(), [
      syntheticExchange({ id: 1, conn: 1, t: 0 }),
      syntheticExchange({ id: 2, conn: 1, t: 10 }),
    ]);
    const text = readFileSync(good, 'utf8').split('\n');
    const bad = { ...syntheticExchange({ id: 3, conn: 1, t: 5 }), request: { uri: 42 } };
    const damaged = [text[0], text[1], '{"event":"exchange", cut off', JSON.stringify(bad), text[2], ''].join('\n');
    const file = tempPath('damaged.jsonl');
    writeFileSync(file, damaged);
    const { events, summary } = await filter({}, file);
    expect(ids(events)).toEqual([1, 2]);
    expect(summary).toMatchObject({ unreadable: 1, malformed: 1, exchangesOut: 2 });
  });
});

/**
 * TapRecorder: several labelled taps into one trace; --max-exchanges and --duration; a trace
 * output that falls behind never slows the traffic; RotatingTraceWriter numbering and validity.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TapRecorder, type TapRecorderOptions } from '../../../src/capture/index.js';
import {
  eventOf,
  RotatingTraceWriter,
  rotatedPath,
  TraceWriter,
  type ExchangeEvent,
  type TraceEvent,
  type TraceHeader,
  type TraceOutput,
  type TraceRecord,
} from '../../../src/trace/index.js';
import { AjpTestClient } from '../../fixtures/ajp-test-client.js';
import { AjpTestContainer } from '../../fixtures/ajp-test-container.js';
import {
  closedPort,
  connectRaw,
  failingStream,
  LOOPBACK,
  readTrace,
  waitFor,
  withTimeout,
} from '../../fixtures/tap-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function containers(...routes: string[]): Promise<AjpTestContainer[]> {
  const cs = await Promise.all(routes.map((route) => AjpTestContainer.start({ route })));
  cleanups.push(() => Promise.all(cs.map((c) => c.close())));
  return cs;
}

async function record(
  cs: AjpTestContainer[],
  over: Partial<TapRecorderOptions> & { file?: string } = {},
): Promise<{ r: TapRecorder; file: string; ports: number[] }> {
  const file = over.file ?? join(dir, `t-${Math.random().toString(36).slice(2)}.jsonl`);
  const r = await TapRecorder.start({
    taps: cs.map((c, i) => ({
      listen: { host: LOOPBACK, port: 0 },
      upstream: { host: LOOPBACK, port: c.port },
      worker: `tomcat${i + 1}`,
    })),
    trace: { redact: true, bodies: 'request', maxBody: 1024 },
    tool: 'ajpbench test',
    openOutput: (h) => TraceWriter.create(file, h),
    drainMs: 2000,
    tracer: tracerMode,
    ...over,
  });
  cleanups.push(() => r.stop());
  return { r, file, ports: r.addresses().map((a) => a.port) };
}

const exchanges = (events: TraceEvent[]): ExchangeEvent[] =>
  events.filter((e): e is ExchangeEvent => e.event === 'exchange');

/** Timers holding the process now (a stopped recorder must leave none behind). */
const activeTimeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** Polls until nothing accepts on `port` any more. */
async function waitRefused(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const refused = await connectRaw(port).then(
      (s) => {
        s.destroy();
        return false;
      },
      () => true,
    );
    if (refused) return;
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An output that keeps every event in memory and counts its closes. */
function memoryOutput(): TraceOutput & { got: TraceEvent[]; closes: number } {
  const o = {
    got: [] as TraceEvent[],
    closes: 0,
    get events(): number {
      return o.got.length;
    },
    write(e: TraceRecord): undefined {
      o.got.push(eventOf(e));
      return undefined;
    },
    close(): Promise<void> {
      o.closes++;
      return Promise.resolve();
    },
  };
  return o;
}

/** Every recorder test runs with the tracer on its thread (the default) and inline (the mirror's case). */
const TRACERS = ['thread', 'inline'] as const;
let tracerMode: (typeof TRACERS)[number] = 'thread';

describe.each(TRACERS)('TapRecorder (%s tracer)', (tracer) => {
  beforeEach(() => {
    tracerMode = tracer;
  });

  it('records several taps into one trace, each exchange labelled with the worker that served it', async () => {
    const cs = await containers('tomcat1', 'tomcat2');
    const { r, file, ports } = await record(cs);
    expect(r.tracerMode).toBe(tracer); // the thread started (no fallback to inline)
    const served: string[] = [];
    for (let i = 0; i < 10; i++) {
      const client = await AjpTestClient.connect(ports[i % 3 === 0 ? 1 : 0] as number);
      await client.cping();
      const res = await client.request(`/app/n${i}?size=${100 + i}`);
      served.push(String(res.headers['x-served-by']));
      client.close();
    }
    const summary = await r.stop();
    expect(summary.stopReason).toBe('stop');
    expect(summary.exchangesByLabel).toEqual({ tomcat1: 6, tomcat2: 4 });
    expect(summary.connections).toBe(10);
    expect(summary.cpings).toBe(10);
    const { header, events } = await readTrace(file);
    expect(header.source).toEqual({
      kind: 'tap',
      taps: [
        { listen: `127.0.0.1:${ports[0]}`, upstream: `127.0.0.1:${cs[0]?.port}`, worker: 'tomcat1' },
        { listen: `127.0.0.1:${ports[1]}`, upstream: `127.0.0.1:${cs[1]?.port}`, worker: 'tomcat2' },
      ],
    });
    expect(header.startTimeUs).toBeGreaterThan(1.6e15);
    const x = exchanges(events).sort((a, b) => a.t - b.t);
    expect(x.map((e) => e.worker)).toEqual(served);
    expect(x.map((e) => e.response.body.length)).toEqual(served.map((_, i) => 100 + i));
    // Connection numbers and exchange ids are unique across taps.
    expect(new Set(x.map((e) => e.id)).size).toBe(10);
    expect(new Set(x.map((e) => e.conn)).size).toBe(10);
  });

  it('an observer sees every event as produced, and one that throws is said once and harms nothing', async () => {
    const cs = await containers('tomcat1');
    const seen: TraceEvent[] = [];
    const warnings: string[] = [];
    const { r, file, ports } = await record(cs, {
      maxExchanges: 2,
      observe: (e) => {
        seen.push(e);
        throw new Error('observer bug');
      },
      onWarning: (m) => warnings.push(m),
    });
    const client = await AjpTestClient.connect(ports[0] as number);
    for (let i = 0; i < 2; i++) await client.request(`/app/o${i}`);
    client.close();
    await r.finished;
    const { events } = await readTrace(file);
    expect(exchanges(events)).toHaveLength(2);
    expect(exchanges(seen)).toHaveLength(2);
    expect(seen.filter((e) => e.event === 'connection' && e.state === 'open')).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('observer failed'))).toHaveLength(1);
  });

  it('stops by itself after --max-exchanges, with exactly that many exchanges in the trace', async () => {
    const cs = await containers('tomcat1');
    const { r, file, ports } = await record(cs, { maxExchanges: 3 });
    const client = await AjpTestClient.connect(ports[0] as number);
    for (let i = 0; i < 3; i++) await client.request(`/app/m${i}`);
    const summary = await withTimeout(r.finished, 3000, 'stop after 3 exchanges');
    expect(summary.stopReason).toBe('max-exchanges');
    expect(summary.exchangesRecorded).toBe(3);
    expect(exchanges((await readTrace(file)).events).map((e) => e.request.uri)).toEqual([
      '/app/m0',
      '/app/m1',
      '/app/m2',
    ]);
  });

  it('stops by itself after --duration', async () => {
    const cs = await containers('tomcat1');
    const started = Date.now();
    const { r } = await record(cs, { durationMs: 300 });
    const summary = await withTimeout(r.finished, 3000, 'stop after 300 ms');
    expect(summary.stopReason).toBe('duration');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('never slows the traffic for a trace output that is stuck: events queue up to a bound, the rest are dropped and reported', async () => {
    const cs = await containers('tomcat1');
    let release: (() => void) | undefined;
    const written: TraceEvent[] = [];
    const stuck: TraceOutput = {
      events: 0,
      write(e) {
        written.push(eventOf(e));
        // The first event fills the output; it drains only when the test says so.
        if (release !== undefined || written.length > 1) return undefined;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      close: () => Promise.resolve(),
    };
    const warnings: string[] = [];
    const { r, ports } = await record(cs, {
      openOutput: async () => stuck,
      maxQueuedEvents: 5,
      onWarning: (m) => warnings.push(m),
    });
    const client = await AjpTestClient.connect(ports[0] as number);
    for (let i = 0; i < 20; i++) expect((await client.request(`/app/q${i}`)).status).toBe(200);
    client.close();
    // Every event is in: 20 exchanges, the connection's open and close = the one written + 5 queued + the dropped.
    await waitFor(
      () => release !== undefined && r.progress.open === 0 && 1 + 5 + r.dropCounts.eventsDropped === 22,
      2000,
      'connection closed and traced',
    );
    release?.();
    const summary = await r.stop();
    expect(summary.exchanges).toBe(20);
    expect(summary.eventsDropped).toBeGreaterThan(0);
    const dropped = written.filter((e) => e.event === 'dropped');
    expect(dropped).toHaveLength(1);
    const d = dropped[0] as Extract<TraceEvent, { event: 'dropped' }>;
    expect(d.code).toBe('TAP_ERR_TRACE_BEHIND');
    expect(d.events).toBe(summary.eventsDropped);
    expect(d.exchanges).toBe(summary.exchangesDropped);
    expect(d.from).toBeLessThanOrEqual(d.to);
    // Every exchange was forwarded: either it is in the trace or the dropped event counts it.
    const inTrace = written.filter((e) => e.event === 'exchange').length;
    expect(inTrace + d.exchanges).toBe(20);
    expect(warnings.some((w) => /fell behind: \d+ exchange\(s\), \d+ event\(s\) dropped between/.test(w))).toBe(true);
    // 1 (the event that filled the output) + 5 queued + the dropped event.
    expect(written).toHaveLength(7);
  });

  it('a slow disk (every write takes 50 ms): exchanges keep being answered, trace work past the bound is dropped, counted and told', async () => {
    const cs = await containers('tomcat1');
    const file: string[] = [];
    let diskWrites = 0;
    const slowDisk = new Writable({
      highWaterMark: 256,
      write: (c: Buffer, _e, cb) =>
        void setTimeout(() => {
          diskWrites++;
          file.push(c.toString());
          cb();
        }, 50),
    });
    const { r, ports } = await record(cs, {
      openOutput: (h) => TraceWriter.toStream(slowDisk, h),
      maxQueuedEvents: 10,
      flushTimeoutMs: 10_000,
    });
    const client = await AjpTestClient.connect(ports[0] as number);
    const N = 200;
    for (let i = 0; i < N; i++) expect((await client.request(`/app/s${i}`)).status).toBe(200);
    // Forwarding did not wait for the disk: every exchange was answered while only a few of the
    // 600 events (open, 200 exchanges, ...) could have reached it.
    expect(diskWrites).toBeLessThan(N / 4);
    client.close();
    await waitFor(() => r.progress.open === 0, 2000, 'connection closed');
    const summary = await r.stop();
    expect(summary.exchanges).toBe(N);
    expect(summary.exchangesDropped).toBeGreaterThan(0);
    const events = file
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .slice(1)
      .map((l) => JSON.parse(l) as TraceEvent);
    const dropped = events.filter((e): e is Extract<TraceEvent, { event: 'dropped' }> => e.event === 'dropped');
    expect(dropped.length).toBeGreaterThan(0);
    // The schema in docs/ describes it.
    const schema = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../../docs/trace-format.schema.json'), 'utf8'),
    ) as {
      $id: string;
    };
    const validate = new Ajv2020({ strict: false }).addSchema(schema).compile({ $ref: `${schema.$id}#/$defs/event` });
    for (const e of dropped) expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
    expect(dropped.reduce((n, e) => n + e.exchanges, 0)).toBe(summary.exchangesDropped);
    expect(dropped.reduce((n, e) => n + e.events, 0)).toBe(summary.eventsDropped);
    expect(events.filter((e) => e.event === 'exchange').length + summary.exchangesDropped).toBe(N);
  });

  it('keeps forwarding and accepting when the trace output fails (a full disk): says so once, counts what was written and what was lost', async () => {
    const cs = await containers('tomcat1');
    const disk = failingStream(3000, 'ENOSPC');
    const warnings: string[] = [];
    const { r, ports } = await record(cs, {
      openOutput: (h) => TraceWriter.toStream(disk.stream, h, 'trace.jsonl'),
      onWarning: (m) => {
        warnings.push(m);
        throw new Error('a warning sink that fails changes nothing either');
      },
    });
    const N = 30;
    for (let i = 0; i < N; i++) {
      // A new connection each time: the tap keeps accepting after the failure.
      const client = await AjpTestClient.connect(ports[0] as number);
      expect((await client.request(`/app/d${i}?size=10`)).status).toBe(200);
      client.close();
    }
    await waitFor(() => warnings.length > 0 && r.progress.open === 0, 3000, 'the warning and every connection closed');
    const summary = await r.stop();
    expect(summary.connections).toBe(N);
    expect(summary.exchanges).toBe(N);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^the trace output failed \(cannot write trace\.jsonl: no space left on the device\); traffic keeps flowing/,
    );
    expect(summary.outputError).toBe('cannot write trace.jsonl: no space left on the device');
    // What reached the output before it failed, and every other event counted as lost.
    expect(summary.eventsWritten).toBe(disk.accepted() - 1);
    expect(summary.eventsWritten).toBeGreaterThan(0);
    expect(summary.eventsDropped).toBe(0);
    expect(summary.eventsWritten + summary.eventsLost).toBe(3 * N); // open, exchange and close per connection
  });

  it('a stop does not hang on an output that never finishes closing (a stuck pipe): it gives up at the flush deadline and says so', async () => {
    const cs = await containers('tomcat1');
    const output = memoryOutput();
    output.close = () => new Promise<void>(() => undefined); // never
    const { r, ports } = await record(cs, { openOutput: async () => output, flushTimeoutMs: 300 });
    const client = await AjpTestClient.connect(ports[0] as number);
    await client.request('/app/s');
    client.close();
    await waitFor(() => r.progress.open === 0, 2000, 'close');
    await waitFor(() => output.got.length === 3, 2000, 'the events');
    const summary = await withTimeout(r.stop(), 3000, 'the stop');
    expect(summary.outputError).toBe('the output did not finish within 0.3 s');
    expect(summary.eventsWritten + summary.eventsLost).toBe(3);
  });

  it('--max-exchanges reached while the output is still opening: every event is written once it opens, and it is closed', async () => {
    const cs = await containers('tomcat1');
    const port = await closedPort();
    let open: ((o: TraceOutput) => void) | undefined;
    const output = memoryOutput();
    const starting = TapRecorder.start({
      taps: [{ listen: { host: LOOPBACK, port }, upstream: { host: LOOPBACK, port: cs[0]?.port as number } }],
      trace: { redact: true, bodies: 'none', maxBody: 0 },
      tool: 'ajpbench test',
      tracer: tracerMode,
      maxExchanges: 2,
      durationMs: 60_000,
      openOutput: () =>
        new Promise<TraceOutput>((resolve) => {
          open = resolve;
        }),
    });
    await waitFor(() => open !== undefined, 3000, 'the taps to listen and the output to be opening');
    const client = await AjpTestClient.connect(port);
    await client.request('/app/o1');
    await client.request('/app/o2');
    await waitRefused(port, 3000); // the limit stopped the tap
    await waitFor(() => client.closed, 3000, 'the drain to close the idle connection');
    await new Promise((r) => setTimeout(r, 200)); // and the stop to get as far as it can without the output
    const timersBefore = activeTimeouts();
    open?.(output);
    const r = await withTimeout(starting, 3000, 'start');
    const summary = await withTimeout(r.finished, 3000, 'the recording to finish');
    expect(summary.stopReason).toBe('max-exchanges');
    expect(exchanges(output.got).map((e) => e.request.uri)).toEqual(['/app/o1', '/app/o2']);
    // The client's connection (a probe of waitRefused may have got in before the stop).
    const conn = exchanges(output.got)[0]?.conn;
    const connEvents = output.got.filter(
      (e): e is Extract<TraceEvent, { event: 'connection' }> => e.event === 'connection' && e.conn === conn,
    );
    expect(connEvents.map((e) => e.state)).toEqual(['open', 'close']);
    expect(summary.eventsWritten).toBe(output.got.length);
    expect(summary.eventsLost).toBe(0);
    expect(summary.eventsDropped).toBe(0);
    expect(output.closes).toBe(1);
    // The --duration timer did not start after the stop (it would hold the process for a minute).
    expect(activeTimeouts()).toBe(timersBefore);
  });

  it('counts every event as lost, and closes nothing, when the output fails to open after the stop began', async () => {
    const cs = await containers('tomcat1');
    const port = await closedPort();
    let fail: ((e: Error) => void) | undefined;
    const starting = TapRecorder.start({
      taps: [{ listen: { host: LOOPBACK, port }, upstream: { host: LOOPBACK, port: cs[0]?.port as number } }],
      trace: { redact: true, bodies: 'none', maxBody: 0 },
      tool: 'ajpbench test',
      tracer: tracerMode,
      maxExchanges: 1,
      openOutput: () =>
        new Promise<TraceOutput>((_, reject) => {
          fail = reject;
        }),
    });
    const failed = starting.then(
      () => undefined,
      (e: unknown) => e,
    );
    await waitFor(() => fail !== undefined, 3000, 'the output to be opening');
    const client = await AjpTestClient.connect(port);
    await client.request('/app/x');
    await waitRefused(port, 3000);
    fail?.(new Error('EACCES: permission denied'));
    expect(await withTimeout(failed, 3000, 'start')).toMatchObject({ message: 'EACCES: permission denied' });
  });

  it.each([
    ['durationMs', { durationMs: 2 ** 31 }],
    ['drainMs', { drainMs: 2 ** 31 }],
    ['connectTimeoutMs', { connectTimeoutMs: 0 }],
    ['maxExchanges', { maxExchanges: 0 }],
  ])('refuses a %s that a timer or the limit cannot honour (it would stop at once or never)', async (_name, over) => {
    const cs = await containers('tomcat1');
    await expect(record(cs, over)).rejects.toThrow(RangeError);
  });

  it('rejects with a TapListenError and leaves no file when a listen address is in use', async () => {
    const cs = await containers('tomcat1');
    const file = join(dir, 'never.jsonl');
    await expect(
      TapRecorder.start({
        taps: [
          { listen: { host: LOOPBACK, port: 0 }, upstream: { host: LOOPBACK, port: cs[0]?.port as number } },
          { listen: { host: LOOPBACK, port: cs[0]?.port as number }, upstream: { host: LOOPBACK, port: 1 } },
        ],
        trace: { redact: true, bodies: 'none', maxBody: 0 },
        tool: 'ajpbench test',
        tracer: tracerMode,
        openOutput: (h) => TraceWriter.create(file, h),
      }),
    ).rejects.toMatchObject({ name: 'TapListenError', errno: 'EADDRINUSE' });
    expect(() => statSync(file)).toThrow();
  });
});

describe('RotatingTraceWriter', () => {
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

  it('names files trace.0001.jsonl, trace.0002.jsonl, ... (before the extension)', () => {
    expect(rotatedPath('/x/trace.jsonl', 1)).toBe('/x/trace.0001.jsonl');
    expect(rotatedPath('/x/trace.jsonl', 12345)).toBe('/x/trace.12345.jsonl');
    expect(rotatedPath('out', 2)).toBe('out.0002');
  });

  it('splits by size into numbered files, each a valid trace with the header, events in order', async () => {
    const sub = mkdtempSync(join(dir, 'rot-'));
    const w = await RotatingTraceWriter.create(join(sub, 'trace.jsonl'), header, 4096);
    const N = 300;
    for (let i = 0; i < N; i++) {
      const wait = w.write({ event: 'cping', conn: i, t: i, rttUs: 100 + i });
      if (wait !== undefined && i % 2 === 0) await wait; // some writes awaited, some not: both must keep order
    }
    await w.close();
    const files = readdirSync(sub).sort();
    expect(files.length).toBeGreaterThan(3);
    expect(files).toEqual(files.map((_, i) => `trace.${String(i + 1).padStart(4, '0')}.jsonl`));
    expect(w.files.map((f) => f.slice(sub.length + 1))).toEqual(files);
    const seen: number[] = [];
    for (const f of files) {
      const t = await readTrace(join(sub, f));
      expect(t.header).toEqual(header);
      expect(statSync(join(sub, f)).mode & 0o777).toBe(0o600);
      expect(statSync(join(sub, f)).size).toBeLessThan(4096 + 200); // at most one event past the size
      for (const e of t.events) if (e.event === 'cping') seen.push(e.conn);
    }
    expect(seen).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(w.events).toBe(N);
  });

  it('rotates a recording: every exchange lands in exactly one of the numbered files', async () => {
    const cs = await containers('tomcat1');
    const sub = mkdtempSync(join(dir, 'rec-'));
    const { r, ports } = await record(cs, {
      openOutput: (h) => RotatingTraceWriter.create(join(sub, 'trace.jsonl'), h, 2048),
    });
    const client = await AjpTestClient.connect(ports[0] as number);
    for (let i = 0; i < 30; i++) await client.request(`/app/rot${i}`);
    client.close();
    await r.stop();
    const files = readdirSync(sub).sort();
    expect(files.length).toBeGreaterThan(2);
    const uris: string[] = [];
    for (const f of files)
      for (const e of exchanges((await readTrace(join(sub, f))).events)) uris.push(e.request.uri ?? '');
    expect(uris).toEqual(Array.from({ length: 30 }, (_, i) => `/app/rot${i}`));
  });
});

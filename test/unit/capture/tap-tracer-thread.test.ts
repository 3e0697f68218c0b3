/**
 * The recorder's tracer thread: the same traffic gives the same trace events as tracing inline
 * (ids, order per connection, content); a blocked tracer sheds trace work, counted and said,
 * while every exchange is still answered; a stop waits for the tracer's last results.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TapRecorder, type TapRecorderOptions } from '../../../src/capture/index.js';
import { eventOf, type TraceEvent, type TraceOutput, type TraceRecord } from '../../../src/trace/index.js';
import { AjpTestClient } from '../../fixtures/ajp-test-client.js';
import { AjpTestContainer } from '../../fixtures/ajp-test-container.js';
import { LOOPBACK, waitFor, withTimeout } from '../../fixtures/tap-fixtures.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function memoryOutput(): TraceOutput & { got: TraceEvent[] } {
  const o = {
    got: [] as TraceEvent[],
    get events(): number {
      return o.got.length;
    },
    write(e: TraceRecord): undefined {
      o.got.push(eventOf(e));
      return undefined;
    },
    close: () => Promise.resolve(),
  };
  return o;
}

async function record(
  c: AjpTestContainer,
  over: Partial<TapRecorderOptions> = {},
): Promise<{ r: TapRecorder; port: number; output: ReturnType<typeof memoryOutput> }> {
  const output = memoryOutput();
  const r = await TapRecorder.start({
    taps: [{ listen: { host: LOOPBACK, port: 0 }, upstream: { host: LOOPBACK, port: c.port }, worker: 'tomcat1' }],
    trace: { redact: true, bodies: 'all', maxBody: 4096 },
    tool: 'ajpbench test',
    openOutput: async () => output,
    drainMs: 2000,
    ...over,
  });
  cleanups.push(() => r.stop());
  return { r, port: r.addresses()[0]?.port as number, output };
}

/** What does not depend on the run: times and the client's port left out. */
function comparable(e: TraceEvent): unknown {
  return JSON.parse(
    JSON.stringify(e, (k, v: unknown) => (k === 't' || k === 'client' || k.endsWith('Us') ? undefined : v)),
  );
}

/** The same traffic every time: connections one after another, CPings, bodies both ways, garbage, a reset. */
async function traffic(port: number): Promise<void> {
  for (let conn = 0; conn < 4; conn++) {
    const client = await AjpTestClient.connect(port);
    await client.cping();
    for (let i = 0; i < 5; i++) {
      const body = i % 2 === 0 ? Buffer.alloc(3000 + i * 1000, i) : undefined;
      const res = await client.request(`/app/c${conn}/x${i}?size=${200 + i * 5000}`, {
        headers: [['cookie', `JSESSIONID=abc${conn}.tomcat1`]],
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status).toBe(200);
    }
    if (conn === 2) client.send(Buffer.from('not AJP at all'));
    client.close();
    await waitFor(() => client.closed, 3000, 'the connection to close');
  }
}

describe('TapRecorder tracer thread', () => {
  it('a tracer thread whose module cannot load: said once, everything traced on the forwarding thread instead', async () => {
    const c = await AjpTestContainer.start({ route: 'tomcat1' });
    cleanups.push(() => c.close());
    const dir = mkdtempSync(join(tmpdir(), 'ajpbench-tracer-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const broken = join(dir, 'broken-worker.mjs');
    writeFileSync(broken, "throw new Error('broken install');\n");
    const warnings: string[] = [];
    const { r, port, output } = await record(c, {
      tracerWorkerUrl: pathToFileURL(broken),
      onWarning: (m) => warnings.push(m),
    });
    expect(r.tracerMode).toBe('inline');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /the tracer thread could not start \(.*broken install.*\); tracing on the forwarding thread instead/,
    );
    await traffic(port);
    await r.stop();
    expect(output.got.filter((e) => e.event === 'exchange')).toHaveLength(20);
    expect(warnings).toHaveLength(1);
  });

  it('the same traffic gives the same trace events inline and threaded: ids, order per connection, content', async () => {
    const c = await AjpTestContainer.start({ route: 'tomcat1' });
    cleanups.push(() => c.close());
    const runs: TraceEvent[][] = [];
    for (const tracer of ['inline', 'thread'] as const) {
      const { r, port, output } = await record(c, { tracer });
      expect(r.tracerMode).toBe(tracer);
      await traffic(port);
      await r.stop();
      runs.push(output.got);
    }
    const [inline, threaded] = runs as [TraceEvent[], TraceEvent[]];
    expect(inline.filter((e) => e.event === 'exchange')).toHaveLength(20);
    expect(inline.some((e) => e.event === 'error')).toBe(true); // the garbage was seen
    const byConn = (events: TraceEvent[]): Map<number, unknown[]> => {
      const m = new Map<number, unknown[]>();
      for (const e of events) {
        const conn = 'conn' in e && typeof e.conn === 'number' ? e.conn : 0;
        m.set(conn, [...(m.get(conn) ?? []), comparable(e)]);
      }
      return m;
    };
    expect(byConn(threaded)).toEqual(byConn(inline));
  });

  it('a blocked tracer sheds trace work past the backlog bound, counted and said, while every exchange is answered', async () => {
    const c = await AjpTestContainer.start({ route: 'tomcat1' });
    cleanups.push(() => c.close());
    const warnings: string[] = [];
    const { r, port, output } = await record(c, {
      maxTraceBacklogBytes: 64 * 1024,
      onWarning: (m) => warnings.push(m),
    });
    const release = r.holdTracer();
    expect(release).toBeDefined();
    // The hold takes effect at the tracer's next batch: the first one goes through, then it stops.
    const clients = await Promise.all([0, 1, 2, 3].map(() => AjpTestClient.connect(port)));
    await Promise.all(
      clients.map(async (client, i) => {
        for (let k = 0; k < 10; k++) {
          const res = await client.request(`/app/s${i}/${k}?size=20000`);
          expect(res.body.length).toBe(20000);
        }
        client.close();
      }),
    );
    await waitFor(() => r.progress.open === 0, 3000, 'the connections to close');
    const shed = r.taps[0]?.stats.tracesShed ?? 0;
    expect(shed).toBeGreaterThan(0);
    release?.();
    const summary = await withTimeout(r.stop(), 5000, 'the stop');
    expect(summary.tracesShed).toBe(shed);
    const behind = output.got.filter((e) => e.event === 'error' && e.code === 'TAP_ERR_TRACE_BEHIND');
    expect(behind).toHaveLength(shed);
    // Each shed connection's trace is closed (reason error) after what was handed over before the bound.
    const closes = output.got.filter(
      (e): e is Extract<TraceEvent, { event: 'connection' }> => e.event === 'connection' && e.state === 'close',
    );
    expect(closes).toHaveLength(4);
    for (const b of behind)
      expect(closes.some((x) => 'conn' in b && x.conn === b.conn && x.reason === 'error')).toBe(true);
    expect(c.requests).toBe(40);
  });

  it('a stop waits for the tracer thread to finish what was handed over before it closes the output', async () => {
    const c = await AjpTestContainer.start({ route: 'tomcat1' });
    cleanups.push(() => c.close());
    const { r, port, output } = await record(c);
    // Let the tracer start a first batch (the open), then hold it before the next.
    const client = await AjpTestClient.connect(port);
    await client.cping();
    await waitFor(() => output.got.length > 0, 3000, 'the first events');
    const release = r.holdTracer();
    for (let i = 0; i < 10; i++) await client.request(`/app/w${i}`);
    client.close();
    await waitFor(() => r.progress.open === 0, 3000, 'the connection to close');
    let stopped = false;
    const stopping = r.stop().then((s) => {
      stopped = true;
      return s;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stopped).toBe(false); // the tracer holds the last results
    release?.();
    const summary = await withTimeout(stopping, 5000, 'the stop');
    expect(output.got.filter((e) => e.event === 'exchange')).toHaveLength(10);
    expect(output.got.filter((e) => e.event === 'connection').map((e) => ('state' in e ? e.state : ''))).toEqual([
      'open',
      'close',
    ]);
    expect(summary.exchangesRecorded).toBe(10);
    expect(summary.eventsWritten).toBe(output.got.length);
  });
});

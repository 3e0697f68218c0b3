/**
 * A threaded import (--threads N) writes exactly the single-threaded trace, byte for byte, with
 * the same summary: on the captures of captures/ (with their ports and with --port auto) and on
 * hand-made captures of many interleaved connections, each with several exchanges one after
 * another, damaged as captures are (snaplen, lost segments, a capture that ends mid-exchange,
 * a four-tuple reused, a non-AJP flow beside them). A worker that fails is an exit-3 error and
 * what was written before stays: a prefix of the full trace.
 *
 * Workers run the compiled worker (dist/src/capture/import-worker.js): npm run build first.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { importCapture, type ImportOptions, type ImportSummary } from '../../../src/capture/index.js';
import { RuntimeError } from '../../../src/errors.js';
import { AjpEncoder } from '../../../src/protocol/index.js';
import { TraceWriter } from '../../../src/trace/index.js';
import { LINKTYPE, tcpFrame, writePcap } from '../../fixtures/capture-builder.js';
import { captureRequest, conversation, type TimedSegment, type Turn } from '../../fixtures/tcp-conversation.js';

const root = join(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-import-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const enc = new AjpEncoder();

interface Run {
  text: string;
  summary: Omit<ImportSummary, 'elapsedMs'>;
}

async function importText(
  input: string | Buffer,
  ports: number[] | 'auto',
  threads: number,
  extra: Partial<ImportOptions> = {},
): Promise<Run> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write: (c: Buffer, _e, done) => {
      chunks.push(Buffer.from(c));
      done();
    },
  });
  const { elapsedMs: _elapsed, ...summary } = await importCapture(
    typeof input === 'string' ? input : Readable.from([input]),
    (h) => Promise.resolve(TraceWriter.toStream(sink, h)),
    {
      ports,
      trace: { redact: true, bodies: 'all', maxBody: 1 << 20 },
      sourceName: 'test',
      tool: 'test',
      threads,
      ...extra,
    },
  );
  return { text: Buffer.concat(chunks).toString('utf8'), summary };
}

async function expectSameTrace(input: string | Buffer, ports: number[] | 'auto'): Promise<Run> {
  const one = await importText(input, ports, 1);
  expect(one.summary.events).toBeGreaterThan(0);
  for (const threads of [2, 3]) {
    const many = await importText(input, ports, threads);
    expect(many.summary, `threads ${threads}`).toEqual(one.summary);
    // Compared as text: the same bytes, not just the same events.
    expect(many.text === one.text, `threads ${threads}: the trace differs from one thread's`).toBe(true);
  }
  return one;
}

/** Exchanges one after another on one connection: CPing, GETs, POSTs with bodies, responses of 1 to 3 packets. */
function exchanges(conn: number, count: number): Turn[] {
  const turns: Turn[] = [];
  for (let i = 0; i < count; i++) {
    const body = i % 3 === 1 ? Buffer.alloc(300 + conn, 'p') : undefined;
    const req = captureRequest(`/c${conn}/x${i}?q=${i}`, body === undefined ? 'GET' : 'POST', body?.length ?? 0);
    turns.push({
      from: 'client',
      bytes: Buffer.concat([
        ...(i === 0 ? [enc.encode({ type: 'cping' })] : []),
        enc.forwardRequest(req),
        ...(body === undefined ? [] : [enc.body(body)]),
      ]),
    });
    const size = [40, 9000, 20_000][(conn + i) % 3] as number;
    const chunks: Buffer[] = [];
    for (let at = 0; at < size; at += 8184)
      chunks.push(enc.sendBodyChunk(Buffer.alloc(Math.min(8184, size - at), 'r')));
    turns.push({
      from: 'server',
      bytes: Buffer.concat([
        ...(i === 0 ? [enc.encode({ type: 'cpong' })] : []),
        enc.sendHeaders({ status: 200, message: 'OK', headers: [{ name: 'Content-Type', value: 'text/plain' }] }),
        ...chunks,
        enc.endResponse(true),
      ]),
    });
  }
  return turns;
}

/**
 * `connections` connections to two containers, started 0.3 ms apart and overlapping in time, their
 * segments merged in time order: every packet of one connection is interleaved with others'.
 */
function interleaved(
  connections: number,
  perConnection: number | ((c: number) => number),
  damage?: (segs: TimedSegment[], c: number) => TimedSegment[],
): TimedSegment[] {
  const all: TimedSegment[] = [];
  for (let c = 0; c < connections; c++) {
    let segs = conversation(exchanges(c, typeof perConnection === 'number' ? perConnection : perConnection(c)), {
      clientPort: 41000 + c,
      serverPort: c % 2 === 0 ? 8009 : 8010,
      mss: 1400,
      startUs: 1_700_000_000_000_000 + c * 300,
    });
    if (damage !== undefined) segs = damage(segs, c);
    all.push(...segs);
  }
  // Stable: a connection's own segments keep their order when timestamps tie.
  return all.sort((a, b) => a.timestampUs - b.timestampUs);
}

function pcap(segs: TimedSegment[], snaplen?: number): Buffer {
  return writePcap(
    segs.map((s) => ({ timestampUs: s.timestampUs, data: tcpFrame(s, { linkType: LINKTYPE.ETHERNET }) })),
    { linkType: LINKTYPE.ETHERNET, ...(snaplen === undefined ? {} : { snaplen }) },
  );
}

const PORTS = [8009, 8010];

describe('import --threads: the same trace as one thread', () => {
  it.each([
    ['lab-mixed.pcap', [28009, 29009, 28109, 29109]],
    ['lab-mixed-s200.pcap', [28009, 29009, 28109, 29109]],
    ['lab-mixed-s96.pcap', [28009, 29009, 28109, 29109]],
    ['lab-dropped-packets.pcap', 'auto'],
    ['mod_jk-post.pcap', 'auto'],
    ['lab-mixed.pcap', 'auto'],
  ] as const)('captures/%s, --port %s', async (name, ports) => {
    const one = await expectSameTrace(join(root, 'captures', name), ports === 'auto' ? 'auto' : [...ports]);
    expect(one.summary.exchanges).toBeGreaterThan(0);
  });

  it('40 interleaved connections of 6 exchanges each to two ports: ids and conns in packet order', async () => {
    const one = await expectSameTrace(pcap(interleaved(40, 6)), PORTS);
    expect(one.summary).toMatchObject({ exchanges: 240, incomplete: 0, errors: 0, flows: 40, cpings: 40 });
    const ids = one.text
      .split('\n')
      .filter((l) => l.startsWith('{"event":"exchange"'))
      .map((l) => (JSON.parse(l) as { id: number }).id);
    // Exchanges finish out of start order across connections: the ids are not just a count.
    expect(ids).not.toEqual([...ids].sort((a, b) => a - b));
  });

  it('--port auto beside a flow that is not AJP', async () => {
    const http = conversation(
      [
        { from: 'client', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') },
        { from: 'server', bytes: Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n') },
      ],
      { clientPort: 50000, serverPort: 80, startUs: 1_700_000_000_000_500 },
    );
    const segs = [...interleaved(12, 3), ...http].sort((a, b) => a.timestampUs - b.timestampUs);
    const one = await expectSameTrace(pcap(segs), 'auto');
    expect(one.summary.ignoredSegments).toBeGreaterThan(0);
    expect(one.summary.flows).toBe(12);
  });

  it('a snaplen of 200 and of 96: truncated exchanges, the same', async () => {
    for (const snaplen of [200, 96]) {
      const one = await expectSameTrace(pcap(interleaved(16, 4), snaplen), PORTS);
      expect(one.summary.missingBytes).toBeGreaterThan(0);
    }
  });

  it('segments lost in Forward Requests, bodies and responses', async () => {
    const segs = interleaved(16, 5, (s, c) => s.filter((_, i) => i % (7 + (c % 5)) !== 5));
    const one = await expectSameTrace(pcap(segs), PORTS);
    expect(one.summary.missingBytes).toBeGreaterThan(0);
    expect(one.summary.errors + one.summary.incomplete).toBeGreaterThan(0);
  });

  it('a capture that ends mid-exchange: connections closed at the end in the order they opened', async () => {
    // Lengths that differ, so that the connections still open at the end are not one per worker in turn.
    const segs = interleaved(20, (c) => [2, 9, 4, 12, 1][c % 5] as number);
    const one = await expectSameTrace(pcap(segs.slice(0, Math.floor(segs.length * 0.6))), PORTS);
    expect(one.summary.incomplete).toBeGreaterThan(0);
    expect(one.text).toMatch(/"reason":"end"/);
  });

  it('connections open at the end close in the order they opened, whichever worker follows them', async () => {
    // Shards go to the worker given the fewest bytes so far. H (worker 1) is heavy and closes;
    // A, B and C then go to worker 2 and outweigh H; D goes to worker 1. A, B, C, D stay open:
    // worker 1 holds D as its 2nd connection, worker 2 holds A, B, C as its 1st to 3rd.
    const at = (segs: TimedSegment[]): number => (segs[segs.length - 1] as TimedSegment).timestampUs;
    const h = conversation(exchanges(0, 6), { clientPort: 44000, serverPort: 8009 });
    const abc = [1, 2, 3].map((c) =>
      conversation(exchanges(c, 9), {
        clientPort: 44000 + c,
        serverPort: 8009,
        startUs: at(h) + c * 10,
        close: 'none',
      }),
    );
    const d = conversation(exchanges(4, 2), {
      clientPort: 44004,
      serverPort: 8009,
      startUs: Math.max(...abc.map(at)) + 10,
      close: 'none',
    });
    const segs = [...h, ...abc.flat(), ...d].sort((x, y) => x.timestampUs - y.timestampUs);
    const one = await expectSameTrace(pcap(segs), PORTS);
    const closedAtEnd = one.text
      .split('\n')
      .filter((l) => /^\{"event":"connection".*"state":"close".*"reason":"end"/.test(l))
      .map((l) => (JSON.parse(l) as { conn: number }).conn);
    expect(closedAtEnd).toEqual([2, 3, 4, 5]);
  });

  it('a four-tuple reused by a new connection, and one that starts mid-stream', async () => {
    const first = conversation(exchanges(1, 2), { clientPort: 42000, serverPort: 8009, close: 'none' });
    const last = first[first.length - 1] as TimedSegment;
    const again = conversation(exchanges(2, 2), {
      clientPort: 42000,
      serverPort: 8009,
      startUs: last.timestampUs + 10,
    });
    const late = conversation(exchanges(3, 3), { clientPort: 42001, serverPort: 8010, handshake: false }).slice(5);
    const segs = [...first, ...again, ...late, ...interleaved(6, 2)].sort((a, b) => a.timestampUs - b.timestampUs);
    await expectSameTrace(pcap(segs), PORTS);
  });

  it('a capture of many chunks (beyond the batches in flight)', async () => {
    const big = pcap(interleaved(120, 8));
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    await expectSameTrace(big, PORTS);
  });
});

describe('import --threads: failures', () => {
  it('a worker that fails: exit-3 error, and the trace written so far is a prefix of the whole one', async () => {
    const segs = interleaved(120, 8);
    const file = join(dir, 'many.pcap');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, pcap(segs));
    const whole = await importText(file, PORTS, 1);
    const out = join(dir, 'failed.jsonl');
    const failed = importCapture(file, (h) => TraceWriter.create(out, h), {
      ports: PORTS,
      trace: { redact: true, bodies: 'all', maxBody: 1 << 20 },
      sourceName: 'test',
      tool: 'test',
      threads: 2,
      failWorkerAtPacket: Math.floor(segs.length * 0.8),
    });
    await expect(failed).rejects.toThrow(RuntimeError);
    await expect(failed).rejects.toMatchObject({
      code: 'AJPBENCH_ERR_INTERNAL',
      message: expect.stringMatching(/decode worker \d of 1 failed: .*the trace holds what was decoded before/),
    });
    const written = readFileSync(out, 'utf8');
    const [header, ...events] = written.split('\n').filter((l) => l !== '');
    const [wholeHeader, ...wholeEvents] = whole.text.split('\n').filter((l) => l !== '');
    expect(header).toBe(wholeHeader);
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(wholeEvents.length);
    expect(events).toEqual(wholeEvents.slice(0, events.length));
  });

  it('a stop before the first chunk: stopped, nothing written, as with one thread', async () => {
    const stop = new AbortController();
    stop.abort();
    const file = join(root, 'captures', 'lab-mixed.pcap');
    const one = await importText(file, 'auto', 1, { signal: stop.signal });
    const two = await importText(file, 'auto', 2, { signal: stop.signal });
    expect(two).toEqual(one);
    expect(two.summary).toMatchObject({ stopped: true, events: 0 });
  });
});

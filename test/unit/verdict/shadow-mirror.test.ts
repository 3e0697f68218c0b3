/**
 * The live mirror (record --mirror) on the tap, with test containers: copies go out after the
 * production exchange was forwarded, never before; sampling keeps sessions whole; a down or slow
 * candidate leaves production alone and its copies are counted as dropped; a full queue drops and
 * counts; the mirror's own secret is sent, production's is not; the trace keeps what it was told to.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TapRecorder, type TapRecorderOptions } from '../../../src/capture/index.js';
import { AjpEncoder } from '../../../src/protocol/index.js';
import { StubContainer } from '../../../src/load/index.js';
import { TraceWriter, type DiffEvent, type ExchangeEvent } from '../../../src/trace/index.js';
import { createMirrorVerdict } from '../../../src/verdict/mirror-verdict.js';
import { ShadowMirror, type ShadowMirrorOptions } from '../../../src/verdict/shadow-mirror.js';
import type { MirrorComparator, MirrorExchange } from '../../../src/verdict/mirror-comparator.js';
import { AjpTestClient, forwardRequest } from '../../fixtures/ajp-test-client.js';
import { AjpTestContainer } from '../../fixtures/ajp-test-container.js';
import { closedPort, LOOPBACK, readTrace, sha256, waitFor } from '../../fixtures/tap-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-mirror-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function container(route: string): Promise<AjpTestContainer> {
  const c = await AjpTestContainer.start({ route, bodyBytes: 64 });
  cleanups.push(() => c.close());
  return c;
}

/** A test double of the engine: equal when status and body hash agree. Records what it was given. */
function recordingComparator(): MirrorComparator & { seen: MirrorExchange[]; drops: string[] } {
  const seen: MirrorExchange[] = [];
  const drops: string[] = [];
  return {
    seen,
    drops,
    compare(x) {
      seen.push(x);
      const c = x.candidate;
      const equal = !('error' in c) && c.status === x.primary.status && c.body.sha256 === x.primary.body.sha256;
      return { outcome: equal ? 'equal' : 'differs', differences: equal ? [] : [{ kind: 'body', noise: false }] };
    },
    drop: (reason) => void drops.push(reason),
  };
}

interface Mirrored {
  recorder: TapRecorder;
  mirror: ShadowMirror;
  comparator: ReturnType<typeof recordingComparator>;
  client: AjpTestClient;
  file: string;
}

async function mirrored(
  production: AjpTestContainer,
  candidatePort: number,
  over: Partial<ShadowMirrorOptions> = {},
  rec: Partial<TapRecorderOptions> = {},
): Promise<Mirrored> {
  const comparator = recordingComparator();
  const mirror = new ShadowMirror({
    targets: [{ candidate: { host: LOOPBACK, port: candidatePort } }],
    comparator,
    redact: true,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    ...over,
  });
  const file = join(dir, `t-${Math.random().toString(36).slice(2)}.jsonl`);
  const recorder = await TapRecorder.start({
    taps: [{ listen: { host: LOOPBACK, port: 0 }, upstream: { host: LOOPBACK, port: production.port } }],
    trace: { redact: true, bodies: 'none', maxBody: 0 },
    tool: 'ajpbench test',
    openOutput: (h) => TraceWriter.create(file, h),
    drainMs: 2000,
    observe: mirror.observe,
    detailBytes: mirror.detailBytes, // as record does: no bodies held for a copy no lane would take
    beforeClose: () => mirror.finish(Date.now() + 3000),
    ...rec,
  });
  mirror.attach({ append: (e) => recorder.append(e), startTimeUs: recorder.startTimeUs });
  cleanups.push(() => recorder.stop());
  const client = await AjpTestClient.connect((recorder.addresses()[0] as { port: number }).port);
  cleanups.push(() => client.close());
  return { recorder, mirror, comparator, client, file };
}

describe('record --mirror', () => {
  it('sends each copy after the production exchange was forwarded, with its body, and compares the answers', async () => {
    const production = await container('tomcat1');
    const candidate = await container('tomcat2');
    const m = await mirrored(production, candidate.port);
    // Production takes 300 ms: the candidate must not see the request meanwhile.
    const answered = m.client.request('/slow?delay=300');
    await waitFor(() => production.requests === 1, 2000, 'production request');
    await new Promise((r) => setTimeout(r, 150));
    expect(candidate.requests).toBe(0);
    const res = await answered;
    expect(res.status).toBe(200);
    await waitFor(() => candidate.requests === 1, 2000, 'the copy');
    expect(candidate.received[0]?.uri).toBe('/slow');

    const body = Buffer.alloc(20_000, 7);
    await m.client.request('/upload', { body });
    await waitFor(() => m.mirror.summary.compared === 2, 2000, 'two comparisons');
    // The /slow copy takes 300 ms on the candidate too: the upload's may be compared first.
    const upload = m.comparator.seen.find((x) => x.uri === '/upload') as MirrorExchange;
    if ('error' in upload.candidate) throw new Error(upload.candidate.error);
    const bodySha = (h: [string, string | null][]): string | null | undefined =>
      h.find(([n]) => n.toLowerCase() === 'x-request-body-sha256')?.[1];
    // Both containers got the same body (they echo its hash); the route header differs (per node).
    expect(bodySha(upload.candidate.headers)).toBe(sha256(body));
    expect(bodySha(upload.primary.headers)).toBe(sha256(body));
    expect(upload.primary.body.data?.length).toBe(64);

    const summary = await m.recorder.stop();
    const stats = m.mirror.summary;
    expect(stats).toMatchObject({ seen: 2, mirrored: 2, compared: 2, dropped: 0, candidateErrors: 0 });
    expect(summary.exchanges).toBe(2);
    // The trace keeps only what it was told to (bodies none), whatever the mirror held.
    const { events } = await readTrace(m.file);
    const ex = events.filter((e): e is ExchangeEvent => e.event === 'exchange');
    expect(ex.map((e) => e.request.body.data)).toEqual([undefined, undefined]);
    expect(ex[1]?.request.body).toMatchObject({ length: 20_000, sha256: sha256(body) });
  });

  it("with maxExchanges (the recorder's --max-exchanges), exchanges past it are not mirrored", async () => {
    const production = await container('tomcat1');
    const candidate = await container('tomcat2');
    const m = await mirrored(production, candidate.port, { maxExchanges: 2 });
    for (const path of ['/1', '/2', '/3']) await m.client.request(path);
    await m.recorder.stop();
    expect(candidate.received.map((r) => r.uri)).toEqual(['/1', '/2']);
    expect(m.mirror.summary).toMatchObject({ seen: 2, compared: 2 });
  });

  it("sends the mirror's secret, never production's, and the unredacted cookies", async () => {
    const production = await container('tomcat1');
    const candidate = await container('tomcat2');
    const m = await mirrored(production, candidate.port, { secret: 'mirror-secret' });
    const enc = new AjpEncoder();
    const fr = forwardRequest('/s', { headers: [['cookie', 'JSESSIONID=abc.tomcat1; theme=dark']] });
    m.client.send(enc.forwardRequest({ ...fr, attributes: [{ name: 'secret', value: 'prod-secret' }] }));
    await waitFor(() => candidate.requests === 1, 2000, 'the copy');
    const got = candidate.received[0];
    expect(got?.attributes.filter((a) => a.name === 'secret')).toEqual([{ name: 'secret', value: 'mirror-secret' }]);
    expect(got?.headers.find((h) => h.name.toLowerCase() === 'cookie')?.value).toBe(
      'JSESSIONID=abc.tomcat1; theme=dark',
    );
    // Production got its own secret, untouched.
    expect(production.received[0]?.attributes).toEqual([{ name: 'secret', value: 'prod-secret' }]);
  });

  it('--mirror-sample mirrors whole sessions: all of a session or none of it, whatever its route', async () => {
    const production = await container('tomcat1');
    const candidate = await container('tomcat2');
    const m = await mirrored(production, candidate.port, { sample: 0.5, sampleSeed: 'seed' });
    const sessions = 30;
    for (let s = 0; s < sessions; s++) {
      for (const route of ['tomcat1', 'tomcat2', 'tomcat1']) {
        await m.client.request(`/page?s=${s}`, { headers: [['cookie', `JSESSIONID=sess${s}.${route}`]] });
      }
    }
    await waitFor(() => m.mirror.summary.compared + m.mirror.summary.sampledOut === sessions * 3, 5000, 'all seen');
    const perSession = new Map<string, number>();
    for (const r of candidate.received) {
      const q = String(r.attributes.find((a) => a.name === 'query_string')?.value ?? '');
      perSession.set(q, (perSession.get(q) ?? 0) + 1);
    }
    expect([...perSession.values()].every((n) => n === 3)).toBe(true);
    expect(perSession.size).toBeGreaterThan(5);
    expect(perSession.size).toBeLessThan(25);
    expect(m.mirror.summary.sampledOut).toBe((sessions - perSession.size) * 3);
  });

  it('a candidate that is down: production answers as usual, every copy is dropped and counted', async () => {
    const production = await container('tomcat1');
    const notices: string[] = [];
    const m = await mirrored(production, await closedPort(), {
      backoffMs: 50,
      maxBackoffMs: 200,
      onNotice: (n) => void notices.push(n),
    });
    for (let i = 0; i < 20; i++) {
      const res = await m.client.request(`/x?i=${i}`);
      expect(res.status).toBe(200);
    }
    await waitFor(() => m.mirror.summary.dropped === 20, 3000, 'all copies dropped');
    const s = m.mirror.summary;
    expect(s).toMatchObject({ seen: 20, compared: 0, dropped: 20, candidatesDown: 1 });
    expect(s.droppedBy['candidate-down']).toBe(20);
    expect(m.comparator.drops).toHaveLength(20);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^mirror candidate ajp:\/\/127\.0\.0\.1:\d+ is down \(.*ECONNREFUSED/);
  });

  it('a candidate that comes back after being down is mirrored to again (backoff, then a probe)', async () => {
    const production = await container('tomcat1');
    const port = await closedPort();
    const m = await mirrored(production, port, { backoffMs: 50, maxBackoffMs: 50 });
    await m.client.request('/before');
    await waitFor(() => m.mirror.summary.dropped === 1, 3000, 'the first copy dropped');
    const candidate = await AjpTestContainer.start({ route: 'tomcat2' }, port);
    cleanups.push(() => candidate.close());
    await new Promise((r) => setTimeout(r, 80));
    const deadline = Date.now() + 3000;
    while (m.mirror.summary.compared === 0 && Date.now() < deadline) {
      await m.client.request('/after');
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(m.mirror.summary.compared).toBeGreaterThan(0);
    expect(m.mirror.summary.candidatesDown).toBe(0);
  });

  it('a slow candidate with a full queue: production latency unchanged, copies past the queue dropped and counted', async () => {
    const production = await container('tomcat1');
    const slow = await StubContainer.start({
      listen: [{ host: LOOPBACK, port: 0, route: 'slow', protocol: 'ajp' }],
      latencyMs: 300,
    });
    cleanups.push(() => slow.close());
    const m = await mirrored(production, (slow.listeners[0] as { port: number }).port, {
      connections: 1,
      maxQueued: 2,
    });
    const latencies: number[] = [];
    const n = 12;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await m.client.request(`/fast?i=${i}`);
      latencies.push(performance.now() - t0);
    }
    // One in flight, two queued: the rest were dropped at once, on the tap's turn.
    const s = m.mirror.summary;
    expect(s.seen).toBe(n);
    expect(s.droppedBy['queue-full']).toBeGreaterThanOrEqual(n - 3 - 1);
    expect(Math.max(...latencies)).toBeLessThan(250); // never waited for the 300 ms candidate
    // The queue is full: the next Forward Request is told to hold no bodies for a copy.
    expect(m.mirror.detailBytes()).toBe(0);
    await m.recorder.stop();
    const end = m.mirror.summary;
    expect(end.compared + end.dropped).toBe(n);
    expect(end.compared).toBeGreaterThanOrEqual(1);
  });

  it('the queue is bounded in body bytes too: a copy that would pass maxQueuedBytes is dropped and counted', async () => {
    const production = await container('tomcat1');
    const slow = await StubContainer.start({
      listen: [{ host: LOOPBACK, port: 0, route: 'slow', protocol: 'ajp' }],
      latencyMs: 1000,
    });
    cleanups.push(() => slow.close());
    const m = await mirrored(production, (slow.listeners[0] as { port: number }).port, {
      connections: 1,
      maxQueued: 100,
      maxQueuedBytes: 10_000,
    });
    // Each copy holds a 4000-byte request body and a 64-byte response: one in flight, two fit the queue.
    for (let i = 0; i < 6; i++) await m.client.request(`/b?i=${i}`, { body: Buffer.alloc(4000, i) });
    await waitFor(() => m.mirror.summary.seen === 6, 2000, 'six seen');
    expect(m.mirror.summary.queued).toBe(2);
    expect(m.mirror.summary.droppedBy['queue-full']).toBe(3);
  });

  it('copies still queued at the stop deadline are dropped as stopped, and the stop does not wait longer', async () => {
    const production = await container('tomcat1');
    const slow = await StubContainer.start({
      listen: [{ host: LOOPBACK, port: 0, route: 'slow', protocol: 'ajp' }],
      latencyMs: 2000,
    });
    cleanups.push(() => slow.close());
    const comparator = recordingComparator();
    const m = await mirrored(
      production,
      (slow.listeners[0] as { port: number }).port,
      { connections: 1, maxQueued: 10, comparator },
      {},
    );
    for (let i = 0; i < 4; i++) await m.client.request(`/q?i=${i}`);
    await waitFor(() => m.mirror.summary.queued === 3, 2000, 'one sent, three queued');
    const t0 = Date.now();
    await m.mirror.finish(Date.now() + 300);
    expect(Date.now() - t0).toBeLessThan(1500);
    // The one in flight and the three queued: none compared, all counted.
    expect(m.mirror.summary).toMatchObject({ mirrored: 0, compared: 0, dropped: 4 });
    expect(m.mirror.summary.droppedBy.stopped).toBe(4);
  });
});

describe('with the diff engine and a secondary', () => {
  it('a per-node header that production and secondary also disagree on is noise, in the summary and the diff events', async () => {
    const [production, secondary, candidate] = await Promise.all(['tomcat1', 'tomcat2', 'tomcat3'].map(container));
    const verdict = createMirrorVerdict({ secondary: true });
    const m = await mirrored(production as AjpTestContainer, (candidate as AjpTestContainer).port, {
      targets: [
        {
          candidate: { host: LOOPBACK, port: (candidate as AjpTestContainer).port },
          secondary: { host: LOOPBACK, port: (secondary as AjpTestContainer).port },
        },
      ],
      comparator: verdict.comparator,
    });
    for (const path of ['/a', '/b', '/c']) await m.client.request(path);
    await m.recorder.stop();
    expect(m.mirror.summary).toMatchObject({ compared: 3, equal: 0, noise: 3, differing: 0, secondaryErrors: 0 });
    const s = verdict.summary();
    expect(s.groups.map((g) => [g.field, g.differences, g.noise])).toEqual([
      ['header:x-served-by', 0, 1],
      ['header:x-served-by', 0, 1],
      ['header:x-served-by', 0, 1],
    ]);
    const { events } = await readTrace(m.file);
    const diffs = events.filter((e): e is DiffEvent => e.event === 'diff');
    expect(diffs.map((d) => [d.outcome, d.differences.map((x) => [x.field, x.before, x.after, x.noise])])).toEqual(
      ['/a', '/b', '/c'].map(() => ['noise', [['header:x-served-by', 'tomcat1', 'tomcat3', true]]]),
    );
  });
});

describe('one candidate per tap', () => {
  it("an exchange goes to its own tap's candidate (matched by worker and upstream)", async () => {
    const [p1, p2, c1, c2] = await Promise.all(['tomcat1', 'tomcat2', 'cand1', 'cand2'].map((r) => container(r)));
    const taps = [p1, p2].map((p, i) => ({
      listen: { host: LOOPBACK, port: 0 },
      upstream: { host: LOOPBACK, port: (p as AjpTestContainer).port },
      worker: `tomcat${i + 1}`,
    }));
    const mirror = new ShadowMirror({
      targets: [c1, c2].map((c, i) => ({
        candidate: { host: LOOPBACK, port: (c as AjpTestContainer).port },
        matches: (e: ExchangeEvent) => e.worker === `tomcat${i + 1}`,
      })),
      comparator: recordingComparator(),
      redact: true,
    });
    const recorder = await TapRecorder.start({
      taps,
      trace: { redact: true, bodies: 'none', maxBody: 0 },
      tool: 'ajpbench test',
      openOutput: (h) => TraceWriter.create(join(dir, 'per-tap.jsonl'), h),
      observe: mirror.observe,
      detailBytes: 1 << 20,
      beforeClose: () => mirror.finish(Date.now() + 2000),
    });
    cleanups.push(() => recorder.stop());
    for (const [i, a] of recorder.addresses().entries()) {
      const client = await AjpTestClient.connect(a.port);
      for (let n = 0; n <= i; n++) await client.request(`/via-tap${i + 1}`);
      client.close();
    }
    await recorder.stop();
    expect(c1?.received.map((r) => r.uri)).toEqual(['/via-tap1']);
    expect(c2?.received.map((r) => r.uri)).toEqual(['/via-tap2', '/via-tap2']);
    expect(mirror.summary).toMatchObject({ seen: 3, compared: 3, dropped: 0 });
  });
});

describe('TapRecorder.append and the exchange detail', () => {
  it('appended events reach the trace and are counted; after the close they are lost and counted', async () => {
    const production = await container('tomcat1');
    const details: number[] = [];
    const file = join(dir, 'append.jsonl');
    const recorder = await TapRecorder.start({
      taps: [{ listen: { host: LOOPBACK, port: 0 }, upstream: { host: LOOPBACK, port: production.port } }],
      trace: { redact: true, bodies: 'none', maxBody: 0 },
      tool: 'ajpbench test',
      openOutput: (h) => TraceWriter.create(file, h),
      observe: (e, d) => {
        if (e.event === 'exchange') details.push(d?.responseBody.length ?? -1);
      },
      detailBytes: 10,
      beforeClose: async () => {
        await new Promise((r) => setTimeout(r, 20));
        recorder.append({ event: 'error', t: 1, code: 'TEST', message: 'appended while closing' });
      },
    });
    cleanups.push(() => recorder.stop());
    const client = await AjpTestClient.connect((recorder.addresses()[0] as { port: number }).port);
    await client.request('/a?size=100');
    client.close();
    recorder.append({ event: 'error', t: 2, code: 'TEST', message: 'appended' });
    const summary = await recorder.stop();
    recorder.append({ event: 'error', t: 3, code: 'TEST', message: 'too late' });
    // The detail holds 10 of the 100 body bytes; the trace (bodies none) none of them.
    expect(details).toEqual([10]);
    const { events } = await readTrace(file);
    expect(events.filter((e) => e.event === 'error').map((e) => (e as { message: string }).message)).toEqual([
      'appended',
      'appended while closing',
    ]);
    expect(summary.eventsAppended).toBe(2);
    expect(summary.eventsLost).toBe(0);
  });
});

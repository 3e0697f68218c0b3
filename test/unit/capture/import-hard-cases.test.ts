/**
 * The importer on hand-made captures of the hard cases: reordered, duplicated, overlapping and
 * dropped segments, snaplen truncation, a capture that starts in mid-connection, resets, IPv6,
 * Linux cooked v2 and pcapng. Every request on the wire must end as an exchange or an incomplete.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AjpEncoder, type ForwardRequest } from '../../../src/protocol/index.js';
import type { ErrorEvent, ExchangeEvent, IncompleteEvent, TraceEvent } from '../../../src/trace/index.js';
import { LINKTYPE, tcpFrame, writePcap, writePcapng, type LinkSpec } from '../../fixtures/capture-builder.js';
import { importToEvents } from '../../fixtures/import-trace.js';
import { captureRequest, conversation, type TimedSegment, type Turn } from '../../fixtures/tcp-conversation.js';

const enc = new AjpEncoder();
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const get = (uri: string): ForwardRequest => captureRequest(uri);

const upload = Buffer.alloc(20_000, 'u');
const bigResponse = Buffer.alloc(20_000, 'r');

/** Three exchanges: a GET, a 20 000-byte POST read on Get Body Chunk, a GET with a 20 000-byte response. */
function turns(): Turn[] {
  const post: ForwardRequest = {
    ...get('/upload'),
    method: 'POST',
    headers: [{ name: 'content-length', value: String(upload.length) }],
  };
  const chunks = (b: Buffer): Buffer => {
    const parts: Buffer[] = [];
    for (let i = 0; i < b.length; i += 8184) parts.push(enc.sendBodyChunk(b.subarray(i, i + 8184)));
    return Buffer.concat(parts);
  };
  const respond = (status: number, body: Buffer): Buffer =>
    Buffer.concat([
      enc.sendHeaders({ status, message: String(status), headers: [{ name: 'Content-Type', value: 'text/plain' }] }),
      chunks(body),
      enc.endResponse(true),
    ]);
  return [
    { from: 'client', bytes: Buffer.from(enc.forwardRequest(get('/one'))) },
    { from: 'server', bytes: respond(200, Buffer.from('first')) },
    { from: 'client', bytes: Buffer.concat([enc.forwardRequest(post), enc.body(upload.subarray(0, 8186))]) },
    { from: 'server', bytes: enc.getBodyChunk(8186) },
    { from: 'client', bytes: Buffer.from(enc.body(upload.subarray(8186, 16372))) },
    { from: 'server', bytes: enc.getBodyChunk(8186) },
    { from: 'client', bytes: Buffer.from(enc.body(upload.subarray(16372))) },
    { from: 'server', bytes: respond(201, Buffer.from('stored')) },
    { from: 'client', bytes: Buffer.from(enc.forwardRequest(get('/three'))) },
    { from: 'server', bytes: respond(200, bigResponse) },
  ];
}

/** Each AJP message its own turn (a write of its own, as Tomcat sends Send Headers, each chunk and End Response). */
function frameTurns(list: Turn[]): Turn[] {
  const out: Turn[] = [];
  for (const turn of list)
    for (let at = 0; at < turn.bytes.length;) {
      const end = at + 4 + turn.bytes.readUInt16BE(at + 2);
      out.push({ from: turn.from, bytes: turn.bytes.subarray(at, end) });
      at = end;
    }
  return out;
}

function pcap(segments: TimedSegment[], link: LinkSpec = { linkType: LINKTYPE.ETHERNET }, snaplen?: number): Buffer {
  return writePcap(
    segments.map((s) => ({ timestampUs: s.timestampUs, data: tcpFrame(s, link) })),
    { linkType: link.linkType, ...(snaplen === undefined ? {} : { snaplen }) },
  );
}

async function run(
  file: Buffer,
  ports: number[] | 'auto' = [8009],
): Promise<{
  events: TraceEvent[];
  exchanges: ExchangeEvent[];
  incomplete: IncompleteEvent[];
  errors: ErrorEvent[];
  missing: number;
}> {
  const { events, summary } = await importToEvents(Readable.from([file]), ports, { bodies: 'all' });
  return {
    events,
    exchanges: events.filter((e): e is ExchangeEvent => e.event === 'exchange'),
    incomplete: events.filter((e): e is IncompleteEvent => e.event === 'incomplete'),
    errors: events.filter((e): e is ErrorEvent => e.event === 'error'),
    missing: summary.missingBytes,
  };
}

function expectAllThree(exchanges: ExchangeEvent[]): void {
  expect(exchanges.map((x) => [x.request.method, x.request.uri, x.response.status])).toEqual([
    ['GET', '/one', 200],
    ['POST', '/upload', 201],
    ['GET', '/three', 200],
  ]);
  expect(exchanges[1]?.request.body).toMatchObject({ length: upload.length, sha256: sha(upload) });
  expect(exchanges[1]?.bodyRequests).toBe(2);
  expect(exchanges[2]?.response.body).toMatchObject({ length: bigResponse.length, sha256: sha(bigResponse) });
}

describe('import: hard cases', () => {
  it('a clean capture: three exchanges, bodies and hashes right, connection opened and closed', async () => {
    const r = await run(pcap(conversation(turns())));
    expectAllThree(r.exchanges);
    expect(r.incomplete).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(
      r.events
        .filter((e) => e.event === 'connection')
        .map((e) => (e.event === 'connection' ? [e.state, e.reason ?? null] : [])),
    ).toEqual([
      ['open', null],
      ['close', 'fin'],
    ]);
  });

  it('reordered segments', async () => {
    const segs = conversation(turns(), { mss: 700 });
    for (let i = 4; i + 1 < segs.length; i += 3)
      [segs[i], segs[i + 1]] = [segs[i + 1] as TimedSegment, segs[i] as TimedSegment];
    const r = await run(pcap(segs));
    expectAllThree(r.exchanges);
    expect(r.errors).toEqual([]);
  });

  it('duplicated (retransmitted) segments', async () => {
    const segs = conversation(turns(), { mss: 700 });
    const withDups = segs.flatMap((s, i) => (i % 4 === 0 && (s.payload?.length ?? 0) > 0 ? [s, { ...s }] : [s]));
    const r = await run(pcap(withDups));
    expectAllThree(r.exchanges);
    expect(r.errors).toEqual([]);
  });

  it('overlapping segments (a retransmission that spans two originals)', async () => {
    const segs = conversation(turns(), { mss: 1000 });
    const out: TimedSegment[] = [];
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i] as TimedSegment;
      out.push(s);
      const n = segs[i + 1];
      if (n !== undefined && s.src === n.src && (s.payload?.length ?? 0) === 1000 && (n.payload?.length ?? 0) > 0) {
        // Bytes 500..1500 of this segment and the next, sent again.
        out.push({
          ...s,
          seq: (s.seq as number) + 500,
          payload: Buffer.concat([(s.payload as Buffer).subarray(500), (n.payload as Buffer).subarray(0, 500)]),
        });
      }
    }
    const r = await run(pcap(out));
    expectAllThree(r.exchanges);
    expect(r.errors).toEqual([]);
  });

  it('a segment lost in the middle of a request body: that exchange is kept, truncated, frame sync kept', async () => {
    const segs = conversation(turns(), { mss: 1400 });
    // Drop one data segment in the middle of the 20 000-byte POST upload (turn 2).
    const victim = segs.findIndex(
      (s) => s.turn === 2 && (s.payload?.length ?? 0) === 1400 && s !== segs.find((x) => x.turn === 2),
    );
    const dropped = segs.splice(victim, 1)[0] as TimedSegment;
    const r = await run(pcap(segs));
    expect(r.exchanges.map((x) => [x.request.uri, x.response.status, x.truncated ?? null])).toEqual([
      ['/one', 200, null],
      ['/upload', 201, { missingBytes: 1400, request: 'body' }],
      ['/three', 200, null],
    ]);
    // The body lost exactly the dropped bytes; the rest of it, the Get Body Chunks and the response are exact.
    // What the body kept: all of it but the dropped bytes and the rest of the packet they cut (skipped to keep sync).
    expect(r.exchanges[1]?.request.body.length).toBeLessThan(upload.length - 1400);
    expect(r.exchanges[1]?.request.body.length).toBeGreaterThan(upload.length - 8192);
    expect(r.exchanges[1]?.bodyRequests).toBe(2);
    expect(r.exchanges[1]?.response.body).toMatchObject({ length: 6, sha256: sha(Buffer.from('stored')) });
    expect(r.exchanges[2]?.response.body).toMatchObject({ length: bigResponse.length, sha256: sha(bigResponse) });
    // Sync was kept and the exchange carries the loss: no error event, nothing incomplete.
    expect(r.incomplete).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.missing).toBe(dropped.payload?.length);
  });

  it('a segment lost in the middle of a Forward Request: method, URI and the headers before the hole are kept', async () => {
    const big: ForwardRequest = {
      ...get('/big-headers'),
      headers: [
        { name: 'host', value: 'example.test' },
        { name: 'X-Early', value: 'e'.repeat(300) },
        { name: 'X-Middle', value: 'm'.repeat(1500) },
        { name: 'X-Late', value: 'l'.repeat(800) },
      ],
    };
    const t = turns();
    const mixed: Turn[] = [
      { from: 'client', bytes: Buffer.from(enc.forwardRequest(big)) },
      t[1] as Turn, // the response to /one: 200 "first"
      ...t.slice(8), // GET /three and its response
    ];
    const segs = conversation(mixed, { mss: 1000 });
    const frSegments = segs.filter((s) => s.turn === 0 && (s.payload?.length ?? 0) > 0);
    expect(frSegments.length).toBe(3);
    segs.splice(segs.indexOf(frSegments[1] as TimedSegment), 1);
    const r = await run(pcap(segs));
    expect(r.exchanges.map((x) => [x.request.method, x.request.uri, x.response.status, x.truncated ?? null])).toEqual([
      ['GET', '/big-headers', 200, { missingBytes: 1000, request: 'headers' }],
      ['GET', '/three', 200, null],
    ]);
    const x = r.exchanges[0] as ExchangeEvent;
    // Only the headers wholly in the first 1000 bytes; the fixed fields are all exact.
    expect(x.request.headers).toEqual([
      ['host', 'example.test'],
      ['X-Early', 'e'.repeat(300)],
    ]);
    expect(x.request).toMatchObject({ protocol: 'HTTP/1.1', remoteAddr: '10.0.0.9', serverName: 'example.test' });
    expect(x.response.body).toMatchObject({ length: 5, sha256: sha(Buffer.from('first')) });
    expect(r.errors).toEqual([]);
  });

  it('a segment lost in the middle of a response: status, headers and timing kept, the body marked', async () => {
    const segs = conversation(turns(), { mss: 1400 });
    const last = segs.filter((s) => s.turn === 9 && (s.payload?.length ?? 0) === 1400);
    expect(last.length).toBeGreaterThan(10);
    // Bytes 8400-9800 of the response: inside its second Send Body Chunk (8205-16397), so the
    // packet's length keeps frame sync.
    const dropped = last[6] as TimedSegment;
    segs.splice(segs.indexOf(dropped), 1);
    const r = await run(pcap(segs));
    expect(r.exchanges.map((x) => [x.request.uri, x.response.status, x.truncated ?? null])).toEqual([
      ['/one', 200, null],
      ['/upload', 201, null],
      ['/three', 200, { missingBytes: 1400, response: 'body' }],
    ]);
    const x = r.exchanges[2] as ExchangeEvent;
    expect(x.response.headers).toEqual([['Content-Type', 'text/plain']]);
    expect(x.response.body.length).toBeLessThan(bigResponse.length - 1400);
    expect(x.response.body.length).toBeGreaterThan(bigResponse.length - 8192);
    expect(x.timing.headersUs).not.toBeNull();
    expect(x.timing.endUs).toBeGreaterThan(x.timing.headersUs as number);
    expect(r.incomplete).toEqual([]);
  });

  it('snaplen truncation: every exchange named (method, URI, status), marked truncated with the bytes missing', async () => {
    // Link 14 + IPv4 20 + TCP 20 = 54 bytes of headers: each segment keeps its first 120 bytes of
    // payload. Each message is a write of its own, as Tomcat and mod_jk send them.
    const segs = conversation(frameTurns(turns()), { mss: 1400 });
    const r = await run(pcap(segs, { linkType: LINKTYPE.ETHERNET }, 54 + 120));
    expect(r.exchanges.map((x) => [x.request.method, x.request.uri, x.response.status])).toEqual([
      ['GET', '/one', 200],
      ['POST', '/upload', 201],
      ['GET', '/three', 200],
    ]);
    const cut = (s: TimedSegment): number => Math.max(0, (s.payload?.length ?? 0) - 120);
    // Which exchange each turn (one message) belongs to: a new one at each Forward Request.
    let n = -1;
    const exchangeOf = frameTurns(turns()).map((t) => (t.from === 'client' && t.bytes[4] === 0x02 ? ++n : n));
    const byExchange = [0, 0, 0];
    for (const s of segs) {
      const x = exchangeOf[s.turn];
      if (x !== undefined) byExchange[x] = (byExchange[x] ?? 0) + cut(s);
    }
    // Each exchange carries what its own messages lost: /one (short messages) nothing, /upload its body, /three its response.
    expect([byExchange[0], (byExchange[1] as number) > 0, (byExchange[2] as number) > 0]).toEqual([0, true, true]);
    expect(r.exchanges.map((x) => x.truncated?.missingBytes ?? 0)).toEqual(byExchange);
    expect(r.exchanges[1]?.truncated?.request).toBe('body');
    expect(r.exchanges[2]?.truncated?.response).toBe('body');
    expect(r.missing).toBe(segs.reduce((n, s) => n + cut(s), 0));
    expect(r.incomplete).toEqual([]);
  });

  it('snaplen inside the Forward Request: the URI keeps the characters captured, marked as the field cut', async () => {
    const long = { ...get('/a/rather/long/path/that/the/snaplen/cuts'), headers: [] };
    const t: Turn[] = [
      { from: 'client', bytes: Buffer.from(enc.forwardRequest(long)) },
      ...frameTurns([turns()[1] as Turn]),
    ];
    // 4 + 1 + 1 + 11 (protocol) + 2 + 10 of the URI's characters: 29 bytes of payload.
    const r = await run(pcap(conversation(t), { linkType: LINKTYPE.ETHERNET }, 54 + 29));
    expect(r.exchanges.map((x) => [x.request.method, x.request.protocol, x.request.uri, x.truncated?.request])).toEqual(
      [['GET', 'HTTP/1.1', '/a/rather/', 'uri']],
    );
    expect(r.exchanges[0]?.request.remoteAddr).toBeNull();
  });

  it('a capture that starts in mid-connection resynchronises on the first plausible frame', async () => {
    const segs = conversation(turns(), { mss: 300 });
    // Start inside the first response (no handshake, no first request, half a response).
    const startAt = segs.findIndex((s) => s.turn === 1) + 2;
    const r = await run(pcap(segs.slice(startAt)));
    expect(r.exchanges.map((x) => x.request.uri)).toEqual(['/upload', '/three']);
    expect(r.exchanges[0]?.request.body.sha256).toBe(sha(upload));
  });

  it('a reset in the middle of a response makes that exchange incomplete with reason reset', async () => {
    const t = turns().slice(0, 2);
    const cut: Turn[] = [t[0] as Turn, { from: 'server', bytes: (t[1] as Turn).bytes.subarray(0, 40) }];
    const r = await run(pcap(conversation(cut, { close: 'rst' })));
    expect(r.exchanges).toEqual([]);
    expect(r.incomplete.map((i) => [i.request?.uri, i.reason, i.status])).toEqual([['/one', 'reset', 200]]);
  });

  it('IPv6 over Linux cooked v2 (SLL2), in pcapng with two interfaces and nanosecond stamps', async () => {
    const segs = conversation(turns(), { ipVersion: 6, mss: 1200 });
    const sll2: LinkSpec = { linkType: LINKTYPE.LINUX_SLL2 };
    const file = writePcapng([
      {
        interfaces: [{ linkType: LINKTYPE.ETHERNET }, { linkType: LINKTYPE.LINUX_SLL2, tsresol: 9 }],
        blocks: segs.map((s) => ({
          kind: 'epb' as const,
          interfaceId: 1,
          timestampUs: s.timestampUs,
          data: tcpFrame(s, sll2),
        })),
      },
    ]);
    const r = await run(file);
    expectAllThree(r.exchanges);
    expect(r.exchanges[0]?.upstream).toBe('[2001:db8::2]:8009');
  });

  it('VLAN-tagged Ethernet and BSD loopback both decode the same', async () => {
    for (const link of [
      { linkType: LINKTYPE.ETHERNET, vlanTags: [{ vid: 42 }, { vid: 7 }] },
      { linkType: LINKTYPE.NULL },
      { linkType: LINKTYPE.RAW },
    ]) {
      const r = await run(pcap(conversation(turns()), link));
      expectAllThree(r.exchanges);
    }
  });

  it('--port auto finds the AJP flow and ignores a non-AJP one beside it', async () => {
    const ajp = conversation(turns(), { serverPort: 18009 });
    const http = conversation(
      [
        { from: 'client', bytes: Buffer.from('GET / HTTP/1.1\r\n\r\n') },
        { from: 'server', bytes: Buffer.from('HTTP/1.1 200 OK\r\n\r\n') },
      ],
      { serverPort: 80, clientPort: 50000 },
    );
    const merged = [...ajp, ...http].sort((a, b) => a.timestampUs - b.timestampUs);
    const r = await run(pcap(merged), 'auto');
    expectAllThree(r.exchanges);
    expect(new Set(r.exchanges.map((x) => x.upstream))).toEqual(new Set(['10.0.0.2:18009']));
  });
});

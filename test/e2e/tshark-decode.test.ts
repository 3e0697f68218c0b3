/**
 * Real traffic, real peers: requests through httpd's mod_jk and mod_proxy_ajp to two Tomcat 10.1
 * instances, captured with tcpdump, decoded by our codec and by tshark's AJP13 dissector, compared
 * field by field. Every real frame must also re-encode to exactly its captured bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AjpEncoder,
  ConversationDecoder,
  type AjpMessage,
  type AjpProtocolError,
  type Direction,
  type FrameInfo,
} from '../../src/protocol/index.js';
import { reassembleSegments } from '../lab/capture-streams.js';
import { labForTests, type LabState } from '../lab/lab.js';
import { expectedFields, fieldDifferences } from './support/dissector-view.js';
import { driveMixedTraffic, traceMismatches, type SentRequest } from '../lab/traffic.js';
import type { ExchangeEvent } from '../../src/trace/index.js';
import { importToEvents } from '../fixtures/import-trace.js';
import { captureClean } from '../lab/tcpdump.js';
import { tsharkAjpPdus, tsharkSegments, type TsharkPdu } from '../lab/tshark.js';

// Needs the capture tools too (the global setup only checks what the lab needs to run).
const lab = labForTests({ includeCapture: true, includeBrowser: false });

interface Decoded {
  stream: number;
  direction: Direction;
  msg: AjpMessage;
  info: FrameInfo;
  bytes: Buffer;
}

describe.skipIf(lab === undefined)('lab capture decodes as tshark decodes it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-e2e-'));
  const pcap = join(dir, 'lab.pcap');
  let sent: SentRequest[] = [];
  let ours: Decoded[] = [];
  let errors: AjpProtocolError[] = [];
  let theirs: TsharkPdu[] = [];

  beforeAll(async () => {
    const state = lab as LabState;
    const ajpPorts = [
      state.ports.tomcat1Ajp,
      state.ports.tomcat2Ajp,
      state.ports.tomcat1AjpSecret,
      state.ports.tomcat2AjpSecret,
    ];
    sent = await captureClean(pcap, ajpPorts, () => driveMixedTraffic(state));
    ({ ours, errors } = await decodeCapture(pcap, ajpPorts));
    theirs = await tsharkAjpPdus(pcap, ajpPorts);
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the traffic went through every AJP front end with the expected statuses', () => {
    expect(sent.length).toBeGreaterThanOrEqual(40);
    const byPath = (p: string) => sent.filter((s) => s.path.startsWith(p)).map((s) => s.status);
    expect(new Set(byPath((lab as LabState).paths.large))).toEqual(new Set([200]));
    expect(sent.filter((s) => s.method === 'POST').every((s) => s.status === 200)).toBe(true);
    expect(new Set(byPath(`${(lab as LabState).paths.status}?code=302`))).toEqual(new Set([302]));
  });

  it('our decoder reads every captured frame without an error', () => {
    expect(errors.map((e) => `${e.code} at ${e.offset}: ${e.message}`)).toEqual([]);
    const types = new Set(ours.map((d) => d.msg.type));
    for (const t of [
      'cping',
      'cpong',
      'forward-request',
      'body',
      'get-body-chunk',
      'send-headers',
      'send-body-chunk',
      'end-response',
    ]) {
      expect(types, `saw a ${t}`).toContain(t);
    }
  });

  it('tshark sees the same frames, stream by stream and direction by direction', () => {
    const key = (x: { stream: number; direction: Direction }) => `${x.stream}/${x.direction}`;
    const group = <T extends { stream: number; direction: Direction }>(xs: T[], label: (x: T) => string) =>
      xs.reduce((m, x) => m.set(key(x), [...(m.get(key(x)) ?? []), label(x)]), new Map<string, string[]>());
    const mine = group(ours, (d) => d.msg.type);
    const tshark = group(theirs, (p) => `#${p.frame}:${p.fields['ajp13.code']?.[0] ?? 'body'}`);
    // On a mismatch, show both sequences of the streams that differ, to tell whose reading is off.
    const differing = [...new Set([...mine.keys(), ...tshark.keys()])]
      .filter((k) => (mine.get(k)?.length ?? 0) !== (tshark.get(k)?.length ?? 0))
      .map((k) => `${k}: ours ${JSON.stringify(mine.get(k) ?? [])} tshark ${JSON.stringify(tshark.get(k) ?? [])}`);
    expect(differing).toEqual([]);
    expect(mine.size).toBeGreaterThan(10);
  });

  it('every field agrees with the tshark AJP13 dissector', () => {
    const queues = new Map<string, TsharkPdu[]>();
    for (const p of theirs)
      queues.set(`${p.stream}/${p.direction}`, [...(queues.get(`${p.stream}/${p.direction}`) ?? []), p]);
    const diffs: string[] = [];
    for (const d of ours) {
      const pdu = queues.get(`${d.stream}/${d.direction}`)?.shift();
      if (pdu === undefined) continue; // counted in the test above
      const magic = d.direction === 'to-container' ? '12:34' : '41:42';
      for (const diff of fieldDifferences(expectedFields(d.msg, d.info.length - 4, magic), pdu.fields)) {
        diffs.push(`stream ${d.stream} ${d.direction} frame ${pdu.frame} ${d.msg.type}: ${diff}`);
      }
    }
    expect(diffs).toEqual([]);
  });

  it('saw what real peers send: secret first, stored method, string-named Accept-Language from mod_jk, coded from mod_proxy_ajp', () => {
    const requests = ours.flatMap((d) => (d.msg.type === 'forward-request' ? [d.msg] : []));
    const secrets = requests.filter((r) => r.attributes[0]?.name === 'secret');
    expect(secrets.length).toBeGreaterThan(0);
    expect(
      secrets.every((r) => r.attributes[0]?.name === 'secret' && r.attributes[0].value === (lab as LabState).secret),
    ).toBe(true);
    expect(requests.some((r) => r.method === 'PATCH' && r.methodCode === 0xff)).toBe(true);
    const acceptLanguage = requests.flatMap((r) => r.headers.filter((h) => h.name.toLowerCase() === 'accept-language'));
    expect(acceptLanguage.some((h) => h.coded === false && h.name === 'Accept-Language')).toBe(true);
    expect(acceptLanguage.some((h) => h.coded === true && h.name === 'accept-language')).toBe(true);
  });

  it('ajpbench import of the same capture gives every exchange the client made, as it saw it', async () => {
    const state = lab as LabState;
    const ajpPorts = [
      state.ports.tomcat1Ajp,
      state.ports.tomcat2Ajp,
      state.ports.tomcat1AjpSecret,
      state.ports.tomcat2AjpSecret,
    ];
    const { events } = await importToEvents(pcap, ajpPorts);
    expect(
      traceMismatches(
        events.filter((e): e is ExchangeEvent => e.event === 'exchange'),
        sent,
      ),
    ).toEqual([]);
    expect(events.filter((e) => e.event === 'incomplete' || e.event === 'error')).toEqual([]);
  });

  it('every frame mod_jk, mod_proxy_ajp and Tomcat sent re-encodes to exactly its captured bytes', () => {
    const enc = new AjpEncoder();
    const mismatches = ours
      .filter((d) => !enc.encode(d.msg).equals(d.bytes))
      .map((d) => `${d.stream}/${d.direction}@${d.info.offset} ${d.msg.type}`);
    expect(mismatches).toEqual([]);
    expect(ours.length).toBeGreaterThan(200);
  });
});

/** Runs both directions of every captured connection through its own ConversationDecoder, in capture order. */
async function decodeCapture(
  pcap: string,
  ajpPorts: number[],
): Promise<{ ours: Decoded[]; errors: AjpProtocolError[] }> {
  const chunks = reassembleSegments(await tsharkSegments(pcap, ajpPorts));
  const ours: Decoded[] = [];
  const errors: AjpProtocolError[] = [];
  const conns = new Map<number, { decoder: ConversationDecoder; seen: Record<Direction, Buffer[]> }>();
  for (const chunk of chunks) {
    let c = conns.get(chunk.stream);
    if (c === undefined)
      conns.set(
        chunk.stream,
        (c = { decoder: new ConversationDecoder(), seen: { 'to-container': [], 'to-web-server': [] } }),
      );
    const conn = c;
    conn.seen[chunk.direction].push(chunk.data);
    conn.decoder.push(chunk.direction, chunk.data, {
      message: (msg, info) => {
        const all = Buffer.concat(conn.seen[info.direction]);
        ours.push({
          stream: chunk.stream,
          direction: info.direction,
          msg,
          info,
          bytes: all.subarray(info.offset, info.offset + info.length),
        });
      },
      error: (e) => errors.push(e),
    });
  }
  for (const c of conns.values()) c.decoder.end({ message: () => undefined, error: (e) => errors.push(e) });
  return { ours, errors };
}

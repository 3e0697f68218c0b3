/**
 * `--port auto` in constant memory: its tables of non-AJP and undecided endpoint pairs are bounded
 * (the oldest forgotten), and AJP connections are still found among any number of other flows.
 */
import { describe, expect, it } from 'vitest';
import type { TcpSegment } from '../../../src/capture/capture-types.js';
import { FlowTable } from '../../../src/capture/flow-table.js';
import type { TraceEvent } from '../../../src/trace/index.js';

function segment(srcPort: number, dstPort: number, payload: Buffer, syn = false): TcpSegment {
  return {
    timestampUs: 1_700_000_000_000_000,
    ipVersion: 4,
    src: '10.0.0.1',
    srcPort,
    dst: '10.0.0.2',
    dstPort,
    seq: 1000,
    ack: 0,
    flags: { syn, ack: !syn, fin: false, rst: false, psh: payload.length > 0 },
    payload,
    missingBytes: 0,
  };
}

function table(limit: number): { t: FlowTable; events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  let id = 0;
  const t = new FlowTable(
    {
      options: { redact: true, bodies: 'none', maxBody: 0 },
      startUs: 1_700_000_000_000_000,
      nextId: () => ++id,
      emit: (e) => events.push(e),
    },
    { ports: 'auto', autoPairLimit: limit },
  );
  return { t, events };
}

describe('FlowTable --port auto memory', () => {
  it('remembers at most the limit of non-AJP pairs and of pairs waiting for a payload, and still finds AJP', () => {
    const { t, events } = table(100);
    let most = 0;
    for (let i = 0; i < 20_000; i++) {
      const port = 1024 + (i % 60_000);
      t.segment(segment(port, 80, Buffer.alloc(0), true)); // a handshake: held until a payload decides
      if (i % 2 === 0) t.segment(segment(port, 80, Buffer.from('GET / HTTP/1.1\r\n\r\n'))); // then not AJP
      most = Math.max(most, t.autoPairs);
    }
    expect(most).toBeLessThanOrEqual(200);
    expect(t.stats.flows).toBe(0);
    // An AJP connection among them: its first payload is a CPing (12 34 00 01 0a).
    t.segment(segment(40_000, 18_009, Buffer.from('123400010a', 'hex')));
    expect(t.stats.flows).toBe(1);
    expect(events.filter((e) => e.event === 'connection').length).toBe(1);
  });

  it('a forgotten non-AJP pair seen again is judged again by its payload, not taken for AJP', () => {
    const { t } = table(2);
    for (const port of [5000, 5001, 5002]) t.segment(segment(port, 80, Buffer.from('HTTP')));
    const ignored = t.stats.ignoredSegments;
    t.segment(segment(5000, 80, Buffer.from('more')));
    expect(t.stats.flows).toBe(0);
    expect(t.stats.ignoredSegments).toBe(ignored + 1);
  });
});

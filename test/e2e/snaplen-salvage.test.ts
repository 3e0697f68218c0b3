/**
 * Salvage on real captures: the lab's mixed traffic (mod_jk and mod_proxy_ajp to two Tomcats)
 * captured by tcpdump with a small snaplen (-s 200, -s 96), as operators often do, imported and
 * checked against what the client sent. At -s 200 every request is named with its exact method
 * and URI; at -s 96 (30 bytes of AJP a packet on loopback) every request is there with its status,
 * its method (but a stored one) and the characters of its URI that were captured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../../src/trace/index.js';
import { importToEvents, type ImportedTrace } from '../fixtures/import-trace.js';
import { salvageMismatches } from '../fixtures/salvage-check.js';
import { labForTests, type LabState } from '../lab/lab.js';
import { captureClean } from '../lab/tcpdump.js';
import { driveMixedTraffic, type SentRequest } from '../lab/traffic.js';

const lab = labForTests({ includeCapture: true, includeBrowser: false });

describe.skipIf(lab === undefined).each([200, 96])('a lab capture at tcpdump -s %i', (snaplen) => {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-snaplen-'));
  const pcap = join(dir, `lab-s${snaplen}.pcap`);
  let sent: SentRequest[] = [];
  let imported: ImportedTrace;
  let exchanges: ExchangeEvent[] = [];

  beforeAll(async () => {
    const state = lab as LabState;
    const ajpPorts = [
      state.ports.tomcat1Ajp,
      state.ports.tomcat2Ajp,
      state.ports.tomcat1AjpSecret,
      state.ports.tomcat2AjpSecret,
    ];
    sent = await captureClean(pcap, ajpPorts, () => driveMixedTraffic(state), 3, snaplen);
    imported = await importToEvents(pcap, ajpPorts);
    exchanges = imported.events.filter((e): e is ExchangeEvent => e.event === 'exchange');
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the snaplen cut the capture: bytes are missing', () => {
    expect(sent.length).toBeGreaterThanOrEqual(40);
    expect(imported.summary.missingBytes).toBeGreaterThan(10_000);
  });

  it('every request the client sent is an exchange, in order, with what was captured of it exact', () => {
    expect(salvageMismatches(exchanges, sent)).toEqual([]);
    expect(imported.summary).toMatchObject({ incomplete: 0, errors: 0 });
    expect(exchanges.map((x) => x.response.status)).toEqual(sent.map((s) => s.status));
    // Every exchange that lost bytes says so, and they add up to what the capture lacks.
    expect(exchanges.reduce((n, x) => n + (x.truncated?.missingBytes ?? 0), 0)).toBe(imported.summary.missingBytes);
  });

  if (snaplen === 200)
    it('-s 200: every method and URI exact', () => {
      expect(exchanges.map((x) => [x.request.method, x.request.uri])).toEqual(
        sent.map((s) => [s.method, s.path.split('?')[0]]),
      );
    });
  else
    it('-s 96: methods exact but the stored PATCH, URIs a captured prefix at least 8 characters long', () => {
      expect(exchanges.filter((x, i) => x.request.method !== sent[i]?.method).map((x) => x.request.method)).toEqual(
        sent.filter((s) => s.method === 'PATCH').map(() => ''),
      );
      for (const [i, x] of exchanges.entries()) {
        const path = sent[i]?.path.split('?')[0] ?? '';
        expect(path.startsWith(x.request.uri ?? '\0'), `${x.request.uri} of ${path}`).toBe(true);
        expect((x.request.uri ?? '').length).toBeGreaterThanOrEqual(Math.min(8, path.length));
      }
    });
});

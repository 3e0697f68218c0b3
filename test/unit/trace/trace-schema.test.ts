/**
 * docs/trace-format.schema.json describes what ajpbench really writes: every line of traces
 * imported from the lab captures (clean, damaged, with and without redaction and bodies)
 * validates, and the schema rejects what the format forbids.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { importToEvents } from '../../fixtures/import-trace.js';

const root = join(import.meta.dirname, '../../..');
const schema = JSON.parse(readFileSync(join(root, 'docs/trace-format.schema.json'), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ allErrors: true, strict: false }).addSchema(schema);
const validateHeader = ajv.compile({ $ref: `${schema.$id}#/$defs/header` });
const validateEvent = ajv.compile({ $ref: `${schema.$id}#/$defs/event` });

const ports = [28009, 29009, 28109, 29109];

describe('trace JSON Schema', () => {
  for (const [capture, options] of [
    ['lab-mixed.pcap', {}],
    ['lab-mixed.pcap', { redact: false, bodies: 'all' as const, maxBody: 100 }],
    ['lab-dropped-packets.pcap', { bodies: 'none' as const }],
    ['lab-mixed-s200.pcap', { bodies: 'all' as const }],
    ['lab-mixed-s96.pcap', {}],
  ] as const) {
    it(`validates every line of an import of ${capture} with ${JSON.stringify(options)}`, async () => {
      const { header, events } = await importToEvents(join(root, 'captures', capture), ports, options);
      expect(validateHeader(header), JSON.stringify(validateHeader.errors)).toBe(true);
      const kinds = new Set<string>();
      for (const e of events) {
        kinds.add(e.event);
        expect(validateEvent(e), `${JSON.stringify(e).slice(0, 200)}: ${JSON.stringify(validateEvent.errors)}`).toBe(
          true,
        );
      }
      expect(kinds).toContain('exchange');
    });
  }

  it('rejects a newer major version, an unknown event and a secret attribute', () => {
    expect(validateHeader({ format: 'ajpbench-trace', version: 2 })).toBe(false);
    expect(validateEvent({ event: 'telemetry', t: 1 })).toBe(false);
    const exchangeWithSecret = {
      event: 'exchange',
      id: 1,
      conn: 1,
      t: 0,
      upstream: '127.0.0.1:8009',
      route: null,
      routeSource: null,
      bodyRequests: 0,
      timing: { headersUs: 1, endUs: 2 },
      request: {
        method: 'GET',
        protocol: 'HTTP/1.1',
        uri: '/',
        query: null,
        remoteAddr: null,
        remoteHost: null,
        serverName: null,
        serverPort: 80,
        isSsl: false,
        headers: [],
        attributes: { secret: 'x' },
        reqAttributes: [],
        body: { length: 0, sha256: '0'.repeat(64) },
      },
      response: { status: 200, message: '200', headers: [], body: { length: 0, sha256: '0'.repeat(64) }, reuse: true },
    };
    expect(validateEvent(exchangeWithSecret)).toBe(false);
    expect(validateEvent({ ...exchangeWithSecret, request: { ...exchangeWithSecret.request, attributes: {} } })).toBe(
      true,
    );
  });
});

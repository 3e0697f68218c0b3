/** `ajpbench audit`'s checks against the stub container and small hand-made connectors: every finding both ways. */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../../src/errors.js';
import { probeAjp } from '../../../src/load/ajp-probe.js';
import { StubContainer, type StubOptions } from '../../../src/load/stub-container.js';
import {
  AjpEncoder,
  CPONG_FRAME,
  END_RESPONSE_CLOSE_FRAME,
  END_RESPONSE_REUSE_FRAME,
  FrameDecoder,
  MessageCode,
} from '../../../src/protocol/index.js';
import { renderAuditTable } from '../../../src/report/audit-table.js';
import { PAD_HEADER } from '../../../src/verdict/audit-requests.js';
import {
  auditJUnit,
  failingFindings,
  isLoopback,
  runAudit,
  type AuditCheckId,
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
} from '../../../src/verdict/audit.js';
import { renderJUnit } from '../../../src/verdict/junit.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function stub(opts: Partial<StubOptions> = {}): Promise<number> {
  const s = await StubContainer.start({
    listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }],
    ...opts,
  });
  closers.push(() => s.close());
  return (s.listeners[0] as { port: number }).port;
}

/** A connector made by hand: CPong to CPing (unless `cpong` is false), `answer` to every Forward Request. */
async function fakeConnector(answer: Buffer | null, cpong = true): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    const dec = new FrameDecoder({ direction: 'to-container', maxPacketSize: 65536, onInvalid: 'stop' });
    socket.on('data', (chunk: Buffer) =>
      dec.push(chunk, {
        frame(payload) {
          if (payload[0] === MessageCode.CPing) {
            if (cpong) socket.write(CPONG_FRAME);
          } else if (answer !== null) socket.write(answer);
        },
        error() {
          socket.destroy();
        },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as { port: number }).port;
}

function response(status: number, reuse: boolean, headers: { name: string; value: string }[] = []): Buffer {
  const enc = new AjpEncoder();
  return Buffer.concat([
    enc.sendHeaders({ status, message: String(status), headers }),
    reuse ? END_RESPONSE_REUSE_FRAME : END_RESPONSE_CLOSE_FRAME,
  ]);
}

function audit(port: number, over: Partial<AuditOptions> = {}): Promise<AuditReport> {
  return runAudit({ host: '127.0.0.1', port, uri: '/', timeoutMs: 3000, ...over });
}

function finding(r: AuditReport, id: AuditCheckId): AuditFinding {
  const f = r.findings.find((x) => x.id === id);
  if (f === undefined) throw new Error(`no ${id} finding in ${JSON.stringify(r.findings)}`);
  return f;
}

const SECURE: Partial<StubOptions> = { secret: 's3cr3t', refuseUnknownAttributes: true };

describe('audit against the stub container', () => {
  it('a secured connector with the right secret: every check passes, nothing fails', async () => {
    const r = await audit(await stub(SECURE), { secret: 's3cr3t' });
    expect(r.findings.map((f) => [f.id, f.result])).toEqual([
      ['cping', 'pass'],
      ['secret-required', 'pass'],
      ['secret-accepted', 'pass'],
      ['request-attributes', 'pass'],
      ['packet-size', 'info'],
      ['jvm-route', 'info'],
      ['address', 'pass'],
    ]);
    expect(failingFindings(r, 'low')).toEqual([]);
    expect(finding(r, 'jvm-route').detail).toBe('tomcat1');
    // The stub's packet size is 8192: the first padded probe is refused (a close), nothing larger is sent.
    expect(finding(r, 'packet-size').detail).toMatch(
      /accepts at most 8192 bytes .* refuses a 8193-byte Forward Request/,
    );
    expect(finding(r, 'packet-size').fix).toMatch(/packetSize="65536"/);
    expect(r.probes.map((p) => p.name)).toEqual([
      'cping',
      'no-secret',
      'with-secret',
      'unknown-attribute',
      'packet-8193',
    ]);
    expect(r.address).toBe('127.0.0.1');
  });

  it('says exactly what it sent: sizes on the wire, the fields, the secret never shown', async () => {
    const r = await audit(await stub(SECURE), { secret: 's3cr3t', uri: '/x' });
    expect(r.probes[0]?.sent).toEqual({ message: 'cping', bytes: 5 });
    const bare = r.probes[1]?.sent;
    expect(bare?.uri).toBe('/x');
    expect(bare?.attributes).toEqual([]);
    expect(r.probes[2]?.sent.attributes).toEqual([{ name: 'secret', value: '<the --secret given>' }]);
    expect(r.probes[3]?.sent.attributes?.[1]).toEqual({ name: 'req_attribute ajpbench.audit', value: 'probe' });
    const padded = r.probes[4]?.sent;
    expect(padded?.bytes).toBe(8193);
    expect(padded?.headers?.find((h) => h.name === PAD_HEADER)?.value).toMatch(/^<\d+ bytes of "a">$/);
    const text = renderAuditTable(r);
    expect(text).not.toContain('s3cr3t');
    expect(text).toMatch(/1\. cping\s+CPing \(5 bytes\)/);
    expect(text).toMatch(/no-secret\s+Forward Request GET \/x HTTP\/1\.1, headers host, user-agent, no attributes/);
    expect(text).toMatch(/-> 403, reuse=0: the connector closes/);
  });

  it('a connector without a secret and without an attribute check: two high findings', async () => {
    const r = await audit(await stub());
    expect(finding(r, 'secret-required')).toMatchObject({ result: 'fail', severity: 'high' });
    expect(finding(r, 'secret-required').fix).toMatch(/secretRequired="true" secret=/);
    expect(finding(r, 'request-attributes')).toMatchObject({ result: 'fail', severity: 'high' });
    expect(finding(r, 'request-attributes').fix).toMatch(/allowedRequestAttributesPattern/);
    expect(failingFindings(r, 'high').map((f) => f.id)).toEqual(['secret-required', 'request-attributes']);
    expect(r.findings.some((f) => f.id === 'secret-accepted')).toBe(false);
  });

  it('no secret required but unknown attributes refused: only the secret finding', async () => {
    const r = await audit(await stub({ refuseUnknownAttributes: true }));
    expect(finding(r, 'secret-required').result).toBe('fail');
    expect(finding(r, 'request-attributes').result).toBe('pass');
  });

  it('a secret connector with a permissive attribute pattern: a medium finding (the secret still guards it)', async () => {
    const port = await stub({ ...SECURE, allowedRequestAttributesPattern: /.*/ });
    const r = await audit(port, { secret: 's3cr3t' });
    expect(finding(r, 'request-attributes')).toMatchObject({ result: 'fail', severity: 'medium' });
    expect(failingFindings(r, 'high')).toEqual([]);
    expect(failingFindings(r, 'medium').map((f) => f.id)).toEqual(['request-attributes']);
  });

  it('the pattern must match the whole name, as Tomcat matches it', async () => {
    const r = await audit(await stub({ ...SECURE, allowedRequestAttributesPattern: /ajpbench/ }), {
      secret: 's3cr3t',
    });
    expect(finding(r, 'request-attributes').result).toBe('pass');
  });

  it('a secret connector audited without --secret: the attribute check cannot be asked, the packet size still can', async () => {
    const r = await audit(await stub(SECURE));
    expect(finding(r, 'secret-required').result).toBe('pass');
    expect(finding(r, 'request-attributes')).toMatchObject({ result: 'unknown' });
    expect(finding(r, 'request-attributes').detail).toMatch(/give --secret/);
    expect(r.probes.map((p) => p.name)).not.toContain('unknown-attribute');
    expect(finding(r, 'packet-size').detail).toMatch(/refuses a 8193-byte/);
    // The 403 refusals carry no session cookie.
    expect(finding(r, 'jvm-route').result).toBe('unknown');
    expect(failingFindings(r, 'low')).toEqual([]);
  });

  it('a wrong secret: a high finding, and the attribute check is not asked', async () => {
    const r = await audit(await stub(SECURE), { secret: 'wrong' });
    expect(finding(r, 'secret-accepted')).toMatchObject({ result: 'fail', severity: 'high' });
    expect(finding(r, 'request-attributes').result).toBe('unknown');
    expect(finding(r, 'request-attributes').detail).toMatch(/the one given is refused/);
  });

  it('a secret given to a connector that requires none: accepted, and the detail says any secret is', async () => {
    const r = await audit(await stub({ refuseUnknownAttributes: true }), { secret: 'x' });
    expect(finding(r, 'secret-accepted').result).toBe('pass');
    expect(finding(r, 'secret-accepted').detail).toMatch(/does not require it/);
    expect(finding(r, 'secret-required').result).toBe('fail');
  });

  it.each([
    [
      16384,
      'accepts 16384 bytes; refuses a 32768-byte Forward Request',
      ['packet-8193', 'packet-16384', 'packet-32768'],
    ],
    [
      65536,
      'accepts 65536-byte Forward Requests (the AJP maximum)',
      ['packet-8193', 'packet-16384', 'packet-32768', 'packet-65536'],
    ],
  ])('packet size %i: the larger probes until one is refused', async (size, detail, names) => {
    const r = await audit(await stub({ ...SECURE, maxPacketSize: size }), { secret: 's3cr3t' });
    expect(finding(r, 'packet-size').detail).toContain(detail);
    expect(finding(r, 'packet-size').fix).toBeUndefined();
    expect(r.probes.filter((p) => p.name.startsWith('packet-')).map((p) => p.name)).toEqual(names);
    expect(r.probes.filter((p) => p.name.startsWith('packet-')).map((p) => p.sent.bytes)).toEqual(
      names.map((n) => Number(n.slice(7))),
    );
  });

  it('a route-less session cookie: jvmRoute none, with the Engine fix', async () => {
    const port = await StubContainer.start({
      listen: [{ host: '127.0.0.1', port: 0, route: '', protocol: 'ajp' }],
    }).then((s) => {
      closers.push(() => s.close());
      return (s.listeners[0] as { port: number }).port;
    });
    const r = await audit(port);
    expect(finding(r, 'jvm-route')).toMatchObject({ result: 'info', detail: expect.stringMatching(/^none/) as string });
    expect(finding(r, 'jvm-route').fix).toMatch(/jvmRoute="NAME" on the <Engine>/);
  });
});

describe("the stub's attribute check (refuseUnknownAttributes), as Tomcat's AjpProcessor", () => {
  const enc = new AjpEncoder();
  const withAttributes = (keys: string[]): Buffer =>
    Buffer.from(
      enc.forwardRequest({
        type: 'forward-request',
        method: 'GET',
        protocol: 'HTTP/1.1',
        uri: '/',
        remoteAddr: '127.0.0.1',
        remoteHost: null,
        serverName: 'localhost',
        serverPort: 80,
        isSsl: false,
        headers: [],
        attributes: keys.map((key) => ({ name: 'req_attribute' as const, key, value: '1' })),
      }),
    );
  const statusOf = async (port: number, keys: string[]): Promise<[number, boolean] | string> => {
    const o = await probeAjp({ host: '127.0.0.1', port, timeoutMs: 3000 }, withAttributes(keys));
    return o.kind === 'response' ? [o.status, o.reuse] : o.kind;
  };

  it('names Tomcat recognises pass, any other gets 403 and reuse=0; off by default', async () => {
    const strict = await stub({ refuseUnknownAttributes: true });
    expect(await statusOf(strict, ['AJP_REMOTE_PORT', 'AJP_LOCAL_ADDR', 'JK_LB_ACTIVATION'])).toEqual([200, true]);
    expect(await statusOf(strict, ['AJP_REMOTE_PORT', 'javax.servlet.include.request_uri'])).toEqual([403, false]);
    expect(await statusOf(await stub(), ['javax.servlet.include.request_uri'])).toEqual([200, true]);
  });

  it('allowedRequestAttributesPattern lets through only the names it matches whole', async () => {
    const port = await stub({ refuseUnknownAttributes: true, allowedRequestAttributesPattern: /MY_.*/ });
    expect(await statusOf(port, ['MY_VAR'])).toEqual([200, true]);
    expect(await statusOf(port, ['X_MY_VAR'])).toEqual([403, false]);
  });
});

describe('audit against hand-made connectors', () => {
  it('no session cookie at all: jvmRoute unknown, and the detail says to give a --uri that creates one', async () => {
    const r = await audit(await fakeConnector(response(404, true)));
    expect(finding(r, 'jvm-route')).toMatchObject({ result: 'unknown' });
    expect(finding(r, 'jvm-route').detail).toMatch(/--uri/);
  });

  it("an application's 403 (connection kept) is not a refusal by the connector", async () => {
    const r = await audit(await fakeConnector(response(403, true)));
    expect(finding(r, 'secret-required')).toMatchObject({ result: 'fail', severity: 'high' });
  });

  // Tomcat 10.1 was seen answering an oversized packet with 400 and, on the same connector later,
  // with 500: either, with the connection closed (reuse=0), is the connector refusing it.
  it.each([400, 500])("Tomcat's %i and a close for an oversized packet reads as refused", async (status) => {
    // 403 + close for the bare request would hide the rest; answer 200 below 8 KiB and `status` above it.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', (chunk: Buffer) => {
        const length = chunk.readUInt16BE(2) + 4;
        if (chunk[4] === MessageCode.CPing) socket.write(CPONG_FRAME);
        else socket.end(length > 8192 ? response(status, false) : response(200, true));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const r = await audit((server.address() as { port: number }).port);
    expect(finding(r, 'packet-size').detail).toMatch(
      new RegExp(`refuses a 8193-byte Forward Request \\(${status}, reuse=0: the connector closes\\)`),
    );
  });

  it('a port that does not answer CPing: a high finding, and nothing else is asked', async () => {
    const r = await audit(await fakeConnector(null, false), { timeoutMs: 300 });
    expect(finding(r, 'cping')).toMatchObject({ result: 'fail', severity: 'high' });
    expect(finding(r, 'cping').detail).toMatch(/no answer within 300 ms/);
    expect(r.probes.map((p) => p.name)).toEqual(['cping']);
    expect(finding(r, 'secret-required').result).toBe('unknown');
    expect(finding(r, 'address').result).toBe('pass');
  });

  it('an HTTP port: the answer to the CPing is not AJP, a high finding', async () => {
    const s = await StubContainer.start({ listen: [{ host: '127.0.0.1', port: 0, route: 'x', protocol: 'http' }] });
    closers.push(() => s.close());
    const r = await audit((s.listeners[0] as { port: number }).port);
    expect(finding(r, 'cping')).toMatchObject({ result: 'fail', severity: 'high' });
    expect(finding(r, 'cping').detail).toMatch(/no CPong: not an AJP answer \(AJP_ERR_/);
    expect(r.probes).toHaveLength(1);
  });

  it('an unreachable target is a RuntimeError AJPBENCH_ERR_BACKEND, not a finding', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const e: unknown = await audit(port).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RuntimeError);
    expect((e as RuntimeError).code).toBe('AJPBENCH_ERR_BACKEND');
    expect((e as RuntimeError).message).toMatch(/cannot reach ajp:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });
});

describe('address', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.5', false],
    ['192.168.1.10', false],
    ['::ffff:10.0.0.5', false],
    ['fe80::1', false],
  ])('%s loopback: %s', (a, loop) => {
    expect(isLoopback(a)).toBe(loop);
  });

  // The address is what the socket connected to; a probe that reports another one stands for a remote connector.
  const elsewhere: AuditOptions['probe'] = async (t, frame) => {
    const o = await probeAjp(t, frame);
    return o.kind === 'connect-failed' ? o : { ...o, remoteAddress: '10.0.0.5' };
  };

  it('a non-loopback address: low with a secret required, medium without', async () => {
    const secure = await audit(await stub(SECURE), { secret: 's3cr3t', probe: elsewhere });
    expect(finding(secure, 'address')).toMatchObject({ result: 'fail', severity: 'low' });
    expect(finding(secure, 'address').fix).toMatch(/address="127\.0\.0\.1"/);
    const open = await audit(await stub(), { probe: elsewhere });
    expect(finding(open, 'address')).toMatchObject({ result: 'fail', severity: 'medium' });
  });
});

describe('JUnit', () => {
  it('one case per finding: a failure at or above --fail-on, skipped when unknown', async () => {
    const r = await audit(await fakeConnector(response(200, true)));
    const xml = renderJUnit([auditJUnit(r, 'high', 'TABLE')]);
    expect(xml).toMatch(
      /<testsuite name="ajpbench audit ajp:\/\/127\.0\.0\.1:\d+" tests="6" failures="2" errors="0" skipped="1"/,
    );
    expect(xml).toContain('<testcase name="secret-required: requires a secret" classname="ajpbench.audit"');
    expect(xml).toMatch(/<failure message="high: a Forward Request without secret was accepted/);
    expect(xml).toContain('type="audit.high"');
    expect(xml).toMatch(/<skipped message="unknown: \/ set no session cookie/);
    expect(xml).toContain('<system-out>TABLE</system-out>');
  });
});

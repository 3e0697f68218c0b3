/**
 * `ajpbench audit` against Tomcat 10.1's real AJP connectors in the lab, through the built binary:
 * tomcat1's connector without secret (a high finding), its secret connector with and without
 * --secret, and the connector configured insecurely on purpose (no secret,
 * allowedRequestAttributesPattern=".*", packetSize="65536"), so that every finding shows both ways.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditCheckId, AuditFinding, AuditReport } from '../../src/verdict/audit.js';
import { labForTests, type LabState } from '../lab/lab.js';
import { runCli } from '../fixtures/run-cli.js';

const lab = labForTests();
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-audit-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const run = (args: string[]): Promise<Run> => runCli(['audit', ...args]);

async function audit(port: number, args: string[] = []): Promise<{ r: Run; report: AuditReport }> {
  const r = await run([`ajp://127.0.0.1:${port}`, '--json', ...args]);
  expect(r.stderr).toBe('');
  return { r, report: JSON.parse(r.stdout) as AuditReport };
}

function finding(report: AuditReport, id: AuditCheckId): AuditFinding {
  const f = report.findings.find((x) => x.id === id);
  if (f === undefined) throw new Error(`no ${id} finding in ${JSON.stringify(report.findings)}`);
  return f;
}

describe.skipIf(lab === undefined)('ajpbench audit against the real-peer lab', () => {
  const state = lab as LabState;
  const t1 = state?.tomcats.tomcat1;
  const session = `${state?.contextPath}/session.jsp`;

  it("tomcat1's connector without secret: a high finding (exit 1); attributes refused; 8 KiB packets; the jvmRoute", async () => {
    const { r, report } = await audit(t1.ajpPort, ['--uri', session]);
    expect(r.code).toBe(1);
    expect(finding(report, 'cping').result).toBe('pass');
    expect(finding(report, 'secret-required')).toMatchObject({ result: 'fail', severity: 'high' });
    // Tomcat 10.1's default allowedRequestAttributesPattern (none): the unrecognised attribute gets 403 and a close.
    expect(finding(report, 'request-attributes').result).toBe('pass');
    const attr = report.probes.find((p) => p.name === 'unknown-attribute');
    expect(attr?.outcome).toMatchObject({ kind: 'response', status: 403, reuse: false });
    // packetSize 8192 (the default): Tomcat refuses the 8193-byte Forward Request.
    expect(finding(report, 'packet-size').detail).toMatch(/at most 8192 bytes .*refuses a 8193-byte/);
    expect(finding(report, 'jvm-route')).toMatchObject({ result: 'info', detail: 'tomcat1' });
    expect(finding(report, 'address').result).toBe('pass');
  });

  it('the default URI / creates no session on the lab Tomcat: the jvmRoute is unknown, said so', async () => {
    const { report } = await audit(t1.ajpPort);
    expect(finding(report, 'jvm-route').result).toBe('unknown');
    expect(report.probes.every((p) => p.sent.message === 'cping' || p.sent.uri === '/')).toBe(true);
  });

  it('the secret connector without --secret: secret required (no finding, exit 0); the attribute check not asked', async () => {
    const { r, report } = await audit(t1.ajpSecretPort);
    expect(r.code).toBe(0);
    expect(finding(report, 'secret-required').result).toBe('pass');
    expect(report.probes.find((p) => p.name === 'no-secret')?.outcome).toMatchObject({ status: 403, reuse: false });
    expect(finding(report, 'request-attributes').result).toBe('unknown');
    // The size probes need no secret: a refused secret still reads the whole packet first.
    expect(finding(report, 'packet-size').detail).toMatch(/refuses a 8193-byte/);
  });

  it('the secret connector with the lab secret: accepted, attributes refused, route seen, nothing found (exit 0)', async () => {
    const junit = join(dir, 'secret.xml');
    const { r, report } = await audit(t1.ajpSecretPort, [
      '--secret',
      state.secret,
      '--uri',
      session,
      '--junit',
      junit,
      '--fail-on',
      'low',
    ]);
    expect(r.code).toBe(0);
    expect(report.findings.filter((f) => f.result === 'fail')).toEqual([]);
    expect(finding(report, 'secret-accepted').result).toBe('pass');
    expect(finding(report, 'request-attributes').result).toBe('pass');
    expect(finding(report, 'jvm-route').detail).toBe('tomcat1');
    expect(r.stdout).not.toContain(state.secret);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/tests="7" failures="0"/);
    expect(xml).not.toContain(state.secret);
  });

  it('the secret connector with a wrong secret: a high finding', async () => {
    const { r, report } = await audit(t1.ajpSecretPort, ['--secret', 'not-the-secret']);
    expect(r.code).toBe(1);
    expect(finding(report, 'secret-accepted')).toMatchObject({ result: 'fail', severity: 'high' });
  });

  it('the insecure connector: no secret (high) and the unrecognised attribute accepted (high); 64 KiB packets accepted', async () => {
    const port = state.config.ports.tomcat1AjpInsecure;
    const { r, report } = await audit(port, ['--uri', session]);
    expect(r.code).toBe(1);
    expect(finding(report, 'secret-required')).toMatchObject({ result: 'fail', severity: 'high' });
    expect(finding(report, 'request-attributes')).toMatchObject({ result: 'fail', severity: 'high' });
    expect(report.probes.find((p) => p.name === 'unknown-attribute')?.outcome).toMatchObject({
      kind: 'response',
      status: 200,
    });
    expect(finding(report, 'packet-size').detail).toBe('accepts 65536-byte Forward Requests (the AJP maximum)');
    expect(report.probes.filter((p) => p.name.startsWith('packet-')).map((p) => p.sent.bytes)).toEqual([
      8193, 16384, 32768, 65536,
    ]);
  });

  it('the table names the fixes; an unreachable port exits 3', async () => {
    const t = await run([`ajp://127.0.0.1:${t1.ajpPort}`]);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/secret-required \(high\): secretRequired="true" secret="\.\.\."/);
    // A port just freed: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const free = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const dead = await run([`ajp://127.0.0.1:${free}`]);
    expect(dead.code).toBe(3);
    expect(dead.stderr).toMatch(/^ajpbench: cannot reach ajp:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n$/);
  });
});

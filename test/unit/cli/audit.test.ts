/** `ajpbench audit` through the built binary (run `npx tsc` first): exit codes by --fail-on, --json, --junit, usage errors, an unreachable target. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubContainer } from '../../../src/load/stub-container.js';
import type { AuditReport } from '../../../src/verdict/audit.js';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-audit-'));
const stubs: StubContainer[] = [];
let open: string; // no secret, any attribute: two high findings
let guarded: string; // secret required, any attribute allowed: one medium finding with the secret
let closedPort: number;

async function start(opts: Partial<Parameters<typeof StubContainer.start>[0]>): Promise<string> {
  const s = await StubContainer.start({
    listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }],
    ...opts,
  });
  stubs.push(s);
  return `ajp://${s.listeners[0]?.address ?? ''}`;
}

beforeAll(async () => {
  open = await start({});
  guarded = await start({ secret: 'k3y', refuseUnknownAttributes: true, allowedRequestAttributesPattern: /.*/ });
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closedPort = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runCli(['audit', ...args], { env, timeoutMs: 30_000 });

describe('ajpbench audit', () => {
  it('exit 1 on a high finding (the default --fail-on), with the table and the fixes', async () => {
    const r = await run([open]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/secret-required: requires a secret\s*│ FINDING │ high/);
    expect(r.stdout).toContain('Fixes (server.xml):');
    expect(r.stdout).toMatch(/Sent to ajp:\/\/127\.0\.0\.1:\d+ \(connected to 127\.0\.0\.1\)/);
    expect(r.stderr).toBe('');
  });

  it('a medium finding: exit 0 with --fail-on high, exit 1 with --fail-on medium', async () => {
    expect((await run([guarded, '--secret', 'k3y'])).code).toBe(0);
    expect((await run([guarded, '--secret', 'k3y', '--fail-on', 'medium'])).code).toBe(1);
    expect((await run([guarded, '--secret', 'k3y', '--fail-on', 'low'])).code).toBe(1);
  });

  it('the secret comes from $AJP_SECRET when --secret is not given, and is never printed', async () => {
    const r = await run([guarded, '--fail-on', 'medium'], { AJP_SECRET: 'k3y' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/secret-accepted: accepts the given\s+│ ok/);
    expect(r.stdout).not.toContain('k3y');
  });

  it('--json: the whole report, the findings and every message sent', async () => {
    const r = await run([open, '--json', '--uri', '/health']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as AuditReport & { failOn: string };
    expect(j.failOn).toBe('high');
    expect(j.uri).toBe('/health');
    expect(j.findings.find((f) => f.id === 'secret-required')).toMatchObject({ result: 'fail', severity: 'high' });
    expect(j.probes.map((p) => p.name).slice(0, 3)).toEqual(['cping', 'no-secret', 'unknown-attribute']);
    expect(j.probes.every((p) => p.sent.message === 'cping' || p.sent.uri === '/health')).toBe(true);
  });

  it('--junit writes one test case per check', async () => {
    const file = join(dir, 'audit.xml');
    const r = await run([guarded, '--secret', 'k3y', '--junit', file, '--fail-on', 'medium']);
    expect(r.code).toBe(1);
    const xml = readFileSync(file, 'utf8');
    expect(xml).toMatch(/<testsuite name="ajpbench audit ajp:\/\/127\.0\.0\.1:\d+" tests="7" failures="1"/);
    expect(xml).toContain('type="audit.medium"');
    expect(xml).not.toContain('k3y');
  });

  it('an unreachable target: exit 3, AJPBENCH_ERR_BACKEND in words, no table', async () => {
    const r = await run([`ajp://127.0.0.1:${closedPort}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^ajpbench: cannot reach ajp:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n$/);
    expect(r.stdout).toBe('');
  });

  it.each([
    [['http://127.0.0.1:8080'], /audit takes an ajp:\/\/host:port target/],
    [['ajp://127.0.0.1:70000'], /port 70000 is out of range/],
    [['ajp://127.0.0.1:8009', '--uri', 'no-slash'], /--uri takes a path starting with \//],
    [['ajp://127.0.0.1:8009', '--uri', '/a b'], /--uri takes a path/],
    [['ajp://127.0.0.1:8009', '--fail-on', 'critical'], /argument 'critical' is invalid/],
    [['ajp://127.0.0.1:8009', '--timeout', 'soon'], /--timeout takes a duration/],
  ])('usage error %j: exit 2', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

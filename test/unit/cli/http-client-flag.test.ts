/** `--http-client net|undici` through the built CLI: both replay over HTTP, net is the default, anything else is a usage error. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubContainer } from '../../../src/load/stub-container.js';
import type { ReplayReport } from '../../../src/results/replay-report.js';
import { runCli } from '../../fixtures/run-cli.js';

const trace = join(import.meta.dirname, '../../../captures/lab-mixed.trace.jsonl');
let stub: StubContainer;
let target: string;
let dir: string;
beforeAll(async () => {
  stub = await StubContainer.start({ listen: [{ host: '127.0.0.1', port: 0, route: 'web1', protocol: 'http' }] });
  target = `http://${stub.listeners[0]?.address ?? ''}`;
  dir = mkdtempSync(join(tmpdir(), 'ajpbench-http-client-'));
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay --http-client', () => {
  it.each([
    [[], 'net'],
    [['--http-client', 'net'], 'net'],
    [['--http-client', 'undici'], 'undici'],
  ])('%j replays every exchange with the %s client', async (flag, client) => {
    const json = join(dir, `${client}-${flag.length}.json`);
    const r = await runCli(['replay', trace, '--target', target, '--no-progress', '--json', json, ...flag]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as ReplayReport;
    expect(report.config.httpClient).toBe(client);
    expect(report.requests.responses).toBe(44);
    expect(report.workers).toEqual([expect.objectContaining({ name: 'web1', count: 44 })]);
  });

  it('refuses another client with exit 2, naming the choices', async () => {
    const r = await runCli(['replay', trace, '--target', target, '--http-client', 'curl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--http-client.*net, undici/);
  });
});

/** `ajpbench record --tracer thread|inline` through the built binary: the choice is made, said, and traces the same. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../../../src/trace/index.js';
import { AjpTestClient } from '../../fixtures/ajp-test-client.js';
import { AjpTestContainer } from '../../fixtures/ajp-test-container.js';
import { closedPort, readTrace, withTimeout } from '../../fixtures/tap-fixtures.js';
import { runCli, startCli } from '../../fixtures/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-record-tracer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs record with `flags` for three exchanges; its stderr and the exchanges of its trace. */
async function recordThree(flags: string[], file: string): Promise<{ stderr: string; exchanges: ExchangeEvent[] }> {
  const container = await AjpTestContainer.start({ route: 'tomcat1', bodyBytes: 48 });
  cleanups.push(() => container.close());
  const listen = await closedPort();
  const args = ['record', '--listen', `127.0.0.1:${listen}`, '--upstream', `127.0.0.1:${container.port}`];
  const run = await startCli([...args, '--max-exchanges', '3', '-o', file, ...flags]);
  cleanups.push(run.kill);
  const client = await AjpTestClient.connect(listen);
  for (const path of ['/a', '/b?size=64', '/c']) expect((await client.request(path)).status).toBe(200);
  client.close();
  expect(await withTimeout(run.exit, 15_000, 'record to stop')).toBe(0);
  const { events } = await readTrace(file);
  return { stderr: run.stderr(), exchanges: events.filter((e): e is ExchangeEvent => e.event === 'exchange') };
}

/** What does not depend on timing or on which run it was. */
function shape(e: ExchangeEvent): unknown {
  return { id: e.id, method: e.request.method, uri: e.request.uri, status: e.response?.status, body: e.response?.body };
}

describe('ajpbench record --tracer', () => {
  it('decodes on a tracer thread by default and on the forwarding thread with inline, says which, and traces alike', async () => {
    const threaded = await recordThree([], join(dir, 'thread.jsonl'));
    const inline = await recordThree(['--tracer', 'inline'], join(dir, 'inline.jsonl'));
    expect(threaded.stderr).toMatch(/^record: writing .*thread\.jsonl, decoded on a tracer thread; Ctrl-C to stop$/m);
    expect(inline.stderr).toMatch(
      /^record: writing .*inline\.jsonl, decoded on the forwarding thread; Ctrl-C to stop$/m,
    );
    expect(threaded.exchanges).toHaveLength(3);
    expect(inline.exchanges.map(shape)).toEqual(threaded.exchanges.map(shape));
    expect(threaded.exchanges.map((e) => e.request.uri)).toEqual(['/a', '/b', '/c']);
  });

  it('refuses a tracer it does not know, before listening (exit 2)', async () => {
    const r = await runCli(['record', '--listen', '127.0.0.1:0', '--upstream', '127.0.0.1:1', '--tracer', 'gpu'], {
      timeoutMs: 15_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("argument 'gpu' is invalid. Allowed choices are thread, inline.");
    expect(r.stderr).not.toMatch(/^record: 127/m);
  });
});

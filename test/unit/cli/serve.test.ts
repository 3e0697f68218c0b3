/** `ajpbench serve` through the built binary (run `npx tsc` first): every flag's range, bad addresses, a busy port. */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const run = (args: string[]): Promise<CliRun> => runCli(args, { timeoutMs: 20_000 });

const L = ['--listen', '127.0.0.1:0'];

describe('ajpbench serve flags', () => {
  it.each([
    [['--listen', 'ftp://x:1'], /--listen "ftp:\/\/x:1": ftp:\/\/ is not a listen scheme/],
    [['--listen', '127.0.0.1:70000'], /port 70000 is out of range: 0 to 65535/],
    [['--listen', 'http://127.0.0.1:1/app'], /takes no path/],
    [['--listen', 'a b:1'], /not a host name or address/],
    [[...L, '--body-size', '3GiB'], /--body-size takes a size from 0 to 1GiB/],
    [[...L, '--body-size', 'huge'], /--body-size takes a size/],
    [[...L, '--status', '42'], /--status takes a whole number from 100 to 999/],
    [[...L, '--status', '1000'], /--status takes a whole number from 100 to 999/],
    [[...L, '--duration', '1000h'], /--duration takes a duration above 0 up to 24d/],
    [[...L, '--duration', '0s'], /--duration/],
    [[...L, '--latency', '1000h'], /--latency takes a duration from 0 up to 24d/],
    [[...L, '--latency', '20d', '--jitter', '10d'], /--latency plus --jitter must be at most 24d/],
    [[...L, '--jitter', '-1ms'], /--jitter/],
    [[...L, '--fail-rate', '2'], /--fail-rate takes a share from 0 to 1/],
    [[...L, '--fail-rate', ''], /--fail-rate takes a share from 0 to 1/],
    [[...L, '--fail-rate', '0x1'], /--fail-rate takes a share from 0 to 1/],
    [[...L, '--fail-mode', 'explode'], /--fail-mode/],
    [[...L, '--max-packet-size', '100'], /--max-packet-size takes a whole number from 8192 to 65536/],
    [[...L, '--route', 'a b'], /--route takes a name/],
    [[...L, '--route', 'a;b'], /--route takes a name/],
    [[...L, '--route', 'a', '--route', 'b'], /2 --route for 1 --listen/],
    [[...L, '--secret', ''], /--secret must not be empty/],
  ])('serve %j: exit 2 before listening, one line', async (args, says) => {
    const r = await run(['serve', ...args]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(says);
    expect(r.stderr).not.toMatch(/listening|\n\s+at /);
  });
});

describe('ajpbench serve', () => {
  let busy: Server;
  let port = 0;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(() => busy.close());

  it('a busy port is exit 3 naming the address', async () => {
    const r = await run(['serve', '--listen', `127.0.0.1:${port}`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`ajpbench: cannot listen on 127.0.0.1:${port}: the address is in use\n`);
  });

  it('serves for --duration and then stops, with a large body not allocated up front', async () => {
    const r = await run([
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--listen',
      'http://127.0.0.1:0',
      '--body-size',
      '1GiB',
      '--duration',
      '500ms',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/listening on ajp:\/\/127\.0\.0\.1:\d+ \(route tomcat1\)/);
    expect(r.stderr).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(route tomcat2\)/);
    expect(r.stderr).toMatch(/serve: 0 connections, 0 requests/);
    expect(r.ms).toBeGreaterThanOrEqual(450);
  });
});

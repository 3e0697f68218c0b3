/** `ajpbench decode` end to end through the built binary: output shape, errors, exit codes. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  V4_POST_ATTRIBUTES,
  V5_FIRST_BODY,
  V6_END_OF_BODY_JK,
  V8_SEND_HEADERS,
  V9_SEND_BODY_CHUNK,
  V10_END_RESPONSE,
} from '../../fixtures/vectors.js';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

// stdin is always closed: decode reads it when given `-`.
const run = (args: string[], input?: Buffer): Promise<CliRun> => runCli(args, { input: input ?? '' });

const lines = (s: string): Record<string, unknown>[] =>
  s
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-decode-'));

describe('ajpbench decode', () => {
  it('prints one JSON object per frame from a file, with numbers as numbers and body bytes as base64', async () => {
    const file = join(dir, 'post.ajp');
    writeFileSync(file, Buffer.concat([V4_POST_ATTRIBUTES, V5_FIRST_BODY, V6_END_OF_BODY_JK]));
    const r = await run(['decode', file]);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out.map((o) => o.type)).toEqual(['forward-request', 'body', 'body']);
    expect(out[0]).toMatchObject({
      offset: 0,
      direction: 'to-container',
      method: 'POST',
      serverPort: 443,
      isSsl: true,
    });
    expect(out[0]?.attributes).toContainEqual({ name: 'ssl_key_size', value: 256 });
    expect(out[1]).toMatchObject({ offset: 132, dataLength: 5, data: Buffer.from('hello').toString('base64') });
    expect(out[2]).toMatchObject({ dataLength: 0, bare: true });
    expect(r.stderr).toMatch(/3 frame\(s\), 0 error\(s\)/);
  });

  it('reads stdin and tells the container side from its magic', async () => {
    const r = await run(['decode', '-'], Buffer.concat([V8_SEND_HEADERS, V9_SEND_BODY_CHUNK, V10_END_RESPONSE]));
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((o) => [o.direction, o.type])).toEqual([
      ['to-web-server', 'send-headers'],
      ['to-web-server', 'send-body-chunk'],
      ['to-web-server', 'end-response'],
    ]);
  });

  it('reads hex text with --hex, and prints an error line for garbage and goes on', async () => {
    const r = await run(
      ['decode', '--hex'],
      Buffer.from('# two CPongs around junk\n41 42 00 01 09\nde ad be ef\n41:42:00:01:09\n'),
    );
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out.map((o) => o.type)).toEqual(['cpong', 'error', 'cpong']);
    expect(out[1]).toMatchObject({ offset: 5, code: 'AJP_ERR_BAD_MAGIC', skipped: 4 });
  });

  it('refuses a --hex character that is not a hex digit or an allowed separator, naming it and its offset', async () => {
    const r = await run(['decode', '--hex'], Buffer.from('41 42 00 01 09\n41 4g 00\n'));
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      "ajpbench: -: hex input: \"g\" at offset 19 (line 2, column 5) is not a hex digit (allowed: pairs of hex digits, spaces, newlines, ':' and ',' between bytes, 0x before a byte, # comments)\n",
    );
    expect(r.stdout).toBe('');
    const file = join(dir, 'bad.hex');
    writeFileSync(file, '41 42 00 01 09 ; cpong\n');
    const f = await run(['decode', '--hex', file]);
    expect(f.code).toBe(3);
    expect(f.stderr).toMatch(/bad\.hex: hex input: ";" at offset 15 \(line 1, column 16\)/);
    // Separators the docs allow still work.
    const ok = await run(
      ['decode', '--hex'],
      Buffer.from('0x41,0x42,0x00,0x01,0x09\r\n41:42:00:01:09 # two\n\t4142000109\n'),
    );
    expect(ok.code).toBe(0);
    expect(lines(ok.stdout).map((o) => o.type)).toEqual(['cpong', 'cpong', 'cpong']);
  });

  it('a directory is one line in words, exit 3; an empty input decodes to nothing and says so', async () => {
    for (const args of [
      ['decode', dir],
      ['decode', '--hex', dir],
    ]) {
      const r = await run(args);
      expect(r.code).toBe(3);
      expect(r.stderr).toBe(`ajpbench: cannot read ${dir}: is a directory\n`);
    }
    const empty = join(dir, 'empty.ajp');
    writeFileSync(empty, '');
    for (const input of [empty, '/dev/null']) {
      const r = await run(['decode', input]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/0 frame\(s\), 0 error\(s\), 0 byte\(s\), direction unknown \(the input is empty\)/);
    }
  });

  it('a reader that goes away (| head) ends the run quietly, exit 0', async () => {
    const file = join(dir, 'many.ajp');
    writeFileSync(file, Buffer.concat(Array.from({ length: 20_000 }, () => V8_SEND_HEADERS)));
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import(${JSON.stringify(join(import.meta.dirname, '../../../dist/src/cli/main.js'))}).then(async (m) => { process.exitCode = await m.main(['decode', ${JSON.stringify(file)}]); })`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/error|EPIPE/i);
    expect(code).toBe(0);
  });

  it('reports a stream cut inside a frame', async () => {
    const r = await run(['decode', '-'], V8_SEND_HEADERS.subarray(0, 10));
    expect(lines(r.stdout)).toEqual([
      expect.objectContaining({ type: 'error', code: 'AJP_ERR_END_OF_STREAM', offset: 0, skipped: 10 }),
    ]);
  });

  it('exits 3 for a file it cannot read and 2 for a bad flag', async () => {
    const missing = await run(['decode', join(dir, 'nope.ajp')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/cannot read .*nope\.ajp/);
    expect((await run(['decode', '--direction', 'sideways'])).code).toBe(2);
    expect((await run(['decode', '--max-packet-size', '100'], Buffer.alloc(0))).code).toBe(2);
    expect((await run(['no-such-command'])).code).toBe(2);
  });

  it('lists decode in --help and prints the version', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/decode/);
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 a verdict failed/);
    expect((await run(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

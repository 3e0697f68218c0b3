/** `ajpbench decode` end to end through the built binary: output shape, errors, exit codes. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { V4_POST_ATTRIBUTES, V5_FIRST_BODY, V6_END_OF_BODY_JK, V8_SEND_HEADERS, V9_SEND_BODY_CHUNK, V10_END_RESPONSE } from '../../fixtures/vectors.js';

const bin = join(import.meta.dirname, '../../../bin/ajpbench');

function run(args: string[], input?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

const lines = (s: string): Record<string, unknown>[] => s.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-decode-'));

describe('ajpbench decode', () => {
  it('prints one JSON object per frame from a file, with numbers as numbers and body bytes as base64', async () => {
    const file = join(dir, 'post.ajp');
    writeFileSync(file, Buffer.concat([V4_POST_ATTRIBUTES, V5_FIRST_BODY, V6_END_OF_BODY_JK]));
    const r = await run(['decode', file]);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out.map((o) => o.type)).toEqual(['forward-request', 'body', 'body']);
    expect(out[0]).toMatchObject({ offset: 0, direction: 'to-container', method: 'POST', serverPort: 443, isSsl: true });
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
    const r = await run(['decode', '--hex'], Buffer.from('# two CPongs around junk\n41 42 00 01 09\nde ad be ef\n41:42:00:01:09\n'));
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out.map((o) => o.type)).toEqual(['cpong', 'error', 'cpong']);
    expect(out[1]).toMatchObject({ offset: 5, code: 'AJP_ERR_BAD_MAGIC', skipped: 4 });
  });

  it('reports a stream cut inside a frame', async () => {
    const r = await run(['decode', '-'], V8_SEND_HEADERS.subarray(0, 10));
    expect(lines(r.stdout)).toEqual([expect.objectContaining({ type: 'error', code: 'AJP_ERR_END_OF_STREAM', offset: 0, skipped: 10 })]);
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

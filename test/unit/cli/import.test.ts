/** `ajpbench import` through the built binary: files, stdin, stdout, trace options, errors and exit codes. */
import { execFile, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const bin = join(root, 'bin/ajpbench');
const capture = join(root, 'captures/lab-mixed.pcap');
const ports = ['--port', '28009,29009', '--port', '28109', '--port', '29109'];
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-import-cli-'));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    );
  });
}

const lines = (text: string): Record<string, unknown>[] => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('ajpbench import', () => {
  it('writes a 0600 trace file and prints a summary', async () => {
    const out = join(dir, 'mixed.jsonl');
    const r = await run(['import', capture, ...ports, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/44 exchanges, 0 incomplete, 0 errors/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const events = lines(readFileSync(out, 'utf8'));
    expect(events[0]).toMatchObject({ format: 'ajpbench-trace', version: 1, source: { kind: 'pcap', ports: [28009, 29009, 28109, 29109] } });
    expect(events.filter((e) => e.event === 'exchange')).toHaveLength(44);
  });

  it('reads a pcap stream on stdin and writes the trace to stdout', async () => {
    const child = spawn(process.execPath, [bin, 'import', '-', ...ports], { stdio: ['pipe', 'pipe', 'pipe'] });
    createReadStream(capture).pipe(child.stdin);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(lines(stdout).filter((e) => e.event === 'exchange')).toHaveLength(44);
  });

  it('--no-redact keeps credentials and --bodies none keeps no body bytes', async () => {
    const plain = lines((await run(['import', capture, ...ports, '--no-redact', '--bodies', 'none'])).stdout);
    const x = plain.find((e) => e.event === 'exchange') as { request: { headers: [string, string][]; body: Record<string, unknown> } };
    expect(x.request.headers).toContainEqual(['authorization', 'Basic dXNlcjpwYXNz']);
    const posts = plain.filter((e) => e.event === 'exchange' && (e.request as { method: string }).method === 'POST');
    expect(posts.every((p) => (p.request as { body: { data?: string } }).body.data === undefined)).toBe(true);
    const kept = lines((await run(['import', capture, ...ports, '--max-body', '16'])).stdout);
    const big = kept.find((e) => e.event === 'exchange' && (e.request as { body: { length: number } }).body.length === 20000) as { request: { body: Record<string, unknown> } };
    expect(big.request.body).toMatchObject({ truncated: true, data: Buffer.alloc(16, 'b').toString('base64') });
  });

  it('exits 3 for a missing file or one that is not a capture, 2 for bad flags', async () => {
    const missing = await run(['import', join(dir, 'nope.pcap')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/cannot read .*nope\.pcap/);
    const text = join(dir, 'text.pcap');
    writeFileSync(text, 'this is not a capture at all');
    const notCapture = await run(['import', text]);
    expect(notCapture.code).toBe(3);
    expect(notCapture.stderr).toMatch(/CAPTURE_ERR_BAD_MAGIC/);
    expect((await run(['import', capture, '--port', '99999'])).code).toBe(2);
    expect((await run(['import', capture, '--bodies', 'some'])).code).toBe(2);
    expect((await run(['import', capture, '--max-body', 'lots'])).code).toBe(2);
  });
});

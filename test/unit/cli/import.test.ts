/** `ajpbench import` through the built binary: files, stdin, stdout, trace options, errors and exit codes. */
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const root = join(import.meta.dirname, '../../..');
const bin = join(root, 'bin/ajpbench');
const capture = join(root, 'captures/lab-mixed.pcap');
const ports = ['--port', '28009,29009', '--port', '28109', '--port', '29109'];
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-import-cli-'));

const run = (args: string[]): Promise<CliRun> => runCli(args);

const lines = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Runs main() in a child without bin's process guards, so that import's own handling of a closed stdout is what is tested. */
const mainWithoutGuards = (args: string[]): string =>
  `import(${JSON.stringify(join(root, 'dist/src/cli/main.js'))}).then(async (m) => { process.exitCode = await m.main(${JSON.stringify(args)}); })`;

/** Starts `argv`, reads its stdout until the first chunk, then closes the pipe as `| head -c1` would. */
async function closeAfterFirstChunk(argv: string[]): Promise<{ code: number | null; stderr: string; got: number }> {
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let got = 0;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.once('data', (d: Buffer) => {
    got = d.length;
    child.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr, got };
}

const exists = (p: string): boolean => {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
};

describe('ajpbench import', () => {
  it('writes a 0600 trace file and prints a summary', async () => {
    const out = join(dir, 'mixed.jsonl');
    const r = await run(['import', capture, ...ports, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/44 exchanges, 0 incomplete, 0 errors/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const events = lines(readFileSync(out, 'utf8'));
    expect(events[0]).toMatchObject({
      format: 'ajpbench-trace',
      version: 1,
      source: { kind: 'pcap', ports: [28009, 29009, 28109, 29109] },
    });
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
    const x = plain.find((e) => e.event === 'exchange') as {
      request: { headers: [string, string][]; body: Record<string, unknown> };
    };
    expect(x.request.headers).toContainEqual(['authorization', 'Basic dXNlcjpwYXNz']);
    const posts = plain.filter((e) => e.event === 'exchange' && (e.request as { method: string }).method === 'POST');
    expect(posts.every((p) => (p.request as { body: { data?: string } }).body.data === undefined)).toBe(true);
    const kept = lines((await run(['import', capture, ...ports, '--max-body', '16'])).stdout);
    const big = kept.find(
      (e) => e.event === 'exchange' && (e.request as { body: { length: number } }).body.length === 20000,
    ) as { request: { body: Record<string, unknown> } };
    expect(big.request.body).toMatchObject({ truncated: true, data: Buffer.alloc(16, 'b').toString('base64') });
  });

  it("a reader that goes away (| head) ends the run quietly, exit 0: through bin, and in import itself without bin's guard", async () => {
    for (const argv of [
      [bin, 'import', capture, ...ports, '--bodies', 'all'],
      ['--input-type=module', '-e', mainWithoutGuards(['import', capture, ...ports, '--bodies', 'all'])],
    ]) {
      const r = await closeAfterFirstChunk(argv);
      expect(r.got).toBeGreaterThan(0);
      expect(r.stderr).not.toMatch(/error|EPIPE|\n\s+at /i);
      expect(r.code).toBe(0);
    }
  });

  it('writes nothing for a directory, an empty file, /dev/null, a non-capture or a capture without AJP traffic: exit 3, no output file', async () => {
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    const text = join(dir, 'words.pcap');
    writeFileSync(text, 'hello, I am text\n');
    const cases: [string[], RegExp][] = [
      [[dir], new RegExp(`^ajpbench: cannot read ${dir}: is a directory\\n$`)],
      [[empty], /CAPTURE_ERR_EMPTY/],
      [['/dev/null'], /CAPTURE_ERR_EMPTY/],
      [[text], /CAPTURE_ERR_BAD_MAGIC/],
      [[capture, '--port', '1234'], /no AJP traffic on port 1234: .*nothing written/],
      [[capture, '--port', '1234', '-o', '-'], /no AJP traffic/],
    ];
    for (const [i, [args, says]] of cases.entries()) {
      const out = join(dir, `nothing-${i}.jsonl`);
      const toFile = args.includes('-o') ? args : [...args, '-o', out];
      const r = await run(['import', ...toFile]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(says);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
      expect(exists(out)).toBe(false);
    }
  });

  it('leaves an existing output file alone when there is nothing to write', async () => {
    const out = join(dir, 'keep.jsonl');
    writeFileSync(out, 'precious\n');
    expect((await run(['import', '/dev/null', '-o', out])).code).toBe(3);
    expect(readFileSync(out, 'utf8')).toBe('precious\n');
  });

  it('says in words why the output cannot be written', async () => {
    const r = await run(['import', capture, ...ports, '-o', join(dir, 'no/such/dir/out.jsonl')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`ajpbench: cannot write ${join(dir, 'no/such/dir/out.jsonl')}: no such file or directory\n`);
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

  it('--threads: 1 to 64, said in --help; any count writes the same trace file', async () => {
    for (const bad of ['0', '65', 'two', '-1']) {
      const r = await run(['import', capture, ...ports, '--threads', bad, '-o', join(dir, 'never.jsonl')]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--threads takes a whole number from 1 to 64/);
    }
    expect((await run(['import', '--help'])).stdout).toMatch(/--threads <n>/);
    const texts: string[] = [];
    for (const threads of ['1', '2', '4']) {
      const out = join(dir, `threads-${threads}.jsonl`);
      const r = await run(['import', capture, ...ports, '--threads', threads, '-o', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/44 exchanges, 0 incomplete, 0 errors/);
      texts.push(readFileSync(out, 'utf8'));
    }
    expect(texts[1] === texts[0] && texts[2] === texts[0]).toBe(true);
  });
});

/**
 * Live, passive recording as the README shows it: tcpdump writing pcap to stdout, piped into
 * `ajpbench import -`, while real traffic goes through httpd (mod_jk, mod_proxy_ajp) to Tomcat.
 * Ctrl-C (SIGINT to both, as a terminal sends it) leaves a complete trace with every exchange,
 * matching what the client sent and received; the same with decode workers (--threads 2), whose
 * lines reach the trace while the capture is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExchangeEvent, TraceEvent } from '../../src/trace/index.js';
import { labForTests, type LabState } from '../lab/lab.js';
import { driveMixedTraffic, traceMismatches } from '../lab/traffic.js';

// Needs the capture tools too (the global setup only checks what the lab needs to run).
const lab = labForTests({ includeCapture: true, includeBrowser: false });
const bin = join(import.meta.dirname, '../../bin/ajpbench');

function events(file: string): TraceEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l) as TraceEvent);
}

async function until(what: string, check: () => boolean, timeoutMs: number, tick?: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    tick?.();
    await new Promise((r) => setTimeout(r, 100));
  }
}

// 'close', not 'exit': the summary line is the last thing on stderr, read only once stderr has closed.
const exited = (p: ChildProcess): Promise<number | null> =>
  p.exitCode !== null && p.stderr?.readableEnded !== false
    ? Promise.resolve(p.exitCode)
    : new Promise((resolve) => p.once('close', (code) => resolve(code)));

describe.skipIf(lab === undefined)('tcpdump -w - | ajpbench import -', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-live-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([1, 2])(
    'records live traffic passively and completes the trace on Ctrl-C (--threads %i)',
    async (threads) => {
      const state = lab as LabState;
      const ports = [
        state.ports.tomcat1Ajp,
        state.ports.tomcat2Ajp,
        state.ports.tomcat1AjpSecret,
        state.ports.tomcat2AjpSecret,
      ];
      const out = join(dir, `live-${threads}.jsonl`);
      const tcpdump = spawn(
        'tcpdump',
        [
          '-i',
          'lo',
          '--immediate-mode',
          '-B',
          '8192',
          '-U',
          '-s',
          '0',
          '-w',
          '-',
          ports.map((p) => `tcp port ${p}`).join(' or '),
        ],
        {
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      const args = ['import', '-', '--port', ports.join(','), '-o', out, '--threads', String(threads)];
      const importer = spawn(process.execPath, [bin, ...args], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      tcpdump.stdout?.pipe(importer.stdin as NodeJS.WritableStream);
      let stderr = '';
      importer.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      try {
        // Knock on a captured port until the importer has seen the connection: the pipeline is live.
        const knock = (): void => {
          const s = connect({ host: '127.0.0.1', port: state.ports.tomcat1Ajp }, () => s.end());
          s.on('error', () => undefined);
        };
        await until(
          'the pipeline to see a connection',
          () => events(out).some((e) => e.event === 'connection'),
          15_000,
          knock,
        );
        const sent = await driveMixedTraffic(state);
        await until(
          `${sent.length} exchanges in the trace`,
          () => events(out).filter((e) => e.event === 'exchange').length >= sent.length,
          15_000,
        );
        // Ctrl-C: the terminal signals the whole pipeline.
        tcpdump.kill('SIGINT');
        importer.kill('SIGINT');
        expect(await exited(importer)).toBe(0);
        const all = events(out);
        expect(readFileSync(out, 'utf8').endsWith('\n')).toBe(true);
        expect(
          traceMismatches(
            all.filter((e): e is ExchangeEvent => e.event === 'exchange'),
            sent,
          ),
        ).toEqual([]);
        expect(all.filter((e) => e.event === 'incomplete')).toEqual([]);
        expect(stderr).toMatch(/import: .*44 exchanges/);
      } finally {
        tcpdump.kill('SIGKILL');
        importer.kill('SIGKILL');
      }
    },
  );
});

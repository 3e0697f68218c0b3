/**
 * The one rule, enforced: every command, given bad flags, bad files or a dead peer, ends with one
 * clear line on stderr and exit 2 (usage) or 3 (runtime), never a stack trace or an "internal
 * error" (which is how main() reports a failure nobody anticipated: a bug).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const root = join(import.meta.dirname, '../../..');
const trace = join(root, 'captures/lab-mixed.trace.jsonl');
const pcap = join(root, 'captures/lab-mixed.pcap');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-bad-'));

const file = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const aDir = join(dir, 'a-directory');
mkdirSync(aDir);
const empty = file('empty', '');
const text = file('text.txt', 'hello, I am not a capture\n');
const header = JSON.stringify({
  format: 'ajpbench-trace',
  version: 1,
  tool: 't',
  startTime: '2026-01-01T00:00:00Z',
  source: { kind: 'import' },
});
// Copies of the lab trace for the cases that name an input as the output (never the repository's own file).
const selfA = file('self-a.jsonl', readFileSync(trace));
const selfB = file('self-b.jsonl', readFileSync(trace));
const selfC = file('self-c.jsonl', readFileSync(trace));
const selfPcap = file('self.pcap', readFileSync(pcap));
const results = (over: Record<string, unknown>): string =>
  file(`results-${Object.keys(over).join('-')}.json`, JSON.stringify({ kind: 'ajpbench-replay', ...over }));

interface Case {
  args: string[];
  exit: 2 | 3;
  /** What the one line must say, besides having no stack. */
  says?: RegExp;
}

const cases: Record<string, Case> = {
  'unknown command': { args: ['frobnicate'], exit: 2 },
  'unknown flag': { args: ['inspect', trace, '--frob'], exit: 2 },
  // decode
  'decode: missing file': { args: ['decode', join(dir, 'nope.ajp')], exit: 3, says: /nope\.ajp/ },
  'decode: a directory': { args: ['decode', aDir], exit: 3, says: /directory/ },
  'decode: --hex with a non-hex character': {
    args: ['decode', '--hex', file('bad.hex', '12 34 00 zz')],
    exit: 3,
    says: /offset/,
  },
  'decode: --max-packet-size 5': { args: ['decode', '--max-packet-size', '5', empty], exit: 2 },
  // import
  'import: missing file': { args: ['import', join(dir, 'nope.pcap'), '-o', join(dir, 'o1.jsonl')], exit: 3 },
  'import: a directory': { args: ['import', aDir, '-o', join(dir, 'o2.jsonl')], exit: 3, says: /directory/ },
  'import: an empty file': { args: ['import', empty, '-o', join(dir, 'o3.jsonl')], exit: 3 },
  'import: not a capture': { args: ['import', text, '-o', join(dir, 'o4.jsonl')], exit: 3 },
  'import: --port abc': { args: ['import', pcap, '--port', 'abc', '-o', join(dir, 'o5.jsonl')], exit: 2 },
  'import: output in a missing directory': {
    args: ['import', pcap, '--port', '28009', '-o', join(dir, 'no/such/dir/o.jsonl')],
    exit: 3,
  },
  // inspect
  'inspect: missing file': { args: ['inspect', join(dir, 'nope.jsonl')], exit: 3 },
  'inspect: a directory': { args: ['inspect', aDir], exit: 3, says: /directory/ },
  'inspect: an empty file': { args: ['inspect', empty], exit: 3 },
  'inspect: not a trace': { args: ['inspect', text], exit: 3 },
  'inspect: a newer trace version': {
    args: ['inspect', file('v99.jsonl', header.replace('"version":1', '"version":99') + '\n')],
    exit: 3,
    says: /newer/,
  },
  'inspect: --top -1': { args: ['inspect', trace, '--top', '-1'], exit: 2 },
  // record
  'record: no tap': { args: ['record', '-o', join(dir, 'r.jsonl')], exit: 2 },
  'record: --duration 1000h': {
    args: [
      'record',
      '--listen',
      '127.0.0.1:0',
      '--upstream',
      '127.0.0.1:1',
      '--duration',
      '1000h',
      '-o',
      join(dir, 'r.jsonl'),
    ],
    exit: 2,
    says: /24d/,
  },
  'record: --duration 0s': {
    args: [
      'record',
      '--listen',
      '127.0.0.1:0',
      '--upstream',
      '127.0.0.1:1',
      '--duration',
      '0s',
      '-o',
      join(dir, 'r.jsonl'),
    ],
    exit: 2,
  },
  'record: a bad --tap': { args: ['record', '--tap', 'garbage', '-o', join(dir, 'r.jsonl')], exit: 2 },
  // replay
  'replay: no --target': { args: ['replay', trace], exit: 2 },
  'replay: ftp target': { args: ['replay', trace, '--target', 'ftp://127.0.0.1:1'], exit: 2 },
  'replay: port 0': { args: ['replay', trace, '--target', 'ajp://127.0.0.1:0'], exit: 2 },
  'replay: --concurrency 99999999999': {
    args: ['replay', trace, '--target', 'ajp://127.0.0.1:1', '--concurrency', '99999999999'],
    exit: 2,
  },
  'replay: --timeout 0s': { args: ['replay', trace, '--target', 'ajp://127.0.0.1:1', '--timeout', '0s'], exit: 2 },
  'replay: --timeout 1000h': {
    args: ['replay', trace, '--target', 'ajp://127.0.0.1:1', '--timeout', '1000h'],
    exit: 2,
  },
  'replay: --duration 0s': { args: ['replay', trace, '--target', 'ajp://127.0.0.1:1', '--duration', '0s'], exit: 2 },
  'replay: --rate 0': { args: ['replay', trace, '--target', 'ajp://127.0.0.1:1', '--rate', '0'], exit: 2 },
  'replay: missing trace': { args: ['replay', join(dir, 'nope.jsonl'), '--target', 'ajp://127.0.0.1:1'], exit: 3 },
  'replay: a directory': { args: ['replay', aDir, '--target', 'ajp://127.0.0.1:1'], exit: 3 },
  'replay: not a trace': { args: ['replay', text, '--target', 'ajp://127.0.0.1:1'], exit: 3 },
  'replay: nothing listening': {
    args: ['replay', trace, '--target', 'ajp://127.0.0.1:1', '--requests', '5', '--no-progress'],
    exit: 3,
    says: /response/,
  },
  // serve
  'serve: ftp listen': { args: ['serve', '--listen', 'ftp://x:1'], exit: 2 },
  'serve: --body-size 3GiB': { args: ['serve', '--listen', '127.0.0.1:0', '--body-size', '3GiB'], exit: 2 },
  'serve: --status 42': { args: ['serve', '--listen', '127.0.0.1:0', '--status', '42'], exit: 2 },
  'serve: --duration 1000h': { args: ['serve', '--listen', '127.0.0.1:0', '--duration', '1000h'], exit: 2 },
  // report
  'report: missing file': { args: ['report', join(dir, 'nope.json')], exit: 3 },
  'report: a directory': { args: ['report', aDir], exit: 3 },
  'report: not JSON': { args: ['report', text], exit: 3 },
  'report: latency null': { args: ['report', results({ latency: null })], exit: 3, says: /latency/ },
  'report: requests "lots"': { args: ['report', results({ requests: 'lots' })], exit: 3, says: /requests/ },
  // compare, fairness, sweep
  'compare: --rounds 0': {
    args: ['compare', trace, '--target', 'ajp://127.0.0.1:1', '--target', 'ajp://127.0.0.1:2', '--rounds', '0'],
    exit: 2,
  },
  'fairness: --expect garbage': {
    args: ['fairness', '--target', 'http://127.0.0.1:1/', '--expect', 'garbage'],
    exit: 2,
    says: /one worker/,
  },
  'fairness: --alpha 2': {
    args: ['fairness', '--target', 'http://127.0.0.1:1/', '--expect', 'a=1,b=1', '--alpha', '2'],
    exit: 2,
  },
  'sweep: --concurrency 0': { args: ['sweep', trace, '--target', 'ajp://127.0.0.1:1', '--concurrency', '0'], exit: 2 },
  'sweep: --concurrency abc': {
    args: ['sweep', trace, '--target', 'ajp://127.0.0.1:1', '--concurrency', 'abc'],
    exit: 2,
  },
  // filter, merge, export, import of a HAR (the trace tools)
  'filter: missing file': { args: ['filter', join(dir, 'nope.jsonl')], exit: 3, says: /nope\.jsonl/ },
  'filter: not a trace': { args: ['filter', text], exit: 3, says: /not an ajpbench trace|not JSON/ },
  'filter: a newer trace version': {
    args: ['filter', file('v99f.jsonl', header.replace('"version":1', '"version":99') + '\n')],
    exit: 3,
    says: /newer/,
  },
  'filter: --status 9xx': { args: ['filter', trace, '--status', '9xx'], exit: 2, says: /--status/ },
  'filter: --sample 150%': { args: ['filter', trace, '--sample', '150%'], exit: 2, says: /--sample/ },
  'filter: --rewrite-uri not a substitution': { args: ['filter', trace, '--rewrite-uri', '/a/b/'], exit: 2 },
  'filter: --uri-regex not a regular expression': {
    args: ['filter', trace, '--uri-regex', '(', '-o', join(dir, 'f1.jsonl')],
    exit: 2,
    says: /--uri-regex/,
  },
  'filter: --set-header without a colon': { args: ['filter', trace, '--set-header', 'X-A'], exit: 2 },
  'filter: --from not a time': { args: ['filter', trace, '--from', 'yesterday'], exit: 2, says: /--from/ },
  'filter: --seed without --sample': { args: ['filter', trace, '--seed', 'x'], exit: 2, says: /--sample/ },
  'filter: output in a missing directory': {
    args: ['filter', trace, '-o', join(dir, 'no/such/dir/f.jsonl')],
    exit: 3,
    says: /cannot write/,
  },
  'filter: -o the input itself': {
    args: ['filter', selfA, '-o', join(dir, '.', 'self-a.jsonl')],
    exit: 2,
    says: /also the input/,
  },
  'merge: -o one of the inputs': { args: ['merge', trace, selfB, '-o', selfB], exit: 2, says: /also the input/ },
  'export: --har the trace itself': { args: ['export', selfC, '--har', selfC], exit: 2, says: /also the input/ },
  'import: -o the capture itself': { args: ['import', selfPcap, '-o', selfPcap], exit: 2, says: /also the input/ },
  'merge: --offset names no input': {
    args: ['merge', trace, trace.replace('lab-mixed', 'nope'), '--offset', 'x.jsonl=1s'],
    exit: 2,
  },
  'merge: an input that is not a trace': { args: ['merge', trace, text], exit: 3, says: /text\.txt/ },
  'merge: --offset 5 parsecs': { args: ['merge', trace, text, '--offset', `${text}=5pc`], exit: 2 },
  'export: no --har': { args: ['export', trace], exit: 2, says: /--har/ },
  'export: missing file': { args: ['export', join(dir, 'nope.jsonl'), '--har', join(dir, 'x.har')], exit: 3 },
  'export: --har in a missing directory': {
    args: ['export', trace, '--har', join(dir, 'no/such/dir/x.har')],
    exit: 3,
    says: /cannot write/,
  },
  'import: a .har that is not JSON': { args: ['import', file('bad.har', 'nope')], exit: 3, says: /not valid JSON/ },
  'import: a HAR entry without a url': {
    args: [
      'import',
      file(
        'nourl.har',
        JSON.stringify({
          log: {
            version: '1.2',
            entries: [{ startedDateTime: '2026-01-01T00:00:00Z', request: { method: 'GET' }, response: {} }],
          },
        }),
      ),
    ],
    exit: 3,
    says: /entries\[0\]\.request\.url/,
  },
};

const run = (args: string[]): Promise<CliRun> => runCli(args, { timeoutMs: 30_000 });

const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

describe('every command: bad input ends in one line and exit 2 or 3, never a stack trace', () => {
  it.concurrent.each(Object.entries(cases))('%s', async (_name, c) => {
    const r = await run(c.args);
    expect(r.stderr, r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stderr).toBe(c.exit);
    if (c.says !== undefined) expect(r.stderr).toMatch(c.says);
  });

  it('--debug prints the stack of the same failure', async () => {
    const r = await run(['inspect', join(dir, 'nope.jsonl'), '--debug']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(STACK_FRAME);
  });
});

/** Results files read back (`ajpbench report`): checked field by field before anything reads them. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../../src/errors.js';
import { mergeReports } from '../../../src/results/merge-results.js';
import type { ReplayReport } from '../../../src/results/replay-report.js';
import { readResultsFile, replayResultsProblems } from '../../../src/results/results-file.js';
import { buildReport, steady } from '../verdict/report-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-results-'));
const good = (): Record<string, unknown> =>
  JSON.parse(JSON.stringify(buildReport(steady(100, 2, [1, 2, 3], { route: 'tomcat1' })))) as Record<string, unknown>;

function write(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

function failure(file: string): RuntimeError {
  try {
    readResultsFile(file);
  } catch (e) {
    if (e instanceof RuntimeError) return e;
    throw new Error(`expected a RuntimeError, got ${String(e)}`);
  }
  throw new Error('expected readResultsFile to throw');
}

/** A good report with one value replaced at a dotted path. */
function withValue(path: string, value: unknown): Record<string, unknown> {
  const r = good();
  const keys = path.split('.');
  let o = r;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[keys.at(-1) as string] = value;
  return r;
}

describe('readResultsFile', () => {
  it('reads a replay results file as written', () => {
    const r = readResultsFile(write('good.json', good()));
    expect(r.kind).toBe('replay');
    expect(replayResultsProblems(good())).toEqual([]);
  });

  it.each([
    ['latency', null, /^x\.json: not valid replay results: latency is null, not an object/],
    ['requests', 'lots', /requests is a string, not an object/],
    ['requests.total', 'lots', /requests\.total is a string, not a whole number/],
    ['requests.perSecond', -1, /requests\.perSecond is the number -1/],
    ['startedAt', 'yesterday', /startedAt is "yesterday", not an ISO 8601 time/],
    ['measuredMs', null, /measuredMs is null/],
    [
      'latency.timeToCompleteUs.histogram',
      'not base64 !!',
      /latency\.timeToCompleteUs\.histogram does not decode as an HdrHistogram/,
    ],
    ['latency.timeToHeadersUs.p99', '5ms', /latency\.timeToHeadersUs\.p99 is a string/],
    ['byRoute', {}, /byRoute is an object, not a list/],
    ['throughput.series', 3, /throughput\.series is the number 3, not a list/],
    ['errors.byKind', [{ kind: 'timeout', count: 'many', example: null }], /errors\.byKind\[0\]\.count is a string/],
    ['schedule.model', 7, /schedule\.model is the number 7/],
    ['config.targets', [1, 2], /config\.targets\[0\] is the number 1, not a string/],
    ['warnings', 'none', /warnings is a string, not a list/],
  ])('refuses %s = %j with exit 3, code AJPBENCH_ERR_RESULTS, naming the field', (path, value, message) => {
    const e = failure(write('x.json', withValue(path, value)));
    expect(e.code).toBe('AJPBENCH_ERR_RESULTS');
    expect(e.exitCode).toBe(3);
    expect(e.message).toMatch(message);
  });

  it('names a wrong value before a missing one, and says how many more there are', () => {
    const e = failure(write('partial.json', { kind: 'ajpbench-replay', latency: null }));
    expect(e.message).toMatch(
      /^partial\.json: not valid replay results: latency is null, not an object \(and \d+ more problems\)$/,
    );
    const histogram = withValue('byRoute', [
      {
        ...(good().byRoute as Record<string, unknown>[])[0],
        timeToHeadersUs: { ...(good().latency as { timeToHeadersUs: object }).timeToHeadersUs, histogram: 'HISTFAAAA' },
      },
    ]);
    expect(failure(write('h.json', histogram)).message).toMatch(
      /byRoute\[0\]\.timeToHeadersUs\.histogram does not decode/,
    );
  });

  it('refuses a file that is not JSON, not results, a directory or missing, in one line', () => {
    expect(failure(write('text.json', 'hello')).message).toMatch(/^text\.json: not JSON/);
    expect(failure(write('other.json', { hello: 1 })).message).toBe(
      'other.json: not an ajpbench results file (write one with replay, compare, fairness or sweep --json)',
    );
    expect(failure(write('list.json', [1, 2])).code).toBe('AJPBENCH_ERR_RESULTS');
    const sub = join(dir, 'a-dir');
    mkdirSync(sub);
    const d = failure(sub);
    expect(d.message).toBe(`cannot read ${sub}: is a directory`);
    expect(d.code).toBe('AJPBENCH_ERR_INPUT');
    expect(failure(join(dir, 'nope.json')).message).toBe(
      `cannot read ${join(dir, 'nope.json')}: no such file or directory`,
    );
  });

  it('checks the runs a compare/fairness/sweep document carries', () => {
    const doc = {
      kind: 'ajpbench-compare',
      version: 1,
      pass: true,
      result: {},
      text: 'ok\n',
      html: { title: 't', runs: [{ name: 'a', report: withValue('requests', 'lots') }] },
    };
    expect(failure(write('cmp.json', doc)).message).toMatch(
      /cmp\.json: not valid ajpbench-compare results: html\.runs\[0\]\.report\.requests is a string/,
    );
    const fine = { ...doc, html: { title: 't', runs: [{ name: 'a', report: good() }] } };
    expect(readResultsFile(write('cmp-ok.json', fine)).kind).toBe('verdict');
    expect(failure(write('cmp-bad.json', { ...doc, text: 5 })).message).toMatch(/text is the number 5, not a string/);
  });
});

describe('mergeReports with --verify', () => {
  it('sums mismatches of the same kind over the runs, examples kept up to the cap', () => {
    const withVerify = (n: number, id: number): ReplayReport => ({
      ...buildReport(steady(10, 1, [1])),
      verify: {
        compared: 10,
        matched: 10 - n,
        mismatched: n,
        byKind: [
          { kind: 'status', count: n, examples: [{ exchangeId: id, uri: '/a', expected: 200, actual: 500 }] },
          { kind: 'body', count: 1, examples: [{ exchangeId: id, uri: '/b', expected: 'x', actual: 'y' }] },
        ],
      },
    });
    const m = mergeReports([
      { name: 'a', report: withVerify(3, 1) },
      { name: 'b', report: withVerify(4, 2) },
      { name: 'c', report: withVerify(2, 3) },
    ]);
    expect(m.verify).toMatchObject({ compared: 30, matched: 21, mismatched: 9 });
    expect(m.verify?.byKind.map((k) => [k.kind, k.count])).toEqual([
      ['status', 9],
      ['body', 3],
    ]);
    expect(m.verify?.byKind[0]?.examples.map((e) => e.exchangeId)).toEqual([1, 2, 3]);
  });
});

/** What replay --sessions adds to a report. */
const SESSIONS = {
  started: 2,
  completed: 1,
  kept: 1,
  broken: 1,
  unknown: 0,
  withErrors: 0,
  renewed: 1,
  requests: 5,
  sessionless: 1,
  byRoute: [{ route: 'tomcat1', sessions: 2, broken: 1 }],
  list: [
    {
      id: 'A1',
      pass: 0,
      steps: 3,
      requests: 3,
      completed: true,
      errors: 0,
      targetSessions: 2,
      routes: ['tomcat1', 'tomcat2'],
    },
  ],
  unlisted: 1,
};

describe('replay --sessions in results files', () => {
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../../docs/results.schema.json'), 'utf8')) as {
    $id: string;
  };
  const validate = new Ajv2020({ allErrors: true, strict: false })
    .addSchema(schema)
    .compile({ $ref: `${schema.$id}#/$defs/replayResults` });
  it('a report with sessions is read, and one without (older files) still is', () => {
    expect(replayResultsProblems({ ...good(), sessions: SESSIONS })).toEqual([]);
    expect(validate({ ...good(), sessions: SESSIONS }), JSON.stringify(validate.errors)).toBe(true);
    expect(replayResultsProblems(good())).toEqual([]);
    expect(validate(good())).toBe(true);
  });
  it.each([
    ['sessions', 'many', /sessions is a string, not an object/],
    ['sessions.broken', -1, /sessions\.broken is the number -1, not a whole number/],
    ['sessions.list', [{ id: 'A1' }], /sessions\.list\[0\]\.routes is missing/],
  ])('refuses %s = %j, as the schema does', (path, value, message) => {
    const bad = { ...good(), sessions: structuredClone(SESSIONS) } as Record<string, unknown>;
    const keys = path.split('.');
    let o = bad;
    for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[keys.at(-1) as string] = value;
    expect(replayResultsProblems(bad).join('\n')).toMatch(message);
    expect(validate(bad)).toBe(false);
  });
  it('merged runs add their sessions up', () => {
    const a = { ...(good() as unknown as ReplayReport), sessions: SESSIONS };
    const m = mergeReports([
      { name: 'a', report: a },
      { name: 'b', report: a },
    ]);
    expect(m.sessions).toMatchObject({ started: 4, broken: 2, renewed: 2, requests: 10, unlisted: 2 });
    expect(m.sessions?.list).toHaveLength(2);
  });
});

describe('docs/results.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../../docs/results.schema.json'), 'utf8')) as {
    $id: string;
  };
  const ajv = new Ajv2020({ allErrors: true, strict: false }).addSchema(schema);
  const validate = ajv.compile({ $ref: `${schema.$id}#/$defs/replayResults` });

  it('accepts what replay writes, as the reader does', () => {
    expect(validate(good()), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['latency', null],
    ['requests', 'lots'],
    ['requests.total', 'lots'],
    ['requests.perSecond', -1],
    ['measuredMs', null],
    ['latency.timeToHeadersUs.p99', '5ms'],
    ['byRoute', {}],
    ['throughput.series', 3],
    ['errors.byKind', [{ kind: 'timeout', count: 'many', example: null }]],
    ['schedule.model', 7],
    ['config.targets', [1, 2]],
    ['warnings', 'none'],
    ['verify', { compared: 1 }],
    ['connections', [{ target: 'x' }]],
  ])('refuses %s = %j, as the reader does', (path, value) => {
    const bad = withValue(path, value);
    expect(validate(bad)).toBe(false);
    expect(replayResultsProblems(bad)).not.toEqual([]);
  });
});

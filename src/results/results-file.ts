/**
 * Reading a results file back (`ajpbench report`): replay's --json, or the verdict document of
 * compare, fairness and sweep. Every field the report, its tables, thresholds and charts read is
 * checked before anything reads it, and every histogram is decoded once: a damaged or hand-edited
 * file (`"latency": null`, `"requests": "lots"`, a cut-off histogram) is refused in one line that
 * names the field, rather than a TypeError, NaN in a table, or a stack from the base64 decoder.
 * docs/results.schema.json is the same contract as a JSON Schema (tested to agree).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describeFileError, RuntimeError } from '../errors.js';
import { describeValue } from '../trace/exchange-shape.js';
import { decodeHistogram } from './latency-histogram.js';
import type { ReplayReport } from './replay-report.js';
import { VERDICT_KINDS, type VerdictDocument } from './verdict-document.js';

export const REPLAY_RESULTS_KIND = 'ajpbench-replay';
/** Problems gathered before giving up on a file (one is shown, the rest counted). */
const MAX_PROBLEMS = 50;

export type ResultsFile = { kind: 'replay'; report: ReplayReport } | { kind: 'verdict'; doc: VerdictDocument };

/** Reads, parses and checks one results file; throws a RuntimeError (AJPBENCH_ERR_INPUT, AJPBENCH_ERR_RESULTS) naming the file. */
export function readResultsFile(file: string): ResultsFile {
  const name = basename(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RuntimeError(`cannot read ${file}: ${describeFileError(e)}`, 'AJPBENCH_ERR_INPUT');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RuntimeError(`${name}: not JSON: ${(e as Error).message}`, 'AJPBENCH_ERR_RESULTS');
  }
  const kind = resultsKind(value);
  if (kind === undefined)
    throw new RuntimeError(
      `${name}: not an ajpbench results file (write one with replay, compare, fairness or sweep --json)`,
      'AJPBENCH_ERR_RESULTS',
    );
  const problems = kind === REPLAY_RESULTS_KIND ? replayResultsProblems(value) : verdictProblems(value);
  if (problems.length > 0) {
    const more = problems.length - 1;
    const rest =
      more === 0
        ? ''
        : ` (and ${more}${problems.length >= MAX_PROBLEMS ? '+' : ''} more problem${more === 1 ? '' : 's'})`;
    throw new RuntimeError(
      `${name}: not valid ${kind === REPLAY_RESULTS_KIND ? 'replay' : kind} results: ${problems[0]}${rest}`,
      'AJPBENCH_ERR_RESULTS',
    );
  }
  return kind === REPLAY_RESULTS_KIND
    ? { kind: 'replay', report: value as ReplayReport }
    : { kind: 'verdict', doc: value as VerdictDocument };
}

/**
 * Which results a parsed file claims to be: a verdict document by its `kind`, replay results by
 * its `kind` or, for files written before replay named it, by any of replay's own fields.
 */
function resultsKind(v: unknown): string | undefined {
  if (!isRecord(v)) return undefined;
  if (typeof v.kind === 'string' && (VERDICT_KINDS as readonly string[]).includes(v.kind)) return v.kind;
  if (v.kind === REPLAY_RESULTS_KIND) return REPLAY_RESULTS_KIND;
  return v.kind === undefined &&
    ['startedAt', 'measuredMs', 'requests', 'latency', 'throughput', 'byRoute'].some((k) => k in v)
    ? REPLAY_RESULTS_KIND
    : undefined;
}

/** What is wrong with a replay results value, wrong values before missing ones; empty when it can be used. */
export function replayResultsProblems(v: unknown, at = ''): string[] {
  const out: Problem[] = [];
  REPLAY_REPORT(v, at, out);
  return ordered(out);
}

function verdictProblems(v: unknown): string[] {
  const out: Problem[] = [];
  VERDICT_DOCUMENT(v, '', out);
  return ordered(out);
}

// --- a small checker: each check adds the problems of one value under its path ------------------

interface Problem {
  text: string;
  /** The field is absent (shown after fields that are present with a wrong value). */
  missing: boolean;
}
type Check = (v: unknown, at: string, out: Problem[]) => void;

function ordered(out: Problem[]): string[] {
  return [...out.filter((p) => !p.missing), ...out.filter((p) => p.missing)].map((p) => p.text);
}

function fail(out: Problem[], at: string, v: unknown, want: string): void {
  if (out.length >= MAX_PROBLEMS) return;
  const where = at === '' ? 'the file' : at;
  out.push(
    v === undefined
      ? { text: `${where} is missing`, missing: true }
      : { text: `${where} is ${describeValue(v)}, not ${want}`, missing: false },
  );
}

const join = (at: string, key: string): string => (at === '' ? key : `${at}.${key}`);

const number =
  (min = -Infinity): Check =>
  (v, at, out) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
      fail(out, at, v, min === 0 ? 'a number ≥ 0' : 'a number');
  };
const count: Check = (v, at, out) => {
  if (!Number.isSafeInteger(v) || (v as number) < 0) fail(out, at, v, 'a whole number ≥ 0');
};
const string: Check = (v, at, out) => {
  if (typeof v !== 'string') fail(out, at, v, 'a string');
};
const boolean: Check = (v, at, out) => {
  if (typeof v !== 'boolean') fail(out, at, v, 'true or false');
};
const nullable =
  (c: Check): Check =>
  (v, at, out) => {
    if (v !== null) c(v, at, out);
  };
const optional =
  (c: Check): Check =>
  (v, at, out) => {
    if (v !== undefined) c(v, at, out);
  };
const oneOf =
  (want: string, ...ok: ((v: unknown) => boolean)[]): Check =>
  (v, at, out) => {
    if (!ok.some((f) => f(v))) fail(out, at, v, want);
  };
const list =
  (item: Check): Check =>
  (v, at, out) => {
    if (!Array.isArray(v)) return fail(out, at, v, 'a list');
    for (let i = 0; i < v.length && out.length < MAX_PROBLEMS; i++) item(v[i], `${at}[${i}]`, out);
  };
const record =
  (value: Check): Check =>
  (v, at, out) => {
    if (!isRecord(v)) return fail(out, at, v, 'an object');
    for (const [k, x] of Object.entries(v)) value(x, join(at, k), out);
  };
/** An object with these fields (others are allowed: a newer ajpbench may add some). */
const object =
  (fields: Record<string, Check>): Check =>
  (v, at, out) => {
    if (!isRecord(v)) return fail(out, at, v, 'an object');
    for (const [k, c] of Object.entries(fields)) c(v[k], join(at, k), out);
  };
const time: Check = (v, at, out) => {
  if (typeof v !== 'string') return fail(out, at, v, 'an ISO 8601 time');
  if (!Number.isFinite(Date.parse(v)))
    out.push({
      text: `${at} is ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}, not an ISO 8601 time`,
      missing: false,
    });
};
/** HdrHistogram's compressed base64 (or '' for an empty one), decoded here once so that no reader meets a bad one. */
const histogram: Check = (v, at, out) => {
  if (typeof v !== 'string') return fail(out, at, v, 'an encoded histogram (a string)');
  try {
    decodeHistogram(v);
  } catch {
    out.push({ text: `${at} does not decode as an HdrHistogram (compressed base64)`, missing: false });
  }
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// --- the contract: what replay --json writes and the readers read --------------------------------

const LATENCY = object({
  count: count,
  mean: nullable(number()),
  p50: nullable(number()),
  p90: nullable(number()),
  p99: nullable(number()),
  p99_9: nullable(number()),
  max: nullable(number()),
  histogram,
});

const GROUP = object({ name: string, count, share: number(0), timeToHeadersUs: LATENCY, timeToCompleteUs: LATENCY });

const scalar = (v: unknown): boolean =>
  v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

const REPLAY_REPORT: Check = object({
  config: object({ warmupMs: optional(number(0)), targets: optional(list(string)) }),
  startedAt: time,
  schedule: object({
    model: string,
    startMs: number(),
    elapsedMs: number(0),
    stoppedBy: string,
    sent: count,
    warmupRequests: count,
    abandoned: count,
    notSent: count,
    lateSends: count,
    maxLateMs: number(),
    queued: count,
    maxBacklog: count,
  }),
  measuredMs: number(0),
  requests: object({ total: count, responses: count, errors: count, perSecond: number(0) }),
  latency: object({ timeToHeadersUs: LATENCY, timeToCompleteUs: LATENCY }),
  byRoute: list(GROUP),
  byStatusClass: list(GROUP),
  statuses: list(object({ status: number(), count })),
  errors: object({ total: count, byKind: list(object({ kind: string, count, example: nullable(string) })) }),
  throughput: object({
    intervalMs: number(0),
    // p99Us and workers came later: older files lack them.
    series: list(
      object({
        second: count,
        responses: count,
        errors: count,
        p99Us: optional(nullable(number(0))),
        workers: optional(record(count)),
      }),
    ),
  }),
  bytes: object({ sent: number(0), received: number(0), responseBodies: number(0) }),
  workers: optional(list(object({ name: string, count, share: number(0) }))),
  connections: list(
    object({
      target: string,
      opened: count,
      failed: count,
      reused: count,
      closedNoReuse: count,
      closedOnError: count,
      cpings: count,
      cpingFailures: count,
    }),
  ),
  verify: nullable(
    object({
      compared: count,
      matched: count,
      mismatched: count,
      byKind: list(
        object({
          kind: string,
          count,
          examples: list(
            object({
              exchangeId: number(),
              uri: string,
              expected: oneOf('a string, number or null', scalar),
              actual: oneOf('a string, number or null', scalar),
            }),
          ),
        }),
      ),
    }),
  ),
  // Came with issue 12: older files lack it.
  generator: optional(
    object({
      threads: count,
      wallMs: number(0),
      cpuMs: number(0),
      cpuShare: number(0),
      eventLoopDelayUs: object({ p50: number(0), p99: number(0), max: number(0) }),
      lateShare: number(0),
      bound: boolean,
      reasons: list(string),
    }),
  ),
  // Came with replay --sessions: older files and runs without it lack it.
  sessions: optional(
    object({
      started: count,
      completed: count,
      kept: count,
      broken: count,
      unknown: count,
      withErrors: count,
      renewed: count,
      requests: count,
      sessionless: count,
      byRoute: list(object({ route: string, sessions: count, broken: count })),
      list: list(
        object({
          id: string,
          pass: count,
          steps: count,
          requests: count,
          completed: boolean,
          errors: count,
          targetSessions: count,
          routes: list(string),
        }),
      ),
      unlisted: count,
    }),
  ),
  warnings: list(string),
});

const nullableString = nullable(string);

/** A diff's results as its HTML section reads them (verdict/diff/diff-run.ts DiffReport). */
const DIFF_REPORT = object({
  file: string,
  sample: nullable(number(0)),
  sent: count,
  stoppedBy: string,
  targets: object({ primary: string, candidate: string, secondary: nullableString }),
  summary: object({
    compared: count,
    equal: count,
    differing: count,
    noiseOnly: count,
    dropped: count,
    droppedBy: list(object({ reason: string, count })),
    byKind: list(object({ kind: string, exchanges: count, differences: count })),
    groups: list(
      object({
        pattern: string,
        field: string,
        differences: count,
        noise: count,
        examples: list(
          object({
            id: number(),
            path: optional(string),
            before: nullableString,
            after: nullableString,
            noise: boolean,
          }),
        ),
      }),
    ),
    groupsLeftOut: count,
  }),
});

/** A compare/fairness/sweep/diff document: what `report` prints and draws, and the replay runs it carries. */
const VERDICT_DOCUMENT: Check = object({
  kind: string,
  pass: boolean,
  text: string,
  html: object({
    title: string,
    runs: optional(list(object({ name: string, report: REPLAY_REPORT }))),
    diff: optional(DIFF_REPORT),
  }),
});

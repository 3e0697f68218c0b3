/** `record --mirror`: its flags, the mirror they describe, and its lines in the status and the summary (docs/record.md, Mirror). */
import { InvalidArgumentError, type Command } from 'commander';
import type { RecordSummary, TapSpec } from '../capture/index.js';
import type { HtmlReportInput } from '../report/html-input.js';
import { renderHtmlReport } from '../report/html-report.js';
import { createMirrorVerdict, type MirrorVerdict } from '../verdict/mirror-verdict.js';
import { DEFAULT_MIRROR_QUEUE, ShadowMirror } from '../verdict/shadow-mirror.js';
import {
  evaluateDiffThresholds,
  renderThresholds,
  type Threshold,
  type ThresholdResult,
} from '../verdict/threshold.js';
import { writeOutput } from './files.js';
import { formatHostPort, type HostPort } from '../host-port.js';
import { parseTarget } from '../load/index.js';
import { parseShare } from '../verdict/fairness.js';
import type { DiffGroup, DiffSummary } from '../verdict/diff/index.js';
import type { MirrorStats, MirrorTarget, ShadowMirrorOptions } from '../verdict/shadow-mirror.js';
import { usageError } from './exit-codes.js';
import { asFlagParser, parseDuration, parseInteger, parseSize } from './options.js';

/** What the mirror needs of record's other flags. */
export interface RecordMirrorFlags extends MirrorFlags {
  redact: boolean;
  maxPacketSize: number;
  maxExchanges?: number;
  threshold?: Threshold[];
  html?: string;
}

export interface MirrorFlags {
  mirror?: HostPort[];
  mirrorSecondary?: HostPort[];
  mirrorSample?: number;
  mirrorSecret?: string;
  mirrorConnections: number;
  mirrorQueue: number;
  mirrorTimeout: number;
  mirrorMaxBody: number;
  compareHeaders?: string[];
  ignoreHeader?: string[];
}

/** The body bytes a mirror holds per exchange at most (the flag's upper bound): a copy in flight holds up to three. */
const MAX_MIRROR_BODY = 16 * 1024 * 1024;

const collectAjpTarget =
  (flag: string) =>
  (v: string, prev: HostPort[] | undefined): HostPort[] => {
    const t = asFlagParser(parseTarget)(v);
    if (t.protocol !== 'ajp') throw new InvalidArgumentError(`${flag} takes ajp://host:port, got ${JSON.stringify(v)}`);
    return [...(prev ?? []), { host: t.host, port: t.port }];
  };

const collectNames = (v: string, prev: string[] | undefined): string[] => [
  ...(prev ?? []),
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
];

export function addMirrorOptions(cmd: Command): Command {
  return cmd
    .option(
      '--mirror <ajp://host:port>',
      'also send every exchange to this candidate, after production answered, and compare the answers; once for all taps, or once per tap in --tap order',
      collectAjpTarget('--mirror'),
    )
    .option(
      '--mirror-secondary <ajp://host:port>',
      'a second copy of the production version: differences it shows too are noise, not regressions (as many as --mirror)',
      collectAjpTarget('--mirror-secondary'),
    )
    .option(
      '--mirror-sample <share>',
      'mirror this share of user sessions, whole (JSESSIONID without its route), e.g. 10%',
      asFlagParser((v) => parseShare(v, '--mirror-sample')),
    )
    .option(
      '--mirror-secret <secret>',
      "the AJP secret sent to candidate and secondary (production's is never passed on)",
    )
    .option(
      '--mirror-connections <n>',
      'connections to each candidate and secondary at most (requests in flight); 1 to 256',
      (v) => parseInteger(v, '--mirror-connections', { min: 1, max: 256 }),
      8,
    )
    .option(
      '--mirror-queue <n>',
      'copies waiting for a candidate at most; past it they are dropped and counted (a long queue only holds ' +
        'stale copies and costs production latency in garbage collection); 1 to 1000000',
      (v) => parseInteger(v, '--mirror-queue', { min: 1, max: 1_000_000 }),
      DEFAULT_MIRROR_QUEUE,
    )
    .option(
      '--mirror-timeout <duration>',
      'a candidate answer not complete within this is a failure (no-response); above 0, up to 24d',
      (v) => parseDuration(v, '--mirror-timeout'),
      10_000,
    )
    .option(
      '--mirror-max-body <size>',
      'body bytes held per exchange for the mirror, 0 to 16MiB: a longer request is not mirrored, a longer response compares by SHA-256',
      (v) => parseSize(v, '--mirror-max-body', { min: 0, max: MAX_MIRROR_BODY }),
      1024 * 1024,
    )
    .option(
      '--compare-headers <names>',
      'compare only these response headers (comma list, repeatable); default: all but Date, Content-Length and the like',
      collectNames,
    )
    .option('--ignore-header <names>', 'never compare these response headers (comma list, repeatable)', collectNames);
}

/** The mirror the flags ask for, or undefined without --mirror; usage errors for flags that do not fit together. */
export function mirrorPlan(
  flags: MirrorFlags,
  taps: readonly TapSpec[],
): Omit<ShadowMirrorOptions, 'comparator' | 'redact'> | undefined {
  const candidates = flags.mirror ?? [];
  const secondaries = flags.mirrorSecondary ?? [];
  if (candidates.length === 0) {
    for (const [flag, given] of [
      ['--mirror-secondary', flags.mirrorSecondary],
      ['--mirror-sample', flags.mirrorSample],
      ['--mirror-secret', flags.mirrorSecret],
      ['--compare-headers', flags.compareHeaders],
      ['--ignore-header', flags.ignoreHeader],
    ] as const) {
      if (given !== undefined) throw usageError(`${flag} needs --mirror`);
    }
    return undefined;
  }
  if (candidates.length !== 1 && candidates.length !== taps.length)
    throw usageError(
      `--mirror: give one candidate for all taps or one per tap (${taps.length}), got ${candidates.length}`,
    );
  if (secondaries.length > 0 && secondaries.length !== candidates.length)
    throw usageError(`--mirror-secondary: give one per --mirror (${candidates.length}), got ${secondaries.length}`);
  return {
    targets: candidates.length === 1 ? [target(candidates, secondaries, 0)] : perTap(candidates, secondaries, taps),
    ...(flags.mirrorSample === undefined ? {} : { sample: flags.mirrorSample }),
    ...(flags.mirrorSecret === undefined ? {} : { secret: flags.mirrorSecret }),
    connections: flags.mirrorConnections,
    maxQueued: flags.mirrorQueue,
    requestTimeoutMs: flags.mirrorTimeout,
    maxBodyBytes: flags.mirrorMaxBody,
  };
}

function target(candidates: HostPort[], secondaries: HostPort[], i: number): MirrorTarget {
  const secondary = secondaries[i];
  return { candidate: candidates[i] as HostPort, ...(secondary === undefined ? {} : { secondary }) };
}

/** One candidate per tap: an exchange is the tap's by its worker label and upstream (what its events carry). */
function perTap(candidates: HostPort[], secondaries: HostPort[], taps: readonly TapSpec[]): MirrorTarget[] {
  const keys = taps.map((t) => `${t.worker ?? ''}@${formatHostPort(t.upstream)}`);
  if (new Set(keys).size !== keys.length)
    throw usageError('--mirror per tap needs taps told apart by their upstream or @worker label');
  return taps.map((t, i) => {
    const upstream = formatHostPort(t.upstream);
    return {
      ...target(candidates, secondaries, i),
      matches: (e) => e.upstream === upstream && e.worker === t.worker,
    };
  });
}

/** For the status line: `mirror 120 compared, 2 differ, 5 dropped`. */
export function mirrorStatus(s: MirrorStats): string {
  return `, mirror ${s.compared} compared, ${s.differing} differ, ${s.dropped} dropped${s.candidatesDown > 0 ? ' (candidate down)' : ''}`;
}

/** The summary's mirror lines. */
export function mirrorSummaryText(s: MirrorStats, candidates: readonly string[]): string[] {
  const kinds = Object.entries(s.differingByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const dropped = Object.entries(s.droppedBy)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines = [
    `mirror -> ${candidates.join(', ')}: ${s.seen} exchanges, ${s.mirrored} mirrored, ${s.compared} compared: ` +
      `${s.equal} equal, ${s.differing} differ${kinds === '' ? '' : ` (${kinds})`}, ${s.noise} noise only; ` +
      `${s.dropped} dropped${dropped === '' ? '' : ` (${dropped})`}`,
  ];
  const notes: string[] = [];
  if (s.sampledOut > 0) notes.push(`${s.sampledOut} left out by --mirror-sample`);
  if (s.tooLarge > 0) notes.push(`${s.tooLarge} not mirrored: request body above --mirror-max-body`);
  if (s.candidateErrors > 0) notes.push(`${s.candidateErrors} candidate answers failed`);
  if (s.secondaryErrors > 0) notes.push(`${s.secondaryErrors} secondary answers failed`);
  if (notes.length > 0) lines.push(`  ${notes.join('; ')}`);
  return lines;
}

/** Groups listed on exit; --json has them all (up to the summary's bound). */
const GROUPS_SHOWN = 10;

/** On exit: the differences by URI pattern and field, regressions first, noise apart, an example each. */
export function mirrorDiffText(s: DiffSummary): string {
  const regressions = s.groups.filter((g) => g.differences > 0);
  const noise = s.groups.filter((g) => g.differences === 0 && g.noise > 0);
  const lines: string[] = [];
  const list = (title: string, groups: DiffGroup[], asNoise: boolean): void => {
    if (groups.length === 0) return;
    lines.push(title);
    for (const g of groups.slice(0, GROUPS_SHOWN)) {
      const e = g.examples.find((x) => x.noise === asNoise) ?? g.examples[0];
      const example = e === undefined ? '' : `, e.g. #${e.id}: ${e.before ?? '(absent)'} -> ${e.after ?? '(absent)'}`;
      lines.push(`  ${g.pattern}  ${g.field}: ${asNoise ? g.noise : g.differences}${example}`);
    }
    if (groups.length > GROUPS_SHOWN) lines.push(`  and ${groups.length - GROUPS_SHOWN} more (see --json)`);
  };
  list('mirror differences (by URI pattern and field):', regressions, false);
  list('mirror noise (production and secondary differ there too; not counted):', noise, true);
  if (regressions.length === 0 && s.compared > 0) lines.push('mirror: no difference outside the noise');
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/** The mirror --mirror asks for, with the comparison engine it feeds; undefined without --mirror. */
export interface RecordMirror {
  mirror: ShadowMirror;
  verdict: MirrorVerdict;
  candidates: string[];
  secondaries: string[];
  /** --mirror-sample, null for all. */
  sample: number | null;
}

export function createRecordMirror(flags: RecordMirrorFlags, taps: TapSpec[]): RecordMirror | undefined {
  const plan = mirrorPlan(flags, taps);
  if (plan === undefined) {
    if (flags.threshold !== undefined) throw usageError('--threshold on record needs --mirror (diffs<0.1%)');
    if (flags.html !== undefined) throw usageError('--html on record needs --mirror (the comparison is what it shows)');
    return undefined;
  }
  const load = flags.threshold?.find((t) => t.metric.kind !== 'diffs');
  if (load !== undefined)
    throw usageError(`--threshold ${load.text}: record --mirror checks diffs only (diffs<0.1%, diffs<5)`);
  const verdict = createMirrorVerdict({
    secondary: plan.targets.some((t) => t.secondary !== undefined),
    ...(flags.compareHeaders === undefined ? {} : { compareHeaders: flags.compareHeaders }),
    ...(flags.ignoreHeader === undefined ? {} : { ignoreHeaders: flags.ignoreHeader }),
  });
  const mirror = new ShadowMirror({
    ...plan,
    comparator: verdict.comparator,
    redact: flags.redact,
    maxPacketSize: flags.maxPacketSize,
    ...(flags.maxExchanges === undefined ? {} : { maxExchanges: flags.maxExchanges }),
    onNotice: (m) => process.stderr.write(`\nrecord: ${m}\n`),
  });
  return {
    mirror,
    verdict,
    candidates: plan.targets.map((t) => formatHostPort(t.candidate)),
    secondaries: plan.targets.flatMap((t) => (t.secondary === undefined ? [] : [formatHostPort(t.secondary)])),
    sample: plan.sample ?? null,
  };
}

/**
 * After the summary: the comparison's differences (by URI pattern and field) and the --threshold
 * verdicts, on stderr (stdout may be the trace). Whether every threshold passed.
 */
export function reportMirrorVerdicts(
  mirror: RecordMirror,
  flags: RecordMirrorFlags,
  s: RecordSummary,
  trace: string,
): boolean {
  const summary = mirror.verdict.summary();
  const results = evaluateDiffThresholds(summary, flags.threshold ?? []);
  process.stderr.write(mirrorDiffText(summary) + (results.length === 0 ? '' : `\n${renderThresholds(results)}`));
  const pass = results.every((r) => r.pass);
  if (flags.html !== undefined) writeOutput(flags.html, renderHtmlReport(mirrorHtml(mirror, s, trace, results, pass)));
  return pass;
}

/** The HTML page of a mirrored recording: the comparison's section (differences by URI pattern and field, noise apart). */
function mirrorHtml(
  mirror: RecordMirror,
  s: RecordSummary,
  trace: string,
  thresholds: ThresholdResult[],
  pass: boolean,
): HtmlReportInput {
  const m = mirror.mirror.summary;
  const diff = mirror.verdict.summary();
  const startedAt = new Date(Date.now() - s.elapsedMs).toISOString();
  return {
    title: `ajpbench record --mirror: ${mirror.candidates.join(', ')} against production`,
    subtitle: [
      `trace ${trace}`,
      `started ${startedAt}`,
      `stopped (${s.stopReason}) after ${(s.elapsedMs / 1000).toFixed(1)} s`,
    ],
    runs: [],
    diff: {
      summary: diff,
      targets: {
        primary: `production (${s.taps.map((t) => t.upstream).join(', ')}, as the tap saw it)`,
        candidate: mirror.candidates.join(', '),
        secondary: mirror.secondaries.length === 0 ? null : mirror.secondaries.join(', '),
      },
      trace: {
        exchanges: m.seen,
        sampledOut: m.sampledOut,
        skippedMalformed: 0,
        skippedTruncated: m.tooLarge,
        unreadableLines: 0,
      },
      answered: {
        primary: m.seen,
        candidate: m.mirrored - m.candidateErrors,
        secondary: mirror.secondaries.length === 0 ? null : m.compared - m.secondaryErrors,
      },
      sent: m.mirrored,
      stoppedBy: s.stopReason === 'signal' ? 'Ctrl-C' : s.stopReason === 'max-exchanges' ? 'requests' : 'end of trace',
      startedAt,
      elapsedMs: s.elapsedMs,
      file: trace,
      sample: mirror.sample,
    },
    thresholds,
    verdict: {
      pass,
      lines: [
        `${diff.differing} of ${diff.compared} mirrored exchanges differ${diff.noiseOnly > 0 ? ` (${diff.noiseOnly} more only in noise)` : ''}; ${m.dropped} copies dropped`,
        ...thresholds.filter((t) => !t.pass).map((t) => t.message),
      ],
    },
  };
}

/**
 * The comparison engine: the one entry point that `ajpbench diff` (offline, verdict/diff/diff-run.ts)
 * and `record --mirror` (live) both feed. Usage:
 *
 * ```ts
 * const engine = new DiffEngine({ secondary: true, headers: headerRules({ ignore: ['x-request-id'] }) });
 * // per exchange, once the primary's, the candidate's (and the secondary's) answers are in:
 * const d = engine.compare({ id, uri, primary, candidate, secondary });   // ObservedResponse | ObservedFailure
 * if (d.outcome !== 'equal') writer.write(diffEvent(d, tUs));             // the trace's `diff` event
 * engine.drop('candidate queue full');                                    // an exchange not compared
 * const summary = engine.summary();                                       // counts and groups, any time
 * engine.counts();                                                        // the counts alone, cheap (--status)
 * ```
 *
 * `primary` must be an answer (an exchange whose primary failed is not comparable: `drop` it);
 * a candidate failure is a `no-response` difference; a secondary failure only means no noise is
 * learned from that exchange. Everything it keeps is bounded (diff-summary.ts, noise-learner.ts),
 * so a mirror may run it for days. Synchronous and cheap when bodies are equal (one hash compare).
 */
import type { DiffEntry, DiffEvent } from '../../trace/trace-types.js';
import { foldUri } from '../../trace/uri-fold.js';
import { isFailure, type Observed, type ObservedResponse } from '../../trace/observed-response.js';
import { headerRules, type HeaderRules } from './header-rules.js';
import { NoiseLearner } from './noise-learner.js';
import { compareResponses, type Difference } from './response-diff.js';
import {
  DiffSummaryBuilder,
  type DiffCounts,
  type DiffSummary,
  type ExchangeDiff,
  type JudgedDifference,
} from './diff-summary.js';

export interface DiffEngineOptions {
  /** A secondary (a second copy of the primary's version) answers too: noise is learned from it. */
  secondary?: boolean;
  headers?: HeaderRules;
  /**
   * Fields never reported, as the output names them: `body:$.token` (and every path under it:
   * `body:$.token.exp`, `body:$.token[0]`), `body:$.items[*].at`, `header:x-request-id`, `status`.
   */
  ignoreFields?: readonly string[];
  /** Body differences listed at most per exchange (JSON paths, text hunks); default 100. */
  maxBodyDifferences?: number;
  maxGroups?: number;
  examplesPerGroup?: number;
}

export interface ExchangeToCompare {
  /** The exchange's id (in the trace). */
  id: number;
  /** The request URI as the trace writes it; folded into the pattern noise is learned for. */
  uri: string | null;
  /** The exchange's strings are byte strings (trace `byteStrings`). */
  byteStrings?: boolean;
  primary: ObservedResponse;
  candidate: Observed;
  secondary?: Observed;
}

export class DiffEngine {
  readonly learner = new NoiseLearner();
  private readonly builder: DiffSummaryBuilder;
  private readonly headers: HeaderRules;

  constructor(private readonly opts: DiffEngineOptions = {}) {
    this.headers = opts.headers ?? headerRules();
    this.builder = new DiffSummaryBuilder(opts.secondary === true, opts.maxGroups, opts.examplesPerGroup);
  }

  compare(x: ExchangeToCompare): ExchangeDiff {
    const pattern = foldUri(x.uri, { byteStrings: x.byteStrings === true });
    const copts = {
      headers: this.headers,
      ...(this.opts.maxBodyDifferences === undefined ? {} : { maxBodyDifferences: this.opts.maxBodyDifferences }),
    };
    const found = this.unignored(compareResponses(x.primary, x.candidate, copts).differences);
    if (x.secondary !== undefined && !isFailure(x.secondary)) {
      // Noise is what production disagrees with itself about, here and on earlier exchanges of the pattern.
      const noise = compareResponses(x.primary, x.secondary, copts).differences.map((d) => d.field);
      this.learner.learn(pattern, noise);
    }
    const differences: JudgedDifference[] = found.map((d) => ({
      ...d,
      noise: d.kind !== 'no-response' && this.learner.isNoise(pattern, d.field),
    }));
    const outcome = differences.length === 0 ? 'equal' : differences.every((d) => d.noise) ? 'noise' : 'differs';
    const diff: ExchangeDiff = { id: x.id, uri: x.uri, pattern, outcome, differences };
    this.builder.add(diff);
    return diff;
  }

  private unignored(differences: Difference[]): Difference[] {
    const ignore = this.opts.ignoreFields;
    if (ignore === undefined || ignore.length === 0) return differences;
    return differences.filter((d) => !ignore.some((f) => coveredBy(d.field, f)));
  }

  /** An exchange that could not be compared; `reason` groups the count (a short, fixed phrase). */
  drop(reason: string): void {
    this.builder.drop(reason);
  }

  /** The counts and groups, judged with all the noise learned so far (see DiffSummaryBuilder.summary). */
  summary(): DiffSummary {
    return this.builder.summary(this.learner.size, (pattern, field) => this.learner.isNoise(pattern, field));
  }

  /** The running counts alone, as judged when each exchange was compared (no sorting, no judging again): for a progress line. */
  counts(): DiffCounts {
    return this.builder.counts();
  }
}

/** `field` is `ignored` or a path under it (`body:$.a` covers `body:$.a.b` and `body:$.a[*]`, not `body:$.ab`). */
export function coveredBy(field: string, ignored: string): boolean {
  if (!field.startsWith(ignored)) return false;
  const next = field.charAt(ignored.length);
  return next === '' || next === '.' || next === '[';
}

/** The most differences a diff event lists. */
export const MAX_DIFF_EVENT_ENTRIES = 32;

/** The trace's `diff` event for an exchange that did not compare equal; `t` in µs since the trace start. */
export function diffEvent(d: ExchangeDiff, t: number): DiffEvent {
  const entries: DiffEntry[] = d.differences.slice(0, MAX_DIFF_EVENT_ENTRIES).map((x) => ({
    kind: x.kind,
    field: x.field,
    ...(x.path === undefined ? {} : { path: x.path }),
    before: x.before,
    after: x.after,
    noise: x.noise,
  }));
  const more = d.differences.length - entries.length;
  return {
    event: 'diff',
    t,
    id: d.id,
    uri: d.uri,
    pattern: d.pattern,
    outcome: d.outcome === 'noise' ? 'noise' : 'differs',
    differences: entries,
    ...(more > 0 ? { more } : {}),
  };
}

/**
 * The counts of a comparison run, and its differences grouped by URI pattern and field with a few
 * examples each, as the terminal table, --json and the HTML section show them. Bounded in memory
 * whatever the traffic: at most `maxGroups` groups (differences in further groups are counted, not
 * grouped), `examples` examples per group, MAX_DROP_REASONS reasons for dropped exchanges.
 */
import { DIFF_KINDS, type DiffKind, type Difference } from './response-diff.js';

export interface JudgedDifference extends Difference {
  /** Primary and secondary differ here too: noise, not the candidate's doing. */
  noise: boolean;
}

export type ExchangeOutcome = 'equal' | 'noise' | 'differs';

/** One exchange compared, as the engine judged it. */
export interface ExchangeDiff {
  id: number;
  uri: string | null;
  pattern: string;
  outcome: ExchangeOutcome;
  differences: JudgedDifference[];
}

export interface DiffExample {
  id: number;
  uri: string | null;
  path?: string;
  before: string | null;
  after: string | null;
  noise: boolean;
}

export interface DiffGroup {
  pattern: string;
  field: string;
  kind: DiffKind;
  /** Exchanges whose candidate answer differs in this field, not as noise (regressions), and as noise. */
  differences: number;
  noise: number;
  /** The first few; a regression takes the place of a noise example once the list is full. */
  examples: DiffExample[];
}

export interface DiffSummary {
  /** A secondary target answered too, so noise was learned. */
  secondary: boolean;
  /** Exchanges whose primary answer was compared with the candidate's. */
  compared: number;
  equal: number;
  /** At least one difference that is not noise. */
  differing: number;
  /** Differences, all of them noise. */
  noiseOnly: number;
  /** Exchanges not compared (the primary gave no answer, the mirror shed it ...), by reason. */
  dropped: number;
  droppedBy: { reason: string; count: number }[];
  /** Exchanges with at least one (not noise) difference of each kind, and the differences. */
  byKind: { kind: DiffKind; exchanges: number; differences: number }[];
  /** Candidate differences judged noise, and the pattern-field pairs learned as noise. */
  noise: { differences: number; learnedFields: number };
  /** Most differences first (regressions before noise). */
  groups: DiffGroup[];
  /** Differences in groups beyond the bound, counted only. */
  groupsLeftOut: number;
}

/** The running counts, cheap to take after every exchange (a progress line, `--status`). */
export interface DiffCounts {
  compared: number;
  equal: number;
  differing: number;
  noiseOnly: number;
  dropped: number;
}

export const MAX_DIFF_GROUPS = 1000;
/**
 * Differing exchanges remembered (their pattern, fields and kinds: about 100 bytes each) so that
 * the summary can judge them again with the noise learned after them; later ones keep the
 * judgment made when they were compared.
 */
export const MAX_REJUDGED_EXCHANGES = 100_000;
export const DIFF_EXAMPLES_PER_GROUP = 3;
const MAX_DROP_REASONS = 20;

export class DiffSummaryBuilder {
  private compared = 0;
  private equal = 0;
  private differing = 0;
  private noiseOnly = 0;
  private dropped = 0;
  private readonly droppedBy = new Map<string, number>();
  private readonly kinds = new Map<DiffKind, { exchanges: number; differences: number }>();
  private noiseDifferences = 0;
  private readonly groups = new Map<string, DiffGroup>();
  private groupsLeftOut = 0;
  /** Differing exchanges as compared, to be judged again at summary time (at most MAX_REJUDGED_EXCHANGES). */
  private readonly differingSeen: { pattern: string; fields: { field: string; kind: DiffKind; n: number }[] }[] = [];

  constructor(
    private readonly secondary: boolean,
    private readonly maxGroups = MAX_DIFF_GROUPS,
    private readonly examples = DIFF_EXAMPLES_PER_GROUP,
  ) {}

  add(x: ExchangeDiff): void {
    this.compared++;
    if (x.outcome === 'equal') this.equal++;
    else if (x.outcome === 'noise') this.noiseOnly++;
    else this.differing++;
    const kindsHere = new Set<DiffKind>();
    // A field counts once per exchange (an array whose items all changed is one field, many paths).
    const fieldsHere = new Set<string>();
    for (const d of x.differences) {
      if (d.noise) this.noiseDifferences++;
      else {
        kindsHere.add(d.kind);
        this.kindCount(d.kind).differences++;
      }
      if (fieldsHere.has(d.field)) continue;
      fieldsHere.add(d.field);
      this.group(x, d);
    }
    for (const k of kindsHere) this.kindCount(k).exchanges++;
    if (x.outcome === 'differs' && this.differingSeen.length < MAX_REJUDGED_EXCHANGES) {
      const fields = new Map<string, { field: string; kind: DiffKind; n: number }>();
      for (const d of x.differences) {
        if (d.noise) continue;
        const f = fields.get(d.field);
        if (f === undefined) fields.set(d.field, { field: d.field, kind: d.kind, n: 1 });
        else f.n++;
      }
      this.differingSeen.push({ pattern: x.pattern, fields: [...fields.values()] });
    }
  }

  drop(reason: string): void {
    this.dropped++;
    const key = this.droppedBy.has(reason) || this.droppedBy.size < MAX_DROP_REASONS ? reason : 'other';
    this.droppedBy.set(key, (this.droppedBy.get(key) ?? 0) + 1);
  }

  counts(): DiffCounts {
    const { compared, equal, differing, noiseOnly, dropped } = this;
    return { compared, equal, differing, noiseOnly, dropped };
  }

  /**
   * The counts and groups. `isNoise` (the noise learner's) judges again with what was learned by
   * now: a differing exchange whose every difference lies in a field learned as noise after it was
   * compared counts as noise only, and so does a group whose field was learned as noise. The diff
   * events already written keep the judgment of their time.
   */
  summary(learnedFields: number, isNoise?: (pattern: string, field: string) => boolean): DiffSummary {
    let differing = this.differing;
    let noiseOnly = this.noiseOnly;
    let noiseDifferences = this.noiseDifferences;
    const kinds = new Map([...this.kinds].map(([k, v]) => [k, { ...v }]));
    if (isNoise !== undefined) {
      for (const x of this.differingSeen) {
        const late = x.fields.filter((f) => isNoise(x.pattern, f.field));
        if (late.length === 0) continue;
        const rest = x.fields.filter((f) => !late.includes(f));
        if (rest.length === 0) {
          differing--;
          noiseOnly++;
        }
        for (const f of late) {
          const k = kinds.get(f.kind);
          if (k === undefined) continue;
          k.differences -= f.n;
          noiseDifferences += f.n;
        }
        for (const kind of new Set(late.map((f) => f.kind))) {
          const k = kinds.get(kind);
          if (k !== undefined && !rest.some((f) => f.kind === kind)) k.exchanges--;
        }
      }
    }
    const groups = [...this.groups.values()]
      .map((g) => {
        const copy = { ...g, examples: g.examples.map((e) => ({ ...e })) };
        if (isNoise === undefined || copy.differences === 0 || !isNoise(g.pattern, g.field)) return copy;
        for (const e of copy.examples) e.noise = true;
        return { ...copy, noise: copy.noise + copy.differences, differences: 0 };
      })
      .sort((a, b) => b.differences - a.differences || b.noise - a.noise || a.pattern.localeCompare(b.pattern));
    return {
      secondary: this.secondary,
      compared: this.compared,
      equal: this.equal,
      differing,
      noiseOnly,
      dropped: this.dropped,
      droppedBy: [...this.droppedBy].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
      byKind: DIFF_KINDS.flatMap((kind) => {
        const k = kinds.get(kind);
        return k === undefined || k.exchanges <= 0 ? [] : [{ kind, ...k }];
      }),
      noise: { differences: noiseDifferences, learnedFields },
      groups,
      groupsLeftOut: this.groupsLeftOut,
    };
  }

  private kindCount(kind: DiffKind): { exchanges: number; differences: number } {
    let k = this.kinds.get(kind);
    if (k === undefined) this.kinds.set(kind, (k = { exchanges: 0, differences: 0 }));
    return k;
  }

  private group(x: ExchangeDiff, d: JudgedDifference): void {
    const key = `${x.pattern}\0${d.field}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      if (this.groups.size >= this.maxGroups) {
        this.groupsLeftOut++;
        return;
      }
      g = { pattern: x.pattern, field: d.field, kind: d.kind, differences: 0, noise: 0, examples: [] };
      this.groups.set(key, g);
    }
    if (d.noise) g.noise++;
    else g.differences++;
    const example: DiffExample = {
      id: x.id,
      uri: x.uri,
      ...(d.path === undefined ? {} : { path: d.path }),
      before: d.before,
      after: d.after,
      noise: d.noise,
    };
    if (g.examples.length < this.examples) g.examples.push(example);
    else if (!d.noise && g.noise > 0) {
      // A regression is worth more than a noise example: replace the last noise one.
      for (let i = g.examples.length - 1; i >= 0; i--) {
        if (g.examples[i]?.noise !== true) continue;
        g.examples[i] = example;
        break;
      }
    }
  }
}

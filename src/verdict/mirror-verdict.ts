/**
 * The live mirror's comparison: the diff engine (verdict/diff/, shared with `ajpbench diff`) behind
 * the MirrorComparator the mirror feeds, and the `diff` trace event for each exchange that was not equal.
 */
import { DiffEngine, diffEvent, headerRules, type DiffSummary } from './diff/index.js';
import type { MirrorComparator } from './mirror-comparator.js';

export interface MirrorVerdictOptions {
  /** A secondary answers too: noise is learned from it. */
  secondary: boolean;
  /** `--compare-headers`: only these response headers are compared. */
  compareHeaders?: readonly string[];
  /** `--ignore-header`: never these (besides the default ignore list). */
  ignoreHeaders?: readonly string[];
}

export interface MirrorVerdict {
  comparator: MirrorComparator;
  /** The comparison so far: counts, differences grouped by URI pattern and field, noise apart. */
  summary(): DiffSummary;
}

export function createMirrorVerdict(opts: MirrorVerdictOptions): MirrorVerdict {
  const engine = new DiffEngine({
    secondary: opts.secondary,
    headers: headerRules({
      ...(opts.compareHeaders === undefined ? {} : { compare: opts.compareHeaders }),
      ...(opts.ignoreHeaders === undefined ? {} : { ignore: opts.ignoreHeaders }),
    }),
  });
  return {
    comparator: {
      compare: (x, tUs) => {
        const d = engine.compare(x);
        return d.outcome === 'equal' ? d : { ...d, event: diffEvent(d, tUs) };
      },
      drop: (reason) => engine.drop(reason),
    },
    summary: () => engine.summary(),
  };
}

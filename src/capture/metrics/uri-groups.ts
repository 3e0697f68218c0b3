/**
 * The `uri` label of the metrics monitor, with a bounded number of values: a Prometheus series per
 * raw URI would grow without end (ids, session paths, scanners), and every series costs the
 * monitor and the Prometheus server memory for as long as they run.
 *
 * 1. Rules (`--uri-group NAME=GLOB` or `NAME=~REGEX`), in the order given: the first whose pattern
 *    matches the path (the URI up to `?`) gives its NAME.
 * 2. Otherwise the folded pattern (trace/uri-fold.ts: /orders/123 -> /orders/{n}), once it has been
 *    seen ADMIT_AFTER times, while fewer than `top` patterns have a label of their own. A pattern
 *    that has one keeps it for the life of the process (a counter series must not vanish).
 * 3. Everything else is `other`; a request without a URI is `(none)`.
 *
 * A pattern seen once (a scanner's probe, a typo) never takes one of the `top` places; the first
 * sightings of a pattern that is later admitted count under `other`.
 */
import { foldUri, NO_URI } from '../../trace/uri-fold.js';
import { globToRegExp } from '../../trace/uri-match.js';

export const OTHER_URI = 'other';
export const DEFAULT_URI_TOP = 50;
export const MAX_URI_TOP = 1000;
/** Sightings before a folded pattern gets its own label. */
export const ADMIT_AFTER = 2;
/** Raw URIs remembered with their label key; cleared when full (a miss only costs a fold). */
const RAW_CACHE_SIZE = 4096;
/** Patterns counted toward admission, at least; 8 per place otherwise. */
const MIN_CANDIDATES = 256;

export interface UriGroupRule {
  /** The label value. */
  name: string;
  /** As given (for messages and docs). */
  pattern: string;
  matches(path: string): boolean;
}

const RULE_NAME = /^[\w./{}:*-]{1,64}$/;

/**
 * `NAME=GLOB` (`*` any characters but `/`, `**` any characters, `?` one character but `/`; the
 * whole path must match) or `NAME=~REGEX` (JavaScript syntax, unanchored). Throws a RangeError.
 */
export function parseUriGroupRule(spec: string): UriGroupRule {
  const eq = spec.indexOf('=');
  const name = eq < 0 ? '' : spec.slice(0, eq);
  const pattern = eq < 0 ? '' : spec.slice(eq + 1);
  if (!RULE_NAME.test(name) || pattern === '')
    throw new RangeError(
      `--uri-group takes NAME=GLOB or NAME=~REGEX (NAME: at most 64 of letters, digits, _ . / { } : * -), got ${JSON.stringify(spec)}`,
    );
  let re: RegExp;
  try {
    re = pattern.startsWith('~') ? new RegExp(pattern.slice(1)) : globToRegExp(pattern);
  } catch (e) {
    throw new RangeError(`--uri-group ${name}: not a valid pattern: ${(e as Error).message}`, { cause: e });
  }
  return { name, pattern, matches: (path) => re.test(path) };
}

export interface UriGroupOptions {
  rules?: readonly UriGroupRule[];
  /** Folded patterns with a label of their own, at most (0 to MAX_URI_TOP); default DEFAULT_URI_TOP. */
  top?: number;
}

export class UriGroups {
  private readonly rules: readonly UriGroupRule[];
  private readonly top: number;
  private readonly ruleNames: ReadonlySet<string>;
  /** Raw URI (as the trace holds it) -> a rule name or the folded pattern. */
  private readonly raw = new Map<string, string>();
  private readonly admitted = new Set<string>();
  private readonly candidates = new Map<string, number>();
  private readonly maxCandidates: number;

  constructor(opts: UriGroupOptions = {}) {
    this.rules = opts.rules ?? [];
    this.top = opts.top ?? DEFAULT_URI_TOP;
    if (!(Number.isSafeInteger(this.top) && this.top >= 0 && this.top <= MAX_URI_TOP))
      throw new RangeError(`the URI top must be a whole number from 0 to ${MAX_URI_TOP}, got ${this.top}`);
    this.ruleNames = new Set(this.rules.map((r) => r.name));
    this.maxCandidates = Math.max(MIN_CANDIDATES, 8 * this.top);
  }

  /** Every label value this can give: the rule names, the admitted patterns, other and (none). */
  get labels(): number {
    return this.ruleNames.size + this.admitted.size + 2;
  }

  /** The label for a request URI; `byteStrings` as on the exchange (the URI is wire bytes). */
  label(uri: string | null, byteStrings = false): string {
    if (uri === null || uri === '') return NO_URI;
    let key = this.raw.get(uri);
    if (key === undefined) {
      key = this.classify(uri, byteStrings);
      if (this.raw.size >= RAW_CACHE_SIZE) this.raw.clear();
      this.raw.set(uri, key);
    }
    if (this.ruleNames.has(key) || this.admitted.has(key)) return key;
    return this.admit(key);
  }

  private classify(uri: string, byteStrings: boolean): string {
    if (this.rules.length > 0) {
      const q = uri.indexOf('?');
      const path = q < 0 ? uri : uri.slice(0, q);
      for (const r of this.rules) if (r.matches(path)) return r.name;
    }
    return foldUri(uri, { byteStrings });
  }

  private admit(pattern: string): string {
    if (this.admitted.size >= this.top) return OTHER_URI;
    const seen = (this.candidates.get(pattern) ?? 0) + 1;
    if (seen >= ADMIT_AFTER) {
      this.candidates.delete(pattern);
      this.admitted.add(pattern);
      return pattern;
    }
    if (this.candidates.size >= this.maxCandidates) this.forgetRare();
    this.candidates.set(pattern, seen);
    return OTHER_URI;
  }

  /** The table is full of one-off patterns: forget them all (they were seen once, so little is lost). */
  private forgetRare(): void {
    this.candidates.clear();
  }
}

/**
 * Noise, the Diffy way: a second copy of the production version (the secondary) answers each request
 * too, and a field in which primary and secondary differ (a timestamp, a random id, the node's
 * name) is noise for that URI pattern: the candidate differing there says nothing about the
 * candidate. Learned per URI pattern and field, so one exchange's noise covers the same field of
 * every later exchange of the pattern, including those where primary and secondary happen to agree
 * (and, in the summary, the earlier ones: diff-summary.ts judges them again).
 *
 * Bounded: at most MAX_NOISE_KEYS pattern-field pairs are remembered; past that, noise is still
 * recognised within each exchange (primary against secondary), only no longer remembered.
 */

export const MAX_NOISE_KEYS = 10_000;

export interface NoiseField {
  pattern: string;
  field: string;
  /** Exchanges in which primary and secondary differed in this field. */
  seen: number;
}

export class NoiseLearner {
  private readonly fields = new Map<string, NoiseField>();
  /** Pattern-field pairs not remembered because the table was full. */
  forgotten = 0;

  constructor(private readonly maxKeys = MAX_NOISE_KEYS) {}

  /** Primary and secondary differed in these fields (the `field` keys of their comparison) for a URI of this pattern. */
  learn(pattern: string, fields: Iterable<string>): void {
    for (const field of new Set(fields)) {
      const key = keyOf(pattern, field);
      const known = this.fields.get(key);
      if (known !== undefined) known.seen++;
      else if (this.fields.size < this.maxKeys) this.fields.set(key, { pattern, field, seen: 1 });
      else this.forgotten++;
    }
  }

  isNoise(pattern: string, field: string): boolean {
    return this.fields.has(keyOf(pattern, field));
  }

  /** What was learned, most seen first. */
  learned(): NoiseField[] {
    return [...this.fields.values()].sort((a, b) => b.seen - a.seen || a.pattern.localeCompare(b.pattern));
  }

  get size(): number {
    return this.fields.size;
  }
}

function keyOf(pattern: string, field: string): string {
  return `${pattern}\0${field}`;
}

/**
 * Counter and histogram families whose series are plain numbers updated in place, rendered by
 * prom-client's Registry (text format, label escaping, the OpenMetrics variant) through get(), the
 * method its Registry reads of every metric it renders.
 *
 * Why not prom-client's own Counter and Histogram on the hot path: their inc() and observe() build
 * the series' label key string and validate the labels on every call, even through a cached child
 * (measured here: 0.38 µs a histogram observation, 0.19 µs a counter increment, against 0.02 µs for
 * a cell below), and the monitor makes about eight of them per exchange on the tap's thread. Here a
 * series is looked up once (cell()) and its cell kept by the caller; an update is arithmetic.
 */
import type { Histogram, Metric } from 'prom-client';

type Labels = Record<string, string>;

/** What a family hands prom-client's Registry for one sample line. */
interface SampleValue {
  metricName: string;
  /** Sample-specific labels (le); rendered before the series labels. */
  labels: Record<string, string | number>;
  /** The series' labels: one object per series, so the Registry's per-object cache of their text holds. */
  sharedLabels: Labels;
  value: number;
}

export class CounterCell {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

/** Bucket counts (not cumulative: summed at render), sum and count of one histogram series. */
export class HistogramCell {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last one, above every bound (+Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++; // at most 16 bounds: a scan beats a search
    (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }
}

abstract class PresetFamily<Cell> {
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { labels: Labels; cell: Cell }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly labelNames: readonly string[],
  ) {}

  protected abstract newCell(): Cell;
  protected abstract samples(labels: Labels, cell: Cell, out: SampleValue[]): void;

  /** The cell of the series with these label values (in labelNames order), created on first use. Keep it. */
  cell(...values: string[]): Cell {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      s = { labels, cell: this.newCell() };
      this.series.set(key, s);
    }
    return s.cell;
  }

  /** What prom-client's Registry renders (metrics()) and lists (getMetricsAsJSON()). */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: SampleValue[] }> {
    const values: SampleValue[] = [];
    for (const s of this.series.values()) this.samples(s.labels, s.cell, values);
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Registry.resetMetrics(): every series forgotten (cells a caller kept are no longer rendered). */
  reset(): void {
    this.series.clear();
  }

  /**
   * Registers with a prom-client Registry. Its type says Metric (a prom-client class), but what the
   * Registry reads of a metric is name, type, help, get() and reset(), which this has.
   */
  registerWith(registry: { registerMetric(metric: Metric): void }): this {
    registry.registerMetric(this as unknown as Histogram);
    return this;
  }
}

export class CounterFamily extends PresetFamily<CounterCell> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, 'counter', labelNames);
  }

  protected newCell(): CounterCell {
    return new CounterCell();
  }

  protected samples(labels: Labels, cell: CounterCell, out: SampleValue[]): void {
    out.push({ metricName: this.name, labels: {}, sharedLabels: labels, value: cell.value });
  }
}

export class HistogramFamily extends PresetFamily<HistogramCell> {
  private readonly le: { le: string | number }[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {
    super(name, help, 'histogram', labelNames);
    if (bounds.some((b, i) => i > 0 && b <= (bounds[i - 1] as number)))
      throw new RangeError(`${name}: bucket bounds must increase`);
    this.le = [...bounds.map((b) => ({ le: b })), { le: '+Inf' }];
  }

  protected newCell(): HistogramCell {
    return new HistogramCell(this.bounds);
  }

  protected samples(labels: Labels, cell: HistogramCell, out: SampleValue[]): void {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    for (let i = 0; i < this.le.length; i++) {
      cumulative += cell.counts[i] as number;
      out.push({
        metricName: bucket,
        labels: this.le[i] as { le: string | number },
        sharedLabels: labels,
        value: cumulative,
      });
    }
    out.push({ metricName: `${this.name}_sum`, labels: {}, sharedLabels: labels, value: cell.sum });
    out.push({ metricName: `${this.name}_count`, labels: {}, sharedLabels: labels, value: cell.count });
  }
}

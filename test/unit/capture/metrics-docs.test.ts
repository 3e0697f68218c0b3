/**
 * docs/grafana-dashboard.json and docs/metrics.md against what the monitor exports: the dashboard
 * parses, every metric its queries read is one AjpMetrics exports (a renamed metric would leave a
 * panel silently empty), and docs/metrics.md names every metric exported.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AjpMetrics } from '../../../src/capture/index.js';

const docs = join(import.meta.dirname, '../../../docs');

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

interface Dashboard {
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
}

/** Every metric family the monitor exports, histograms by their base name. */
async function exported(): Promise<Set<string>> {
  const m = new AjpMetrics();
  return new Set((await m.registry.getMetricsAsJSON()).map((x) => x.name));
}

/** Metric names a PromQL expression reads (identifiers followed by { or [ or standing alone), series suffixes removed. */
function metricNames(expr: string): string[] {
  const names = expr.match(/\b(?:ajpbench|process|nodejs)_[a-z0-9_]+/g) ?? [];
  return names.map((n) => n.replace(/_(bucket|sum|count)$/, ''));
}

describe('docs/grafana-dashboard.json', () => {
  const dash = JSON.parse(readFileSync(join(docs, 'grafana-dashboard.json'), 'utf8')) as Dashboard;
  const panels = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');

  it('parses, and every panel has a query', () => {
    expect(dash.title).toContain('ajpbench');
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const p of panels) expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
  });

  it('reads only metrics the monitor exports, and the ones the issue asks for', async () => {
    const names = await exported();
    const exprs = [
      ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dash.templating.list.map((v) => (typeof v.query === 'object' ? v.query.query : (v.query ?? ''))),
    ];
    const used = new Set(exprs.flatMap(metricNames));
    expect([...used].filter((n) => !names.has(n))).toEqual([]);
    for (const wanted of [
      'ajpbench_exchanges_total',
      'ajpbench_exchange_duration_seconds',
      'ajpbench_time_to_headers_seconds',
      'ajpbench_uri_duration_seconds',
      'ajpbench_errors_total',
      'ajpbench_cping_rtt_seconds',
      'ajpbench_open_connections',
      'ajpbench_bytes_total',
    ])
      expect(used, wanted).toContain(wanted);
    // No promtool here: at least every bracket closes, in order, and a rate has a range.
    for (const e of exprs) {
      const stack: string[] = [];
      for (const ch of e.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
        if ('([{'.includes(ch)) stack.push(ch);
        else if (')]}'.includes(ch)) expect(stack.pop(), e).toBe('([{'[')]}'.indexOf(ch)]);
      }
      expect(stack, e).toEqual([]);
      if (e.includes('rate(')) expect(e, e).toMatch(/\[\$__rate_interval\]/);
    }
    // Latency panels are quantiles computed from the histograms.
    expect(exprs.filter((e) => e.startsWith('histogram_quantile(')).length).toBeGreaterThanOrEqual(5);
  });
});

describe('docs/metrics.md', () => {
  it('describes every metric the monitor exports (its own, not the process ones)', async () => {
    const text = readFileSync(join(docs, 'metrics.md'), 'utf8');
    const ours = [...(await exported())].filter((n) => n.startsWith('ajpbench_'));
    expect(ours.length).toBeGreaterThanOrEqual(18);
    expect(ours.filter((n) => !text.includes(`\`${n}\``))).toEqual([]);
  });
});

/**
 * The generator measures itself (issue 12): a generator slowed by a CPU burner in its own process
 * is called generator-bound in the report, its JSON and its warnings; an idle one is not.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replay } from '../../../src/load/replay.js';
import { StubContainer } from '../../../src/load/stub-container.js';
import { EVENT_LOOP_FLOOR_US, GENERATOR_BOUND } from '../../../src/results/generator-report.js';

const trace = join(import.meta.dirname, '../../../captures/lab-mixed.trace.jsonl');
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function stubPort(latencyMs = 0): Promise<number> {
  const s = await StubContainer.start({
    listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }],
    latencyMs,
  });
  cleanup.push(() => s.close());
  return (s.listeners[0] as { port: number }).port;
}

/** Busy-waits `busyMs` of every `everyMs` on this thread: the generator's own event loop and CPU. */
function burner(everyMs: number, busyMs: number): () => void {
  const t = setInterval(() => {
    const end = performance.now() + busyMs;
    while (performance.now() < end) {
      /* burn */
    }
  }, everyMs);
  return () => clearInterval(t);
}

describe('generator self-measurement', () => {
  it('an idle generator (40 requests/s to a target taking 200 ms) is never blamed for its own work, and says what it used', async () => {
    // The target's 200 ms puts the event-loop bar at 100 ms, which a loop delayed by tens of ms on a
    // crowded machine stays under.
    // On a machine other processes crowd (load average 11 on 2 cores was seen) an idle generator's
    // sends do leave late, and the report rightly says so; but then every reason it gives names the
    // machine, never the generator's own work, and its CPU stays far from bound.
    const port = await stubPort(200);
    const { report } = await replay({
      trace,
      targets: [{ protocol: 'ajp', host: '127.0.0.1', port, prefix: '', label: `ajp://127.0.0.1:${port}` }],
      model: 'open',
      rate: 40,
      concurrency: 16,
      loop: true,
      limits: { warmupMs: 0, durationMs: 1500, requests: Infinity },
    });
    const g = report.generator;
    expect(g).toBeDefined();
    expect(g?.threads).toBe(1);
    expect(g?.wallMs).toBeGreaterThan(1000);
    expect(g?.cpuShare).toBeGreaterThan(0);
    expect(g?.cpuShare).toBeLessThan(0.5);
    for (const reason of g?.reasons ?? []) expect(reason).toContain('the machine held it');
    if (g?.bound === false) expect(report.warnings.some((w) => w.startsWith(GENERATOR_BOUND))).toBe(false);
  });

  it('a generator slowed by a CPU burner in its own process is generator-bound, first among the warnings', async () => {
    const port = await stubPort();
    const stop = burner(20, 19);
    let report;
    try {
      ({ report } = await replay({
        trace,
        targets: [{ protocol: 'ajp', host: '127.0.0.1', port, prefix: '', label: `ajp://127.0.0.1:${port}` }],
        model: 'closed',
        concurrency: 2,
        loop: true,
        limits: { warmupMs: 0, durationMs: 1500, requests: Infinity },
      }));
    } finally {
      stop();
    }
    const g = report.generator;
    expect(g?.bound).toBe(true);
    // The burner holds the loop 19 of every 20 ms: a timer waits ~10 ms on the median, ~19 ms at the p99.
    expect(g?.eventLoopDelayUs.p99).toBeGreaterThan(EVENT_LOOP_FLOOR_US);
    // CPU is near 100% on an unshared core; on a loaded machine the burner may get less of it, and the delay says it.
    expect(g?.reasons.some((r) => r.startsWith('CPU') || r.startsWith('event-loop delay'))).toBe(true);
    expect(report.warnings[0]).toMatch(
      /^generator-bound: these figures measure ajpbench, add --workers or machines \(/,
    );
    // The JSON carries it as it is.
    expect((JSON.parse(JSON.stringify(report)) as typeof report).generator?.bound).toBe(true);
  });
});

/**
 * Measures the generator while it runs (results/generator-report.ts says what the figures mean):
 * process CPU time (user + system, every thread of the process: the load's and Node's GC and I/O
 * threads) and the event loop's delay with perf_hooks.monitorEventLoopDelay. The histogram holds
 * each interval of its RESOLUTION_MS timer, so the delay is what exceeds that resolution.
 * Cost: one timer every 10 ms and two clock reads per run; nothing per request.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { GeneratorSample } from '../results/generator-report.js';

/** The delay monitor's timer interval, ms. */
export const RESOLUTION_MS = 10;

export class GeneratorMonitor {
  private readonly eld: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private cpu0: NodeJS.CpuUsage = process.cpuUsage();
  private t0 = 0;

  constructor(
    /** Threads that send load (the delay is this thread's; workers pass theirs). */
    private readonly threads = 1,
  ) {}

  start(nowMs: number): void {
    this.t0 = nowMs;
    this.cpu0 = process.cpuUsage();
    this.eld.reset();
    this.eld.enable();
  }

  stop(nowMs: number): GeneratorSample {
    this.eld.disable();
    const cpu = process.cpuUsage(this.cpu0);
    const wallMs = Math.max(0, nowMs - this.t0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const beyond = (ns: number): number =>
      this.eld.count === 0 ? 0 : Math.max(0, Math.round(ns / 1000) - RESOLUTION_MS * 1000);
    return {
      threads: this.threads,
      wallMs,
      cpuMs,
      cpuShare: wallMs > 0 ? cpuMs / (wallMs * this.threads) : 0,
      eventLoopDelayUs: {
        p50: beyond(this.eld.percentile(50)),
        p99: beyond(this.eld.percentile(99)),
        max: beyond(this.eld.max),
      },
    };
  }
}

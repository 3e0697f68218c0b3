/**
 * `npm run bench`: prints throughput figures and ratios against a baseline measured in the same
 * run. Not part of `npm test`: speed targets live here, never in timed unit tests.
 */
import { codecBenchmarks, type BenchResult } from './codec-bench.js';

const minSeconds = Number(process.env.AJPBENCH_BENCH_SECONDS ?? '2');
const FR_TARGET = 500_000;

function row(r: BenchResult, baseline: BenchResult): string {
  const fps = r.frames / r.seconds;
  const mbps = r.bytes / r.seconds / 1e6;
  const ratio = mbps / (baseline.bytes / baseline.seconds / 1e6);
  return `${r.name.padEnd(44)} ${fmt(fps).padStart(10)} frames/s ${mbps.toFixed(0).padStart(7)} MB/s  ${(ratio * 100).toFixed(1).padStart(6)}% of Buffer.copy`;
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`;
}

console.log(`ajpbench codec benchmark (node ${process.version}, ${minSeconds}s per row, 64 KiB chunks)`);
const results = codecBenchmarks(minSeconds);
const baseline = results[0] as BenchResult;
for (const r of results) console.log(row(r, baseline));
const fr = results.find((r) => r.name === 'full decode, Forward Requests only') as BenchResult;
const frRate = fr.frames / fr.seconds;
console.log(`target: full decoding of Forward Requests >= ${fmt(FR_TARGET)} msg/s on one core: ${fmt(frRate)} msg/s, ${frRate >= FR_TARGET ? 'MET' : 'MISSED'}`);

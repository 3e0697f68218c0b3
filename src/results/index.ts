/** Results: what the load engine measures and everything after it reads (latency histograms, the replay report, merging, results files). */
export * from './latency-histogram.js';
export * from './error-kinds.js';
export * from './replay-report.js';
export * from './merge-results.js';
export * from './results-file.js';
export * from './verdict-document.js';
export * from './generator-report.js';

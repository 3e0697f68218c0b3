/** Verdicts: thresholds, the fairness test, knee detection, JUnit output. */
export * from './chi-square.js';
export * from './fairness.js';
export * from './threshold.js';
export * from './junit.js';
export * from './knee.js';
export * from './compare.js';
export * from './sweep.js';
export * from './fairness-run.js';
export * from './jk-status.js';
export * from './sticky.js';
export * from './session-sticky.js';
export * from './generated-trace.js';
export * from './tap-counts.js';
export * from './failover.js';
export * from './audit.js';
export * from './audit-requests.js';
export * from './diff/index.js';

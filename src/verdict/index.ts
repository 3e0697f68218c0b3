/** Verdicts: thresholds, the fairness test, knee detection, JUnit output. */
export * from './chi-square.js';
export * from './fairness.js';
export * from './threshold.js';
export * from './junit.js';
export * from './knee.js';

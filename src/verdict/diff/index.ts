/** The comparison engine (issue 15): offline `ajpbench diff` and the live mirror feed DiffEngine. */
export * from './json-diff.js';
export * from './text-diff.js';
export * from './header-rules.js';
export * from './response-diff.js';
export * from './noise-learner.js';
export * from './diff-summary.js';
export * from './diff-engine.js';
export * from './diff-run.js';

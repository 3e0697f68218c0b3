export * from './trace-summary.js';
export * from './summary-table.js';
export * from './uri-fold.js';

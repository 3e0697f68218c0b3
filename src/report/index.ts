export * from './trace-summary.js';
export * from './summary-table.js';
export * from './html-input.js';
export * from './html-report.js';
export * from './verdict-tables.js';
export * from './audit-table.js';
export * from './diff-table.js';

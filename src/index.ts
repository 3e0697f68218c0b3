/** ajpbench library API: the CLI is a thin layer over these. */
export * from './protocol/index.js';
export * from './capture/index.js';
export * from './trace/index.js';
export * from './results/index.js';
export * from './report/index.js';
export * from './load/index.js';
export * from './verdict/index.js';
export * from './host-port.js';

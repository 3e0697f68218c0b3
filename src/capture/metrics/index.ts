export * from './ajp-metrics.js';
export * from './uri-groups.js';
export * from './metrics-server.js';
export * from './recorder-figures.js';

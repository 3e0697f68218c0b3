export * from './tcp-reassembler.js';
export * from './capture-types.js';
export * from './capture-reader.js';
export * from './packet-decoder.js';
export * from './flow-table.js';
export * from './pcap-import.js';

export * from './tcp-reassembler.js';

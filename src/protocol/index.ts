export * from './constants.js';
export * from './errors.js';
export * from './messages.js';
export { FrameDecoder, checkMaxPacketSize, type FrameDecoderOptions, type FrameSink } from './frame-decoder.js';
export { decodeBody, decodeToContainer, decodeToWebServer, type MessageDecodeOptions } from './message-decoder.js';
export { ConversationDecoder, type ConversationDecoderOptions, type MessageSink } from './conversation-decoder.js';
export * from './encoder.js';
export * from './message-json.js';
export * from './decode-stream.js';

/**
 * The JSON view of a decoded frame, as `ajpbench decode` prints it: one flat object per frame with
 * its offset, direction, wire length and `type`, then the message's fields. Numbers stay numbers,
 * flags booleans; body bytes are base64 in `data` with their count in `dataLength`; strings are
 * shown as UTF-8 where their bytes are valid UTF-8 (see utf8View).
 */
import type { AjpProtocolError } from './errors.js';
import { utf8View, type AjpHeader, type AjpMessage, type FrameInfo } from './messages.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function messageToJson(msg: AjpMessage, info: FrameInfo): JsonObject {
  const head: JsonObject = { offset: info.offset, direction: info.direction, length: info.length, type: msg.type };
  switch (msg.type) {
    case 'forward-request':
      return {
        ...head,
        method: msg.method,
        methodCode: msg.methodCode ?? null,
        protocol: text(msg.protocol),
        uri: text(msg.uri),
        remoteAddr: text(msg.remoteAddr),
        remoteHost: text(msg.remoteHost),
        serverName: text(msg.serverName),
        serverPort: msg.serverPort,
        isSsl: msg.isSsl,
        headers: headersJson(msg.headers),
        attributes: msg.attributes.map((a): JsonObject => {
          if (a.name === 'ssl_key_size') return { name: a.name, value: a.value };
          if (a.name === 'req_attribute') return { name: a.name, key: text(a.key), value: text(a.value) };
          return { name: a.name, value: text(a.value) };
        }),
      };
    case 'body':
      return {
        ...head,
        dataLength: msg.data.length,
        data: msg.data.toString('base64'),
        ...(msg.bare === true ? { bare: true } : {}),
      };
    case 'send-body-chunk':
      return {
        ...head,
        dataLength: msg.data.length,
        data: msg.data.toString('base64'),
        ...(msg.unpadded === true ? { unpadded: true } : {}),
      };
    case 'send-headers':
      return { ...head, status: msg.status, message: text(msg.message), headers: headersJson(msg.headers) };
    case 'end-response':
      return { ...head, reuse: msg.reuse };
    case 'get-body-chunk':
      return { ...head, requestedLength: msg.requestedLength };
    case 'shutdown':
    case 'ping':
    case 'cping':
    case 'cpong':
      return head;
  }
}

export function errorToJson(err: AjpProtocolError): JsonObject {
  return {
    offset: err.offset,
    direction: err.direction ?? null,
    type: 'error',
    code: err.code,
    message: err.message,
    skipped: err.skipped,
  };
}

function headersJson(headers: readonly AjpHeader[]): JsonObject[] {
  return headers.map((h) => ({ name: utf8View(h.name), value: text(h.value), coded: h.coded === true }));
}

function text(s: string | null): string | null {
  return s === null ? null : utf8View(s);
}

/**
 * Strings in a trace are UTF-8 text; an exchange whose wire strings are not all valid UTF-8 keeps
 * them as byte strings instead and says so (`byteStrings: true`), so that replay sends exactly the
 * recorded bytes either way (see trace-types.ts).
 */
import type { HeaderPair, TraceRequest, TraceResponse } from './trace-types.js';

type StringMap = (s: string) => string;

const NON_ASCII = /[\x80-\xff]/;

function validUtf8(s: string): boolean {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

function fromBytes(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

function mapNullable(s: string | null, f: StringMap): string | null {
  return s === null ? null : f(s);
}

function mapPairs(pairs: HeaderPair[], f: StringMap): HeaderPair[] {
  return pairs.map(([n, v]) => [f(n), mapNullable(v, f)]);
}

export function mapRequestStrings(r: TraceRequest, f: StringMap): TraceRequest {
  const attributes: TraceRequest['attributes'] = {};
  for (const [k, v] of Object.entries(r.attributes)) attributes[k] = typeof v === 'string' ? f(v) : v;
  return {
    ...r,
    method: f(r.method),
    protocol: mapNullable(r.protocol, f),
    uri: mapNullable(r.uri, f),
    query: mapNullable(r.query, f),
    remoteAddr: mapNullable(r.remoteAddr, f),
    remoteHost: mapNullable(r.remoteHost, f),
    serverName: mapNullable(r.serverName, f),
    headers: mapPairs(r.headers, f),
    attributes,
    reqAttributes: mapPairs(r.reqAttributes, f),
  };
}

export function mapResponseStrings(r: TraceResponse, f: StringMap): TraceResponse {
  return { ...r, message: mapNullable(r.message, f), headers: mapPairs(r.headers, f) };
}

/** Whether any string of the request or response has a byte ≥ 0x80 (no allocation: the common all-ASCII case). */
function anyNonAscii(request: TraceRequest | null, response: TraceResponse | null): boolean {
  const t = (s: string | null): boolean => s !== null && NON_ASCII.test(s);
  const pairs = (ps: HeaderPair[]): boolean => ps.some(([n, v]) => t(n) || t(v));
  if (request !== null) {
    if (t(request.method) || t(request.protocol) || t(request.uri) || t(request.query) || t(request.remoteAddr))
      return true;
    if (t(request.remoteHost) || t(request.serverName) || pairs(request.headers) || pairs(request.reqAttributes))
      return true;
    if (Object.values(request.attributes).some((v) => typeof v === 'string' && t(v))) return true;
  }
  return response !== null && (t(response.message) || pairs(response.headers));
}

/**
 * Turns the byte strings of one exchange into trace strings. Returns `byteStrings: true` when
 * they stay byte strings because some are not valid UTF-8.
 */
export function toTraceStrings(
  request: TraceRequest | null,
  response: TraceResponse | null,
): { request: TraceRequest | null; response: TraceResponse | null; byteStrings: boolean } {
  if (!anyNonAscii(request, response)) return { request, response, byteStrings: false };
  let allValid = true;
  const check = (s: string): string => {
    if (allValid && NON_ASCII.test(s) && !validUtf8(s)) allValid = false;
    return s;
  };
  if (request !== null) mapRequestStrings(request, check);
  if (response !== null) mapResponseStrings(response, check);
  if (!allValid) return { request, response, byteStrings: true };
  return {
    request: request === null ? null : mapRequestStrings(request, fromBytes),
    response: response === null ? null : mapResponseStrings(response, fromBytes),
    byteStrings: false,
  };
}

/** A trace string back to the wire's byte string (one char per byte), as the encoder takes it. */
export function toWireString(s: string, byteStrings: boolean): string {
  if (byteStrings || !/[^\x00-\x7f]/.test(s)) return s;
  return Buffer.from(s, 'utf8').toString('latin1');
}

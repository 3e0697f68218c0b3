/**
 * The shape check of an exchange event. The reader checks only that a line is an object with an
 * `event` name; before inspect or replay reads an exchange, every field either of them reads is
 * checked here, so that a damaged or hand-edited line (a number where the URI goes) is skipped
 * and counted rather than a TypeError deep in the encoder. One check for both, so that inspect's
 * malformed count is what replay skips.
 *
 * Types and ranges only, not the schema's patterns (a hash of the wrong length is still a string):
 * docs/trace-format.schema.json is the full contract.
 */
import type { ExchangeEvent, TraceRequest } from './trace-types.js';

/** What is wrong with the first bad field of an exchange ("request.uri is a number, not a string or null"), or undefined when it can be used. */
export function exchangeProblem(ev: unknown): string | undefined {
  if (!isRecord(ev)) return `the event is ${describeValue(ev)}, not an object`;
  return (
    check(ev, 'id', isCount, 'a whole number ≥ 0') ??
    check(ev, 't', isFiniteNumber, 'a number') ??
    requestProblem(ev.request) ??
    responseProblem(ev.response) ??
    timingProblem(ev.timing) ??
    check(ev, 'route', isOptionalNullableString, 'a string or null') ??
    check(ev, 'worker', isOptionalString, 'a string') ??
    check(ev, 'byteStrings', (v) => v === undefined || v === true, 'true or absent')
  );
}

/**
 * What is wrong with an event that tools passing events on (filter, merge) need right: an exchange's
 * every field, an incomplete event's request, any event's `t`. Undefined when it can be used.
 */
export function eventProblem(e: { event: string; t?: unknown; id?: unknown; request?: unknown }): string | undefined {
  const id = typeof e.id === 'number' ? String(e.id) : '(no id)';
  // Tools that renumber connections need a number where a connection is named (the exchange check does not ask).
  const conn = (e as { conn?: unknown }).conn;
  const needsConn = e.event !== 'error' && e.event !== 'dropped';
  if ((needsConn || conn !== undefined) && !isCount(conn))
    return `${e.event} event ${id}: conn is ${describeValue(conn)}, not a whole number ≥ 0`;
  if (e.event === 'exchange') {
    const p = exchangeProblem(e);
    return p === undefined ? undefined : `exchange ${id}: ${p}`;
  }
  if (!isFiniteNumber(e.t)) return `${e.event} event: t is ${describeValue(e.t)}, not a number`;
  if (e.event === 'incomplete') {
    const p = e.request === null ? undefined : requestProblem(e.request);
    return p === undefined ? undefined : `incomplete ${id}: ${p}`;
  }
  return undefined;
}

/** Narrows after exchangeProblem said nothing. */
export function isUsableExchange(ev: unknown): ev is ExchangeEvent {
  return exchangeProblem(ev) === undefined;
}

/** The TraceRequest fields typed `string | null`: the compiler keeps NULLABLE_STRINGS to those. */
type NullableStringField = {
  [K in keyof TraceRequest]-?: [TraceRequest[K]] extends [string | null]
    ? null extends TraceRequest[K]
      ? K
      : never
    : never;
}[keyof TraceRequest];

const NULLABLE_STRINGS = [
  'protocol',
  'uri',
  'query',
  'remoteAddr',
  'remoteHost',
  'serverName',
] as const satisfies readonly NullableStringField[];

/** What is wrong with the first bad field of a request (an exchange's, or an incomplete event's), or undefined. */
export function requestProblem(r: unknown): string | undefined {
  if (!isRecord(r)) return `request is ${describeValue(r)}, not an object`;
  const at = 'request.';
  const method = check(r, 'method', isString, 'a string', at);
  if (method !== undefined) return method;
  for (const k of NULLABLE_STRINGS)
    if (!isNullableString(r[k])) return check(r, k, isNullableString, 'a string or null', at);
  const p =
    check(r, 'serverPort', isPort, 'a port number 0-65535', at) ??
    check(r, 'isSsl', isBoolean, 'true or false', at) ??
    pairsProblem(r.headers, `${at}headers`) ??
    attributesProblem(r.attributes) ??
    pairsProblem(r.reqAttributes, `${at}reqAttributes`) ??
    check(r, 'chunked', (v) => v === undefined || isBoolean(v), 'true or false', at);
  return p ?? bodyProblem(r.body, `${at}body`);
}

function responseProblem(r: unknown): string | undefined {
  if (!isRecord(r)) return `response is ${describeValue(r)}, not an object`;
  return (
    check(r, 'status', isStatus, 'a status 0-65535', 'response.') ??
    pairsProblem(r.headers, 'response.headers') ??
    bodyProblem(r.body, 'response.body')
  );
}

function timingProblem(t: unknown): string | undefined {
  if (!isRecord(t)) return `timing is ${describeValue(t)}, not an object`;
  return (
    check(t, 'endUs', isFiniteNumber, 'a number', 'timing.') ??
    check(t, 'headersUs', (v) => v === null || v === undefined || isFiniteNumber(v), 'a number or null', 'timing.')
  );
}

function bodyProblem(b: unknown, at: string): string | undefined {
  if (!isRecord(b)) return `${at} is ${describeValue(b)}, not an object`;
  return (
    check(b, 'length', isCount, 'a whole number ≥ 0', `${at}.`) ??
    check(b, 'sha256', isString, 'a string', `${at}.`) ??
    check(b, 'data', isOptionalString, 'a string', `${at}.`)
  );
}

/** [name, value] pairs: name a string, value a string or null. */
function pairsProblem(v: unknown, at: string): string | undefined {
  if (!Array.isArray(v)) return `${at} is ${describeValue(v)}, not a list`;
  for (let i = 0; i < v.length; i++) {
    const p: unknown = v[i];
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || !isNullableString(p[1]))
      return `${at}[${i}] is not a [name, value] pair of strings`;
  }
  return undefined;
}

function attributesProblem(v: unknown): string | undefined {
  if (!isRecord(v)) return `request.attributes is ${describeValue(v)}, not an object`;
  for (const [k, a] of Object.entries(v)) {
    if (a !== null && typeof a !== 'string' && !isFiniteNumber(a))
      return `request.attributes.${k} is ${describeValue(a)}, not a string, number or null`;
    // Encoded as a 16-bit integer (§4.3).
    if (k === 'ssl_key_size' && typeof a === 'number' && !isPort(a))
      return `request.attributes.ssl_key_size is ${JSON.stringify(a)}, not a whole number 0-65535`;
  }
  return undefined;
}

function check(
  o: Record<string, unknown>,
  key: string,
  ok: (v: unknown) => boolean,
  want: string,
  at = '',
): string | undefined {
  const v = o[key];
  return ok(v) ? undefined : `${at}${key} is ${describeValue(v)}, not ${want}`;
}

/** "the number 42", "missing", "null", "a list", ...: what a bad value is, without echoing a string (it may be long or hostile). */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return Number.isFinite(v) ? `the number ${v}` : 'not a finite number';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return typeof v === 'object' ? 'an object' : typeof v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isOptionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';
const isOptionalNullableString = (v: unknown): boolean => v === undefined || isNullableString(v);
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff;
const isStatus = isPort;

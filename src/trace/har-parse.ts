/**
 * Reading a HAR file: whether bytes look like one, and the parse with a check of every field the
 * import reads, so that a damaged or hand-edited HAR fails with one line naming the entry and field
 * (AJPBENCH_ERR_HAR) rather than half-imported.
 */
import { constants } from 'node:buffer';
import { RuntimeError } from '../errors.js';
import type { Har, HarAjpExtras } from './har-types.js';

/** The largest HAR read: it is read whole into one string, and V8 holds none longer (about 512 MiB). */
export const MAX_HAR_BYTES = constants.MAX_STRING_LENGTH;

/** Whether bytes look like a HAR: JSON whose first key is `log` (a capture never starts with `{`). */
export function looksLikeHar(head: Buffer): boolean {
  const text = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return text.startsWith('{') && /^\{\s*"log"\s*:/.test(text);
}

/** Parses HAR text, or a RuntimeError (AJPBENCH_ERR_HAR) that says what is wrong and where. */
export function parseHar(text: string, name: string): Har {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw harError(name, `not valid JSON: ${(e as Error).message}`);
  }
  const log = isRecord(doc) ? doc.log : undefined;
  if (!isRecord(log)) throw harError(name, 'not a HAR file: no "log" object');
  if (!Array.isArray(log.entries)) throw harError(name, 'log.entries is not a list');
  log.entries.forEach((e: unknown, i) => {
    const problem = entryProblem(e);
    if (problem !== undefined) throw harError(name, `log.entries[${i}].${problem}`);
  });
  return doc as Har;
}

function harError(name: string, what: string): RuntimeError {
  return new RuntimeError(`${name}: ${what}`, 'AJPBENCH_ERR_HAR');
}

/** The first field of an entry that is missing or of the wrong type, as a path ("request.url is missing"). */
function entryProblem(e: unknown): string | undefined {
  if (!isRecord(e)) return 'is not an object';
  if (typeof e.startedDateTime !== 'string' || !Number.isFinite(Date.parse(e.startedDateTime)))
    return 'startedDateTime is not an ISO 8601 time';
  const req = e.request;
  const res = e.response;
  if (!isRecord(req)) return 'request is not an object';
  if (!isRecord(res)) return 'response is not an object';
  if (typeof req.method !== 'string' || req.method === '') return 'request.method is not a method';
  if (typeof req.url !== 'string') return 'request.url is not a string';
  if (typeof req.httpVersion !== 'string') return 'request.httpVersion is not a string';
  if (!isHeaderList(req.headers)) return 'request.headers is not a list of {name, value} strings';
  if (req.postData !== undefined && !(isRecord(req.postData) && optionalString(req.postData.text)))
    return 'request.postData is not an object with a text string';
  if (!Number.isInteger(res.status) || (res.status as number) < 0 || (res.status as number) > 0xffff)
    return 'response.status is not a status 0-65535';
  if (typeof res.statusText !== 'string') return 'response.statusText is not a string';
  if (!isHeaderList(res.headers)) return 'response.headers is not a list of {name, value} strings';
  const c = res.content;
  if (!isRecord(c) || !Number.isFinite(c.size) || !optionalString(c.text))
    return 'response.content is not an object with a size';
  if (!isRecord(e.timings)) return 'timings is not an object';
  if (e._ajpbench !== undefined && !extrasUsable(e._ajpbench)) return '_ajpbench is not what ajpbench export writes';
  return undefined;
}

function isHeaderList(v: unknown): boolean {
  return Array.isArray(v) && v.every((h) => isRecord(h) && typeof h.name === 'string' && typeof h.value === 'string');
}

function optionalString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

/** The fields of `_ajpbench` the import reads, with their types (a hand-edited one is refused, not half-used). */
function extrasUsable(x: unknown): x is HarAjpExtras {
  if (!isRecord(x) || !isRecord(x.request) || !isRecord(x.response) || !isRecord(x.timing)) return false;
  const int = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  const body = (b: unknown): boolean => isRecord(b) && int(b.length) && typeof b.sha256 === 'string';
  const pairs = (p: unknown): boolean =>
    p === undefined ||
    (Array.isArray(p) && p.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string'));
  return (
    int(x.id) &&
    int(x.conn) &&
    typeof x.t === 'number' &&
    typeof x.upstream === 'string' &&
    int(x.timing.endUs) &&
    body(x.request.body) &&
    body(x.response.body) &&
    isRecord(x.request.attributes) &&
    Array.isArray(x.request.reqAttributes) &&
    pairs(x.request.headers) &&
    pairs(x.response.headers)
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

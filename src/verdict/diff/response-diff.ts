/**
 * One comparison of two observed responses (trace/observed-response.ts): the status, the headers
 * (header-rules.ts), and the body: SHA-256 equality first (equal bodies cost nothing more), then,
 * when both bodies are known, a field-level diff for JSON (json-diff.ts), a line diff for text
 * (text-diff.ts), and sizes only for binary. A compressed body (Content-Encoding gzip, deflate,
 * br) is compared decompressed: equal pages compressed differently are equal. A body known only
 * by its hash (a trace recorded without `--bodies all`, or longer than the bytes kept) differs as
 * a whole.
 *
 * Each difference has a `field`, the key it is grouped and learned as noise by (array indexes
 * folded: `body:$.items[*].price`), and, where it says more, the exact `path`.
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { cutKey, printable } from '../../trace/uri-fold.js';
import { isFailure, type Observed, type ObservedBody, type ObservedResponse } from '../../trace/observed-response.js';
import type { HeaderPair } from '../../trace/trace-types.js';
import { comparableHeaders, headerRules, type HeaderRules } from './header-rules.js';
import { diffJson, foldJsonPath, jsonType, parseJsonBody } from './json-diff.js';
import { diffText } from './text-diff.js';

export type DiffKind = 'status' | 'header' | 'body' | 'no-response';
export const DIFF_KINDS: readonly DiffKind[] = ['status', 'header', 'body', 'no-response'];

export interface Difference {
  kind: DiffKind;
  /** The key it is grouped and learned by: `status`, `header:x-served-by`, `body:$.items[*].id`, `body:line 12`, `body`, `no-response`. */
  field: string;
  /** The exact place, when it says more than `field` (`body:$.items[3].id`). */
  path?: string;
  /** Short renderings (at most SHORT_VALUE_CHARS), null where there is nothing (a header or key absent on that side). */
  before: string | null;
  after: string | null;
}

export type BodyKind = 'json' | 'text' | 'binary' | 'hash';

export interface ResponseComparison {
  differences: Difference[];
  /** How the bodies were compared when they differed; undefined when they are equal (as sent, or decompressed). */
  body?: BodyKind;
}

export interface ResponseCompareOptions {
  headers?: HeaderRules;
  /** Body differences listed at most per comparison (JSON paths, text hunks). */
  maxBodyDifferences?: number;
}

/** The longest before/after kept per difference: enough to see a timestamp or an id, bounded for the trace and the report. */
export const SHORT_VALUE_CHARS = 120;

export function compareResponses(
  before: ObservedResponse,
  after: Observed,
  opts: ResponseCompareOptions = {},
): ResponseComparison {
  if (isFailure(after))
    return {
      differences: [
        { kind: 'no-response', field: 'no-response', before: `status ${before.status}`, after: short(after.error) },
      ],
    };
  const differences: Difference[] = [];
  if (before.status !== after.status)
    differences.push({ kind: 'status', field: 'status', before: String(before.status), after: String(after.status) });
  differences.push(...compareHeaders(before.headers, after.headers, opts.headers ?? headerRules()));
  if (before.body.sha256 === after.body.sha256 && before.body.length === after.body.length) return { differences };
  const body = compareBodies(before, after, opts.maxBodyDifferences ?? 100);
  if (body.differences.length === 0) return { differences };
  differences.push(...body.differences);
  return { differences, body: body.kind };
}

export function compareHeaders(
  before: readonly HeaderPair[],
  after: readonly HeaderPair[],
  rules: HeaderRules,
): Difference[] {
  const a = comparableHeaders(before, rules);
  const b = comparableHeaders(after, rules);
  const out: Difference[] = [];
  const names = new Set([...a.keys(), ...b.keys()]);
  for (const name of [...names].sort()) {
    const x = a.get(name) ?? [];
    const y = b.get(name) ?? [];
    if (x.length === y.length && x.every((v, i) => v === y[i])) continue;
    out.push({
      kind: 'header',
      field: `header:${name}`,
      ...shortPair(x.length === 0 ? null : x.join(' | '), y.length === 0 ? null : y.join(' | ')),
    });
  }
  return out;
}

function compareBodies(
  before: ObservedResponse,
  after: ObservedResponse,
  max: number,
): { kind: BodyKind; differences: Difference[] } {
  const rawX = known(before.body);
  const rawY = known(after.body);
  if (rawX === undefined || rawY === undefined)
    return {
      kind: 'hash',
      differences: [{ kind: 'body', field: 'body', before: hashed(before.body), after: hashed(after.body) }],
    };
  // Compared as the application wrote them: two releases may compress the same page differently.
  const x = decoded(before.headers, rawX);
  const y = decoded(after.headers, rawY);
  if (x.equals(y)) return { kind: 'binary', differences: [] };
  const kind = bodyKindOf(contentType(before.headers) ?? contentType(after.headers), x);
  if (kind === 'json') {
    const a = parseJsonBody(x);
    const b = parseJsonBody(y);
    if (a !== undefined && b !== undefined) return { kind, differences: jsonDifferences(a, b, max) };
    if (a !== undefined || b !== undefined)
      return {
        kind,
        differences: [
          {
            kind: 'body',
            field: 'body:$',
            before: a === undefined ? `not JSON (${x.length} bytes)` : `JSON ${jsonType(a)}`,
            after: b === undefined ? `not JSON (${y.length} bytes)` : `JSON ${jsonType(b)}`,
          },
        ],
      };
  }
  if (kind !== 'binary') {
    const a = textOf(x);
    const b = textOf(y);
    if (a !== undefined && b !== undefined) return { kind: 'text', differences: textDifferences(a, b, max) };
  }
  return {
    kind: 'binary',
    differences: [
      { kind: 'body', field: 'body', before: `${before.body.length} bytes`, after: sized(after.body, before.body) },
    ],
  };
}

function jsonDifferences(a: unknown, b: unknown, max: number): Difference[] {
  const r = diffJson(a, b, { maxDifferences: max });
  const out: Difference[] = r.differences.map((d) => {
    const field = `body:${foldJsonPath(d.path)}`;
    const path = `body:${d.path}`;
    return {
      kind: 'body',
      field,
      ...(path === field ? {} : { path }),
      ...shortPair(d.change === 'added' ? null : render(d.before), d.change === 'removed' ? null : render(d.after)),
    };
  });
  if (r.more > 0) out.push({ kind: 'body', field: 'body:$…', before: null, after: `${r.more} more fields differ` });
  return out;
}

function textDifferences(a: string, b: string, max: number): Difference[] {
  const r = diffText(a, b, { maxHunks: max });
  const out: Difference[] = r.hunks.map((h) => {
    const { before, after } = shortPair(h.removed === 0 ? null : h.before, h.added === 0 ? null : h.after);
    return {
      kind: 'body',
      field: `body:line ${h.beforeLine}`,
      before: before === null || h.removed <= 1 ? before : `${before} (+${h.removed - 1} lines)`,
      after: after === null || h.added <= 1 ? after : `${after} (+${h.added - 1} lines)`,
    };
  });
  if (r.moreHunks > 0)
    out.push({ kind: 'body', field: 'body:lines…', before: null, after: `${r.moreHunks} more hunks` });
  return out;
}

/** The most bytes a compressed body is inflated to for a comparison; a larger one is compared as sent. */
export const MAX_DECODED_BODY_BYTES = 16 * 1024 * 1024;

/** A body with its Content-Encoding (gzip, deflate, br) undone; as it came when it has none, another, or does not decode. */
export function decoded(headers: readonly HeaderPair[], data: Buffer): Buffer {
  let coding: string | undefined;
  for (const [n, v] of headers)
    if (v !== null && n.toLowerCase() === 'content-encoding') coding = v.trim().toLowerCase();
  const opts = { maxOutputLength: MAX_DECODED_BODY_BYTES };
  try {
    switch (coding) {
      case 'gzip':
      case 'x-gzip':
        return gunzipSync(data, opts);
      case 'deflate':
        // RFC 9110 deflate is zlib-wrapped; some servers send it raw.
        try {
          return inflateSync(data, opts);
        } catch {
          return inflateRawSync(data, opts);
        }
      case 'br':
        return brotliDecompressSync(data, opts);
      default:
        return data;
    }
  } catch {
    return data;
  }
}

/** The body's bytes when all of them are known. */
function known(b: ObservedBody): Buffer | undefined {
  return b.data !== undefined && b.truncated !== true && b.data.length === b.length ? b.data : undefined;
}

function hashed(b: ObservedBody): string {
  return `${b.length} bytes, sha256 ${b.sha256.slice(0, 12)}`;
}

function sized(b: ObservedBody, other: ObservedBody): string {
  return b.length === other.length ? `${b.length} bytes, other content` : `${b.length} bytes`;
}

function contentType(headers: readonly HeaderPair[]): string | undefined {
  for (const [n, v] of headers) if (v !== null && n.toLowerCase() === 'content-type') return v.toLowerCase();
  return undefined;
}

const TEXT_TYPE = /^text\/|[/+](xml|javascript|ecmascript|x-www-form-urlencoded|csv|yaml|x-yaml)\b/;

/** JSON by its Content-Type (`application/json`, `*+json`), or without one by its first character; text by type or by being UTF-8 without NULs. */
export function bodyKindOf(type: string | undefined, data: Buffer): 'json' | 'text' | 'binary' {
  if (type !== undefined) {
    if (/[/+]json\b/.test(type)) return 'json';
    if (TEXT_TYPE.test(type)) return 'text';
    if (!type.startsWith('application/octet-stream') && textOf(data) !== undefined && !type.startsWith('image/'))
      return 'text';
    return 'binary';
  }
  const first = data.toString('latin1', 0, Math.min(data.length, 64)).trimStart()[0];
  if ((first === '{' || first === '[') && parseJsonBody(data) !== undefined) return 'json';
  return textOf(data) !== undefined ? 'text' : 'binary';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function textOf(data: Buffer): string | undefined {
  if (data.includes(0)) return undefined;
  try {
    return UTF8.decode(data);
  } catch {
    return undefined;
  }
}

/** A parsed JSON value as JSON text (JSON.parse made it, so only a nesting too deep for the stack can fail). */
function render(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '(nested too deep to show)';
  }
}

/** Characters kept before the first difference when a long pair is cut to where it differs. */
const CONTEXT_CHARS = 24;

/**
 * Both sides short, and where they differ: two long values that share a long beginning (an HTML
 * line, a token) are shown from a little before their first differing character, marked '…'.
 */
export function shortPair(
  before: string | null,
  after: string | null,
): { before: string | null; after: string | null } {
  if (before === null || after === null)
    return { before: before === null ? null : short(before), after: after === null ? null : short(after) };
  let p = 0;
  while (p < before.length && p < after.length && before.charCodeAt(p) === after.charCodeAt(p)) p++;
  const longest = Math.max(before.length, after.length);
  if (longest <= SHORT_VALUE_CHARS || p <= CONTEXT_CHARS) return { before: short(before), after: short(after) };
  let from = p - CONTEXT_CHARS;
  const c = before.charCodeAt(from);
  if (c >= 0xdc00 && c <= 0xdfff) from--; // never start inside a surrogate pair
  return { before: short(`…${before.slice(from)}`), after: short(`…${after.slice(from)}`) };
}

/** At most SHORT_VALUE_CHARS printable characters, a cut one ending in '…'. */
export function short(s: string): string {
  return cutKey(printable(s), SHORT_VALUE_CHARS);
}

/**
 * Folds a request URI into an endpoint key (inspect's top-URIs table, the metrics monitor's `uri`
 * label): /orders/123 and /orders/456 are one endpoint, so both count as /orders/{n}. The query string goes (it is a separate attribute in
 * AJP, but a '?' can still reach us through a proxy), and so do path parameters such as
 * ;jsessionid=..., which differ per session. Keys are printable and bounded in length, because
 * traces come from production and end up in a terminal.
 */

/** Longest key kept; a longer URI is cut and marked with '…' so that a table of keys stays bounded. */
export const MAX_URI_KEY_LENGTH = 512;

/** The key for a request without a URI (an incomplete request, a null string). */
export const NO_URI = '(none)';

const NUMERIC = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Session ids, object ids and hashes: 8+ hex digits. Requiring a digit keeps hex-looking words
// (/facade, /accede, /deadbeef) as they are.
const HEX_ID = /^[0-9a-f]{8,}$/i;
const HAS_DIGIT = /\d/;
// C0 controls, DEL and C1 controls (0x9b is a one-byte CSI on some terminals).
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

export interface FoldOptions {
  /** The exchange was written with `byteStrings: true`: the string is wire bytes, one char per byte. */
  byteStrings?: boolean;
}

export function foldUri(uri: string | null | undefined, opts: FoldOptions = {}): string {
  if (uri === null || uri === undefined || uri === '') return NO_URI;
  let text = opts.byteStrings === true ? wireText(uri) : uri;
  const cut = text.search(/[?#]/);
  if (cut >= 0) text = text.slice(0, cut);
  return cutKey(printable(text.split('/').map(foldSegment).join('/')), MAX_URI_KEY_LENGTH);
}

/** One path segment: `{n}` for a number, `{id}` for a UUID or hex id, else itself without ;params. */
export function foldSegment(segment: string): string {
  const semi = segment.indexOf(';');
  const bare = semi >= 0 ? segment.slice(0, semi) : segment;
  if (NUMERIC.test(bare)) return '{n}';
  if (UUID.test(bare) || (HEX_ID.test(bare) && HAS_DIGIT.test(bare))) return '{id}';
  return bare;
}

/**
 * A byte string (ISO-8859-1, one char per wire byte) as text: its UTF-8 reading when the bytes are
 * valid UTF-8, so it groups with the same URI recorded as text; otherwise each byte ≥ 0x80 as %XX.
 */
export function wireText(s: string): string {
  if (!/[\x80-\xff]/.test(s)) return s;
  const bytes = Buffer.from(s, 'latin1');
  try {
    return UTF8.decode(bytes);
  } catch {
    return s.replace(/[\x80-\xff]/g, (c) => pct(c.charCodeAt(0)));
  }
}

/** Control characters as %XX, so that a hostile URI cannot drive the terminal. */
export function printable(s: string): string {
  return s.replace(CONTROL, (c) => pct(c.charCodeAt(0)));
}

/** At most `max` characters, a cut one ending in '…', so that a table of keys stays bounded. */
export function cutKey(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max - 1;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // never cut a surrogate pair in half
  return s.slice(0, end) + '…';
}

function pct(code: number): string {
  return '%' + code.toString(16).toUpperCase().padStart(2, '0');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

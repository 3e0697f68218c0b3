/**
 * Field-level difference of two JSON values, as Diffy reports it: the paths that differ, each with
 * what it was and what it became. Objects are compared key by key (order does not matter), arrays
 * index by index (an item inserted at the front shows as every later index changed, as in Diffy);
 * a value whose JSON type changed is one difference at its path, not a walk into it.
 */

/** `$.user.name`, `$.items[3].price`, `$["a b"]`. */
export type JsonPath = string;

export interface JsonDifference {
  path: JsonPath;
  /** changed: same type, other value; type: another JSON type; added / removed: the key or item exists on one side only. */
  change: 'changed' | 'type' | 'added' | 'removed';
  /** The value on each side; undefined where the path does not exist. */
  before?: unknown;
  after?: unknown;
}

export interface JsonDiffOptions {
  /** Differences listed at most (the rest are counted in `more`). */
  maxDifferences?: number;
  /** Deeper than this, a subtree is compared as a whole (its JSON text), so hostile nesting costs no stack. */
  maxDepth?: number;
}

export interface JsonDiffResult {
  differences: JsonDifference[];
  /** Differences found beyond maxDifferences. */
  more: number;
}

export const DEFAULT_MAX_JSON_DIFFERENCES = 100;
const DEFAULT_MAX_DEPTH = 64;

type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

export function jsonType(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  return t === 'boolean' || t === 'number' || t === 'string' ? t : 'object';
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function childPath(parent: JsonPath, key: string | number): JsonPath {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** A path with its array indexes folded (`$.items[3].price` → `$.items[*].price`): the key noise is learned and grouped by. */
export function foldJsonPath(path: JsonPath): JsonPath {
  return path.replace(/\[\d+\]/g, '[*]');
}

export function diffJson(before: unknown, after: unknown, opts: JsonDiffOptions = {}): JsonDiffResult {
  const max = opts.maxDifferences ?? DEFAULT_MAX_JSON_DIFFERENCES;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const out: JsonDiffResult = { differences: [], more: 0 };
  const add = (d: JsonDifference): void => {
    if (out.differences.length < max) out.differences.push(d);
    else out.more++;
  };
  const walk = (a: unknown, b: unknown, path: JsonPath, depth: number): void => {
    const ta = jsonType(a);
    const tb = jsonType(b);
    if (ta !== tb) return add({ path, change: 'type', before: a, after: b });
    if (ta === 'array') {
      const x = a as unknown[];
      const y = b as unknown[];
      if (depth >= maxDepth) return sameText(x, y) ? undefined : add({ path, change: 'changed', before: a, after: b });
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) walk(x[i], y[i], childPath(path, i), depth + 1);
      for (let i = n; i < x.length; i++) add({ path: childPath(path, i), change: 'removed', before: x[i] });
      for (let i = n; i < y.length; i++) add({ path: childPath(path, i), change: 'added', after: y[i] });
      return;
    }
    if (ta === 'object') {
      const x = a as Record<string, unknown>;
      const y = b as Record<string, unknown>;
      if (depth >= maxDepth) return sameText(x, y) ? undefined : add({ path, change: 'changed', before: a, after: b });
      for (const k of Object.keys(x)) {
        if (Object.hasOwn(y, k)) walk(x[k], y[k], childPath(path, k), depth + 1);
        else add({ path: childPath(path, k), change: 'removed', before: x[k] });
      }
      for (const k of Object.keys(y))
        if (!Object.hasOwn(x, k)) add({ path: childPath(path, k), change: 'added', after: y[k] });
      return;
    }
    if (a !== b) add({ path, change: 'changed', before: a, after: b });
  };
  walk(before, after, '$', 0);
  return out;
}

function sameText(a: unknown, b: unknown): boolean {
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** Parses a body as JSON; undefined when it is not JSON (or nests too deep for the parser). */
export function parseJsonBody(bytes: Buffer): unknown {
  try {
    const text = UTF8.decode(bytes);
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

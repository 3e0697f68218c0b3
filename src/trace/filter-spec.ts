/**
 * What `ajpbench filter` is asked to do, as plain JSON: the derived trace's header records it as given
 * (`derivedBy[].options`), so that anyone holding the output can tell what was cut, sampled and changed.
 */

/** A point in the trace: an offset from its start, or a wall-clock instant. */
export type TimePoint = { offsetUs: number } | { at: string };

export type SampleBy = 'session' | 'connection' | 'exchange';

export interface FilterSpec {
  // --- selection: an exchange is kept when it passes every selector given ---------------------------
  /** Globs over the request path; any one may match. */
  uri?: string[];
  /** Regular expressions over the request path; any one may match. */
  uriRegex?: string[];
  /** Globs over the request path; none may match. */
  notUri?: string[];
  /** Methods (GET, POST, ...); any one. */
  method?: string[];
  /** Status codes (404) and classes (2xx); any one. */
  status?: string[];
  /** Tap worker labels; any one. */
  worker?: string[];
  /** Connection numbers; any one. */
  conn?: number[];
  /** Events at or after this point (by their `t`, the start of an exchange). */
  from?: TimePoint;
  /** Events before this point. */
  to?: TimePoint;
  /** Exchanges that took at least this long to End Response. */
  minLatencyUs?: number;
  /** Exchanges that took at most this long. */
  maxLatencyUs?: number;
  /** Request header names (any case); every one must be present. */
  hasHeader?: string[];
  /** Stop after this many exchanges are written. */
  head?: number;
  /** Keep a deterministic share of sessions, connections or exchanges. */
  sample?: { share: number; by: SampleBy; seed: string };
  /** Drop connection, CPing, error and dropped events whatever the selectors. */
  exchangesOnly?: boolean;

  // --- transforms, in this order -------------------------------------------------------------------
  /** `s#re#replacement#flags` substitutions on the request path, in order. */
  rewriteUri?: string[];
  /** Request headers removed (request and response), any case. */
  dropHeader?: string[];
  /** [name, value]: the request header set, replacing every header of that name. */
  setHeader?: [string, string][];
  /** Header values (request and response) replaced by REDACTED. */
  redactHeader?: string[];
  /** Query parameters whose values become REDACTED. */
  redactQuery?: string[];
  /** Body bytes removed (length and SHA-256 kept). */
  dropBodies?: boolean;

  // --- ids and time --------------------------------------------------------------------------------
  /** Exchange ids renumbered 1, 2, ... in output order (default: kept as in the input). */
  renumber?: boolean;
  /** Moves the trace's wall clock: by an amount, or so that it starts at an instant (events keep their `t`). */
  shiftTime?: { byUs: number } | { to: string };
}

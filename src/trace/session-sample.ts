/**
 * The user session an exchange belongs to, and deterministic sampling by session, so that a sampled
 * session is kept (or mirrored, or replayed) whole. A session is its JSESSIONID without the route
 * suffix: a failover moves `abc.tomcat1` to `abc.tomcat2` and it is still the same user (§7.3).
 */
import { createHash } from 'node:crypto';
import { sessionIdInSetCookie, sessionIdInUri, sessionIdsInCookie } from './session-route.js';
import type { ExchangeEvent, HeaderPair } from './trace-types.js';

/** A session id without its route suffix (`abc.tomcat1` → `abc`). */
export function sessionKeyOf(id: string): string {
  const dot = id.indexOf('.');
  return dot >= 0 ? id.slice(0, dot) : id;
}

/**
 * The session of a request: the `;jsessionid=` path parameter, else the first JSESSIONID cookie;
 * for a request that carries none, the session its response starts (Set-Cookie), so a session's
 * first exchange belongs to it. Null when there is none.
 */
export function sessionOfExchange(
  requestHeaders: readonly HeaderPair[],
  uri: string | null,
  responseHeaders: readonly HeaderPair[] = [],
): string | null {
  const fromUri = sessionIdInUri(uri);
  if (fromUri !== undefined && fromUri !== '') return sessionKeyOf(fromUri);
  for (const [name, value] of requestHeaders) {
    if (value === null || name.toLowerCase() !== 'cookie') continue;
    const id = sessionIdsInCookie(value)[0];
    if (id !== undefined && id !== '') return sessionKeyOf(id);
  }
  for (const [name, value] of responseHeaders) {
    if (value === null || name.toLowerCase() !== 'set-cookie') continue;
    const id = sessionIdInSetCookie(value);
    if (id !== undefined && id !== '') return sessionKeyOf(id);
  }
  return null;
}

/** sessionOfExchange of a trace exchange event. */
export function sessionOfEvent(e: ExchangeEvent): string | null {
  return sessionOfExchange(e.request.headers, e.request.uri, e.response.headers);
}

/**
 * Keeps a share of keys (sessions, connections, exchange ids), the same keys for the same seed on
 * every run and every machine: a key is kept when the first 48 bits of SHA-256(seed, key) fall below
 * the share. Hashing, not a counter, so that a session is kept or not whatever order it is seen in.
 */
export class KeySampler {
  private readonly threshold: number;

  /** `share` from 0 to 1 (0.1 keeps about 10%). */
  constructor(
    readonly share: number,
    private readonly seed = '',
  ) {
    if (!(share >= 0 && share <= 1)) throw new RangeError(`a sample share is 0 to 1, got ${share}`);
    this.threshold = share * 2 ** 48;
  }

  keeps(key: string | number): boolean {
    if (this.share >= 1) return true;
    if (this.share <= 0) return false;
    const digest = createHash('sha256').update(this.seed).update('\0').update(String(key)).digest();
    return digest.readUIntBE(0, 6) < this.threshold;
  }
}

/** Observed responses for the diff engine's tests. */
import { createHash } from 'node:crypto';
import type { ObservedResponse } from '../../../../src/trace/observed-response.js';
import type { HeaderPair } from '../../../../src/trace/trace-types.js';

export function response(body: string | Buffer, headers: HeaderPair[] = [], status = 200): ObservedResponse {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  return {
    status,
    headers,
    body: { length: data.length, sha256: createHash('sha256').update(data).digest('hex'), data },
  };
}

export const JSON_TYPE: HeaderPair[] = [['Content-Type', 'application/json;charset=UTF-8']];

/** A JSON answer. */
export function json(value: unknown, headers: HeaderPair[] = []): ObservedResponse {
  return response(JSON.stringify(value), [...JSON_TYPE, ...headers]);
}

/**
 * --verify: each replayed response compared with the recorded one, so that a replay doubles as a
 * regression check between two versions of an application: the status, the SHA-256 of the body,
 * and the values of the headers named by --verify-headers (all values of a name, in order).
 */
import type { ReplayRequest } from './replay-request.js';
import type { Mismatch, RequestResult } from './request-result.js';

export type Verifier = (rec: RequestResult, req: ReplayRequest) => void;

/** `headers`: lowercase names. */
export function responseVerifier(headers: readonly string[]): Verifier {
  return (rec, req) => {
    const exp = req.expected;
    const out: Mismatch[] = [];
    if (rec.status === 0) {
      out.push({ kind: 'no-response', expected: exp.status, actual: rec.error });
    } else {
      if (rec.status !== exp.status) out.push({ kind: 'status', expected: exp.status, actual: rec.status });
      if (rec.bodySha256 !== null && rec.bodySha256 !== exp.bodySha256)
        out.push({ kind: 'body', expected: exp.bodySha256, actual: rec.bodySha256 });
      for (let i = 0; i < headers.length; i++) {
        const name = headers[i] as string;
        let expected: string | null = null;
        for (const [n, v] of exp.headers) {
          if (v === null || n.toLowerCase() !== name) continue;
          expected = expected === null ? v : `${expected}\n${v}`;
        }
        const actual = rec.verifyHeaders?.[i] ?? null;
        if (expected !== actual) out.push({ kind: `header:${name}`, expected, actual });
      }
    }
    rec.mismatches = out.length === 0 ? null : out;
  };
}

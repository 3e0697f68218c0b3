// The body large.jsp serves, reproduced client-side so a test can check a response without storing a copy.
// Must match PATTERN in webapp/large.jsp.
export const LARGE_PATTERN = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-\n';

/** The first `size` bytes of the endless repetition of LARGE_PATTERN (large.jsp?size=<size>). */
export function largeBody(size: number): Buffer {
  const pattern = Buffer.from(LARGE_PATTERN, 'latin1');
  const out = Buffer.allocUnsafe(size);
  for (let offset = 0; offset < size; offset += pattern.length)
    pattern.copy(out, offset, 0, Math.min(pattern.length, size - offset));
  return out;
}

/** IP addresses read straight from packet bytes into their usual text forms. */

export function formatIPv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/**
 * RFC 5952 text form: lowercase hex without leading zeros (§4.1, §4.3), the longest run of two
 * or more zero groups written `::`, the first one on a tie (§4.2), and IPv4-mapped addresses as
 * ::ffff:a.b.c.d (§5).
 */
export function formatIPv6(b: Buffer, at: number): string {
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed (§4.2.2)
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (b.readUInt16BE(at + 2 * i) === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestStart = runStart;
        bestLen = i - runStart + 1;
      }
    } else {
      runStart = -1;
    }
  }
  if (bestStart === 0 && bestLen === 5 && b.readUInt16BE(at + 10) === 0xffff) {
    return `::ffff:${formatIPv4(b, at + 12)}`;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    s += b.readUInt16BE(at + 2 * i).toString(16);
    if (i < 7) s += ':';
  }
  return s;
}

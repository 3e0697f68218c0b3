/**
 * IP addresses read straight from packet bytes into their usual text forms.
 *
 * A capture repeats a few hosts over and over, so recent texts are kept: building the string
 * costs more than finding it, and handing out the same (flat) string lets the flow table's key
 * hashing reuse the hash V8 stores on it. Both caches are bounded.
 */

const V4_CACHE_LIMIT = 4096;
const v4Cache = new Map<number, string>();

export function formatIPv4(b: Buffer, at: number): string {
  const key = b.readUInt32BE(at);
  let text = v4Cache.get(key);
  if (text === undefined) {
    if (v4Cache.size >= V4_CACHE_LIMIT) v4Cache.clear();
    text = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    v4Cache.set(key, text);
  }
  return text;
}

/** The last few IPv6 addresses: their four 32-bit words, and their text, replaced round-robin. */
const V6_SLOTS = 8;
const v6Words = new Uint32Array(V6_SLOTS * 4);
const v6Texts: string[] = new Array<string>(V6_SLOTS).fill('');
let v6Next = 0;

/** The IPv6 address at `at` in RFC 5952 text form (see ipv6Text). */
export function formatIPv6(b: Buffer, at: number): string {
  const w0 = b.readUInt32BE(at);
  const w1 = b.readUInt32BE(at + 4);
  const w2 = b.readUInt32BE(at + 8);
  const w3 = b.readUInt32BE(at + 12);
  for (let i = 0; i < V6_SLOTS; i++) {
    const k = i * 4;
    if (
      v6Words[k] === w0 &&
      v6Words[k + 1] === w1 &&
      v6Words[k + 2] === w2 &&
      v6Words[k + 3] === w3 &&
      v6Texts[i] !== ''
    ) {
      return v6Texts[i] as string;
    }
  }
  const text = ipv6Text(b, at);
  const slot = v6Next;
  v6Next = (v6Next + 1) % V6_SLOTS;
  v6Words.set([w0, w1, w2, w3], slot * 4);
  v6Texts[slot] = text;
  return text;
}

/**
 * RFC 5952 text form: lowercase hex without leading zeros (§4.1, §4.3), the longest run of two
 * or more zero groups written `::`, the first one on a tie (§4.2), and IPv4-mapped addresses as
 * ::ffff:a.b.c.d (§5).
 */
function ipv6Text(b: Buffer, at: number): string {
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

/**
 * pcapng timestamps: a 64-bit count of if_tsresol units (split in two 32-bit halves) plus the
 * if_tsoffset seconds, turned into integer microseconds (rounded down).
 *
 * The count does not fit a double (nanoseconds since 1970 are ~2^61), so the common resolutions
 * divide the two halves separately in exact double arithmetic; rare ones fall back to BigInt.
 */

const TWO32 = 4294967296;

/** Converts (high, low) halves to µs since the epoch. */
export type TimestampConverter = (high: number, low: number) => number;

/**
 * `tsresol` is the if_tsresol option byte (draft-ietf-opsawg-pcapng §4.2): most significant bit
 * clear, the rest is a power of ten (units of 10^-n s); set, a power of two (2^-n s). Default 6 (µs).
 * `offsetSeconds` is if_tsoffset.
 */
export function timestampConverter(tsresol: number, offsetSeconds: number): TimestampConverter {
  const offsetUs = offsetSeconds * 1e6;
  const exp = tsresol & 0x7f;
  if ((tsresol & 0x80) === 0) {
    if (exp === 6) return (high, low) => high * TWO32 + low + offsetUs;
    if (exp < 6) {
      const mul = 10 ** (6 - exp);
      return (high, low) => (high * TWO32 + low) * mul + offsetUs;
    }
    const div = 10 ** (exp - 6);
    // high = q·div + r, so (high·2^32 + low) / div = q·2^32 + (r·2^32 + low) / div, where
    // r·2^32 + low < div·2^32 stays exact below 2^53 for div ≤ 2^21 (resolutions to 10^-12 s).
    if (div <= 2 ** 21) {
      return (high, low) => {
        const q = Math.floor(high / div);
        return q * TWO32 + Math.floor(((high - q * div) * TWO32 + low) / div) + offsetUs;
      };
    }
    const bigDiv = 10n ** BigInt(exp - 6);
    return (high, low) => Number(((BigInt(high) << 32n) | BigInt(low)) / bigDiv) + offsetUs;
  }
  const shift = BigInt(exp);
  return (high, low) => Number((((BigInt(high) << 32n) | BigInt(low)) * 1_000_000n) >> shift) + offsetUs;
}

/** One body as it streams past: length and SHA-256 always, the bytes themselves up to a limit when kept. */
import { createHash, hash as sha256Once, type Hash } from 'node:crypto';
import type { TraceBody } from './trace-types.js';

const EMPTY_SHA256 = createHash('sha256').digest('hex');
const EMPTY = Buffer.alloc(0);

export class BodyAccumulator {
  private length = 0;
  /** Most bodies arrive in one packet: hashed in one call at the end, no Hash object. */
  private only: Buffer | undefined;
  private hash: Hash | undefined;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  /** Bytes held: the trace's share (`maxKept` when `keep`) or more for a live observer (`retain`). */
  private readonly holdBytes: number;

  /**
   * `keep`: the trace gets the bytes (up to `maxKept`). `retain`: bytes held for `retained()` whatever
   * the trace keeps (a live mirror needs the bodies of a trace that writes only hashes).
   */
  constructor(
    private readonly keep: boolean,
    private readonly maxKept: number,
    retain = 0,
  ) {
    this.holdBytes = Math.max(keep ? maxKept : 0, retain);
  }

  add(data: Buffer): void {
    if (data.length === 0) return;
    this.length += data.length;
    if (this.hash !== undefined) this.hash.update(data);
    else if (this.only === undefined) this.only = data;
    else {
      this.hash = createHash('sha256').update(this.only).update(data);
      this.only = undefined;
    }
    if (this.keptBytes < this.holdBytes) {
      const take = Math.min(data.length, this.holdBytes - this.keptBytes);
      // A copy: `data` is a view into a socket or capture chunk that would otherwise stay alive.
      this.kept.push(Buffer.from(data.subarray(0, take)));
      this.keptBytes += take;
    }
  }

  get bytes(): number {
    return this.length;
  }

  /** The bytes held (all of the body unless it was longer than what was held): one buffer, owned by the caller. */
  retained(): Buffer {
    if (this.kept.length === 0) return EMPTY;
    if (this.kept.length > 1) this.kept = [Buffer.concat(this.kept)];
    return this.kept[0] as Buffer;
  }

  toTrace(): TraceBody {
    const sha256 =
      this.hash?.digest('hex') ?? (this.only === undefined ? EMPTY_SHA256 : sha256Once('sha256', this.only, 'hex'));
    const body: TraceBody = { length: this.length, sha256 };
    if (this.keep) {
      const held = this.retained();
      body.data = (held.length > this.maxKept ? held.subarray(0, this.maxKept) : held).toString('base64');
    }
    if (this.keep && this.length > this.maxKept) body.truncated = true;
    return body;
  }
}

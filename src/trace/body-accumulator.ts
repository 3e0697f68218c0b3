/** One body as it streams past: length and SHA-256 always, the bytes themselves up to a limit when kept. */
import { createHash, hash as sha256Once, type Hash } from 'node:crypto';
import type { TraceBody } from './trace-types.js';

const EMPTY_SHA256 = createHash('sha256').digest('hex');

export class BodyAccumulator {
  private length = 0;
  /** Most bodies arrive in one packet: hashed in one call at the end, no Hash object. */
  private only: Buffer | undefined;
  private hash: Hash | undefined;
  private kept: Buffer[] = [];
  private keptBytes = 0;

  constructor(
    private readonly keep: boolean,
    private readonly maxKept: number,
  ) {}

  add(data: Buffer): void {
    if (data.length === 0) return;
    this.length += data.length;
    if (this.hash !== undefined) this.hash.update(data);
    else if (this.only === undefined) this.only = data;
    else {
      this.hash = createHash('sha256').update(this.only).update(data);
      this.only = undefined;
    }
    if (this.keep && this.keptBytes < this.maxKept) {
      const take = Math.min(data.length, this.maxKept - this.keptBytes);
      // A copy: `data` is a view into a socket or capture chunk that would otherwise stay alive.
      this.kept.push(Buffer.from(data.subarray(0, take)));
      this.keptBytes += take;
    }
  }

  get bytes(): number {
    return this.length;
  }

  toTrace(): TraceBody {
    const sha256 =
      this.hash?.digest('hex') ?? (this.only === undefined ? EMPTY_SHA256 : sha256Once('sha256', this.only, 'hex'));
    const body: TraceBody = { length: this.length, sha256 };
    if (this.keep) body.data = Buffer.concat(this.kept).toString('base64');
    if (this.keep && this.length > this.maxKept) body.truncated = true;
    return body;
  }
}

/**
 * readCapture: packets from a capture file or stream (`tcpdump -U -w - | ajpbench import -`).
 *
 * Sniffs the format from the first 4 bytes: classic pcap (µs a1b2c3d4 or ns a1b23c4d, either
 * byte order; read with pcap-parser, see classic-pcap-reader.ts) or pcapng (0a0d0d0a, see
 * pcapng-reader.ts). The input is pulled one chunk at a time and the next chunk is read only
 * once the consumer has taken every packet of this one, so memory stays at a chunk or two plus
 * the stream's own read-ahead, whatever the capture's size.
 *
 * Packets are views into the chunks read (see CapturedPacket.data). An input that ends inside a
 * packet yields every whole packet before it and then reports CAPTURE_ERR_TRUNCATED through
 * onIssue (tcpdump killed mid-write is common and nothing read should be lost). A corrupt file
 * throws CaptureFormatError after the packets that precede the corruption.
 *
 * Two shapes: readCaptureBatches gives the packets of each chunk as one array (one await per
 * chunk, for hot loops); readCapture gives them one by one through a hand-written iterator,
 * since an async generator costs ~300 ns per yield (twice the iterator's cost; bench: capture-bench).
 */
import { createReadStream } from 'node:fs';
import { ClassicPcapFramer } from './classic-pcap-framer.js';
import { ClassicPcapReader } from './classic-pcap-reader.js';
import {
  CaptureFormatError,
  type CapturedPacket,
  type CaptureIssue,
  type PacketSource,
  type ReadCaptureOptions,
} from './capture-types.js';
import { PcapngReader } from './pcapng-reader.js';

/** Read size for files: large enough that few packets span two reads, small enough to keep memory flat. */
const FILE_CHUNK = 256 * 1024;

type CaptureFormat = { kind: 'pcap'; nanosecond: boolean } | { kind: 'pcapng' };

/** File magics as the first 4 bytes appear, in both byte orders (hex). */
const MAGICS: ReadonlyMap<string, CaptureFormat> = new Map<string, CaptureFormat>([
  ['a1b2c3d4', { kind: 'pcap', nanosecond: false }],
  ['d4c3b2a1', { kind: 'pcap', nanosecond: false }],
  ['a1b23c4d', { kind: 'pcap', nanosecond: true }],
  ['4d3cb2a1', { kind: 'pcap', nanosecond: true }],
  ['0a0d0d0a', { kind: 'pcapng' }],
]);

export function readCapture(
  input: NodeJS.ReadableStream | string,
  opts: ReadCaptureOptions = {},
): AsyncIterable<CapturedPacket> {
  return { [Symbol.asyncIterator]: () => new PacketIterator(readCaptureBatches(input, opts)[Symbol.asyncIterator]()) };
}

/**
 * The packets completed by each chunk read, as one array per chunk (never empty; a fresh array
 * each time, the consumer's to keep). Same errors and issues as readCapture.
 */
export async function* readCaptureBatches(
  input: NodeJS.ReadableStream | string,
  opts: ReadCaptureOptions = {},
): AsyncGenerator<CapturedPacket[], void, undefined> {
  const onIssue = opts.onIssue ?? ((): void => {});
  const stream = typeof input === 'string' ? createReadStream(input, { highWaterMark: FILE_CHUNK }) : input;
  // Leaving early (break, a throw in the consumer) ends the stream's iterator, which destroys
  // the stream: a file we opened is closed, and so is a stream handed to us.
  let source: PacketSource | undefined;
  let head: Buffer = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    if (typeof chunk === 'string')
      throw new TypeError('readCapture: the stream has an encoding set; captures are binary');
    let next = chunk;
    if (source === undefined) {
      // Gather the 4 magic bytes, which may arrive in more than one chunk.
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < 4) continue;
      source = sourceFor(head, opts, onIssue);
      next = head;
    }
    const out: CapturedPacket[] = [];
    let failure: unknown;
    try {
      source.push(next, out);
    } catch (err) {
      failure = err; // the packets before the corruption still go out first
    }
    if (out.length > 0) yield out;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the parser threw
    if (failure !== undefined) throw failure;
  }
  if (source === undefined) {
    if (head.length === 0) throw new CaptureFormatError('CAPTURE_ERR_EMPTY', 'the capture input is empty', 0);
    // 1 to 3 bytes: the start of a known magic was cut, anything else is not a capture.
    const known = [...MAGICS.keys()].some((m) => m.startsWith(head.toString('hex')));
    if (known)
      throw new CaptureFormatError('CAPTURE_ERR_TRUNCATED', `the capture input ends after ${head.length} bytes`, 0);
    throw badMagic(head);
  }
  source.end();
}

function sourceFor(head: Buffer, opts: ReadCaptureOptions, onIssue: (issue: CaptureIssue) => void): PacketSource {
  const format = MAGICS.get(head.toString('hex', 0, 4));
  if (format === undefined) throw badMagic(head);
  if (format.kind === 'pcapng') return new PcapngReader(onIssue);
  return opts.classicPcap === 'builtin'
    ? new ClassicPcapFramer(onIssue)
    : new ClassicPcapReader(format.nanosecond, onIssue);
}

function badMagic(head: Buffer): CaptureFormatError {
  const hex = head.toString('hex', 0, Math.min(4, head.length));
  const hint = head[0] === 0x1f && head[1] === 0x8b ? ' (gzip-compressed: decompress it first)' : '';
  return new CaptureFormatError('CAPTURE_ERR_BAD_MAGIC', `not a pcap or pcapng file: it starts with ${hex}${hint}`, 0);
}

/** Hands out a batch's packets one by one; pulls the next batch only when this one is used up. */
class PacketIterator implements AsyncIterator<CapturedPacket, undefined> {
  private batch: CapturedPacket[] = [];
  private index = 0;
  /** A pull in progress: a next() called meanwhile waits for it rather than pulling again. */
  private pulling: Promise<IteratorResult<CapturedPacket, undefined>> | undefined;

  constructor(private readonly batches: AsyncGenerator<CapturedPacket[], void, undefined>) {}

  next(): Promise<IteratorResult<CapturedPacket, undefined>> {
    if (this.pulling !== undefined) return this.pulling.then(() => this.next());
    if (this.index < this.batch.length)
      return Promise.resolve({ value: this.batch[this.index++] as CapturedPacket, done: false });
    this.pulling = this.pull().finally(() => {
      this.pulling = undefined;
    });
    return this.pulling;
  }

  async return(): Promise<IteratorResult<CapturedPacket, undefined>> {
    this.batch = [];
    await this.batches.return(undefined);
    return { value: undefined, done: true };
  }

  private async pull(): Promise<IteratorResult<CapturedPacket, undefined>> {
    const r = await this.batches.next();
    if (r.done === true) {
      this.batch = [];
      return { value: undefined, done: true };
    }
    this.batch = r.value;
    this.index = 1;
    return { value: r.value[0] as CapturedPacket, done: false };
  }
}

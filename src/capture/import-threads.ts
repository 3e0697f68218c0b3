/**
 * A threaded import: this thread reads the capture, decodes each packet down to its TCP header,
 * classifies it (FlowClassifier) and routes the segments of each connection, both directions, to
 * one of N - 1 decode workers (import-worker.ts), one batch per worker per chunk read. Workers
 * follow their flows and serialise the events; this thread merges their lines into the trace a
 * single thread writes, byte for byte:
 *
 * - order: each event carries the index of the packet whose processing emitted it; a chunk's
 *   events are released once every worker has answered for that chunk, merged by that index
 *   (a packet goes to one worker, which keeps its own emission order). At the end of the capture,
 *   connections still open close in the order they opened (a single thread's table order), so
 *   those last events are merged by global conn instead.
 * - numbers: conn is the rank of a connection's open and an exchange id the rank of its request
 *   start, both in packet order across workers; workers send each line without its leading
 *   id/conn fields and this thread writes them (linePrefix).
 *
 * Memory stays bounded: at most MAX_CHUNKS_IN_FLIGHT chunks are read ahead of the ones released
 * (reading waits), and a chunk's lines are written before later ones are merged.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RuntimeError } from '../errors.js';
import { SerializedEvent, type TraceHeader, type TraceOutput } from '../trace/index.js';
import { LazyTraceOutput, walkCapture } from './capture-walk.js';
import type { Direction } from '../protocol/index.js';
import type { TcpSegment } from './capture-types.js';
import { FlowClassifier } from './import-flow-classifier.js';
import { emptySummary, header, type ImportOptions, type ImportSummary } from './import-options.js';
import { SegmentBatchWriter } from './import-segment-batch.js';
import { LINE_EVENT, LineKind, linePrefix, NUMS_PER_EVENT, type ShardResult } from './import-shard.js';
import type { FromWorker, ToWorker, WorkerInput } from './import-worker.js';

/** The most threads `--threads` takes: beyond the cores they only share them. */
export const MAX_IMPORT_THREADS = 64;

/**
 * `--threads` when not given. On the 2-core machine this was measured on, two threads (reading,
 * and one decode worker) came out between 25% faster and 25% slower than one, depending on what
 * else used the second core, at 35-40% more CPU: one thread there. With 4 cores or more, 4 (not
 * measured here: the reading thread and 3 workers, each worker's share still behind a cold JIT).
 */
export function defaultImportThreads(cores = availableParallelism()): number {
  return cores >= 4 ? 4 : 1;
}

/** Chunks read but not yet written: bounds what waits in the workers and in this thread. */
const MAX_CHUNKS_IN_FLIGHT = 4;

export async function importThreaded(
  input: string | NodeJS.ReadableStream,
  openWriter: (header: TraceHeader) => Promise<TraceOutput>,
  opts: ImportOptions,
  threads: number,
): Promise<ImportSummary> {
  const started = Date.now();
  const summary = emptySummary();
  const classifier = new FlowClassifier(opts.ports);
  const merger = new LineMerger(threads);
  let pool: WorkerPool | undefined;
  let writers: SegmentBatchWriter[] = [];
  let startUs = 0;
  let lastUs = 0;
  const output = new LazyTraceOutput(openWriter, () => header(opts, startUs));
  /** Each chunk's release (merge and write), in order; reading waits on the oldest past the limit. */
  const releases: Promise<void>[] = [];
  let released: Promise<void> = Promise.resolve();

  const count = (kind: LineKind): void => {
    summary.events++;
    if (kind === LineKind.Exchange) summary.exchanges++;
    else if (kind === LineKind.Incomplete) summary.incomplete++;
    else if (kind === LineKind.Error) summary.errors++;
    else if (kind === LineKind.Cping) summary.cpings++;
  };
  const release = (results: Promise<ShardResult[]>, atEnd: boolean): Promise<void> => {
    results.catch(() => undefined); // a worker's failure is reported where the chain awaits it
    released = released.then(async () => output.write(merger.merge(await results, atEnd, count)));
    released.catch(() => undefined); // awaited by the reading loop or finish(); never unhandled
    return released;
  };
  const shards = new ShardMap(threads - 1);
  const route = (seg: TcpSegment, packet: number): void => {
    lastUs = seg.timestampUs;
    const direction = classifier.direction(seg, (held) => route(held, packet));
    if (direction === undefined) return;
    (writers[shards.of(seg, direction)] as SegmentBatchWriter).add(seg, direction, packet);
  };
  await walkCapture(input, opts, summary, started, {
    first: (firstUs) => {
      startUs = firstUs;
      pool = new WorkerPool(threads - 1, {
        trace: opts.trace,
        startUs,
        ...(opts.maxPacketSize === undefined ? {} : { maxPacketSize: opts.maxPacketSize }),
        ...(opts.failWorkerAtPacket === undefined ? {} : { failAtPacket: opts.failWorkerAtPacket }),
      });
      writers = Array.from({ length: threads - 1 }, () => new SegmentBatchWriter());
    },
    segment: route,
    chunkDone: async () => {
      if (pool === undefined) return;
      releases.push(release(pool.send(writers), false));
      if (releases.length > MAX_CHUNKS_IN_FLIGHT) await releases.shift();
    },
    finish,
  });
  return summary;

  async function finish(): Promise<void> {
    try {
      if (pool === undefined) return;
      await released;
      classifier.end();
      const ended = pool.end(lastUs);
      await release(
        ended.then((e) => e.map((x) => x.result)),
        true,
      );
      for (const e of await ended) {
        summary.flows += e.flows;
        summary.missingBytes += e.missingBytes;
      }
      summary.ignoredSegments = classifier.ignoredSegments;
    } finally {
      summary.elapsedMs = Date.now() - started;
      pool?.terminate();
      // What was written stays written, whatever failed.
      await output.close();
    }
  }
}

/**
 * Which shard follows a connection: both directions to the same one, chosen when its port pair is
 * first seen, the one that was given the fewest bytes so far (then the fewest connections). A hash
 * of the ports would not do: Linux gives connect() even ports, so every client port of a capture
 * can share its parity, and a few keep-alive connections often carry most of the bytes. Keyed by
 * the port pair alone (two hosts' connections with the same ports share a shard, which is still
 * consistent), so the table holds at most one entry per client port and container port.
 */
class ShardMap {
  private readonly byPorts = new Map<number, number>();
  private readonly bytes: number[];
  private readonly flows: number[];

  constructor(private readonly n: number) {
    this.bytes = new Array<number>(n).fill(0);
    this.flows = new Array<number>(n).fill(0);
  }

  of(seg: TcpSegment, direction: Direction): number {
    const key = direction === 'to-container' ? seg.srcPort * 65536 + seg.dstPort : seg.dstPort * 65536 + seg.srcPort;
    let shard = this.byPorts.get(key);
    if (shard === undefined) {
      shard = 0;
      for (let i = 1; i < this.n; i++) {
        const b = this.bytes[i] as number;
        const best = this.bytes[shard] as number;
        if (b < best || (b === best && (this.flows[i] as number) < (this.flows[shard] as number))) shard = i;
      }
      this.byPorts.set(key, shard);
      this.flows[shard] = (this.flows[shard] as number) + 1;
    }
    // A segment's headers cost about as much as 64 payload bytes.
    this.bytes[shard] = (this.bytes[shard] as number) + seg.payload.length + 64;
    return shard;
  }
}

/** Puts the workers' lines in a single thread's order with global conn numbers and exchange ids. */
class LineMerger {
  private lastConn = 0;
  private lastId = 0;
  /** Per worker: its local conn and id numbers to the global ones, while in use. */
  private readonly conns: Map<number, number>[];
  private readonly ids: Map<number, number>[];
  /** Per worker: the local id of its next request start. */
  private readonly nextLocalId: number[];

  constructor(private readonly workers: number) {
    this.conns = Array.from({ length: workers }, () => new Map<number, number>());
    this.ids = Array.from({ length: workers }, () => new Map<number, number>());
    this.nextLocalId = new Array<number>(workers).fill(1);
  }

  /**
   * One chunk's results (one per worker), or the end's (`atEnd`: order keys are local conns,
   * merged by the global conn they stand for).
   */
  merge(results: ShardResult[], atEnd: boolean, count: (kind: LineKind) => void): SerializedEvent[] {
    const order = atEnd
      ? (w: number, key: number): number => this.conns[w]?.get(key) ?? Number.MAX_SAFE_INTEGER
      : (_w: number, key: number): number => key;
    // Request starts first: an exchange's id is known before any line that carries it.
    mergeByKey(
      results.map((r) => r.starts),
      (w, list, i) => order(w, list[i] as number),
      (w) => {
        const local = this.nextLocalId[w] as number;
        this.nextLocalId[w] = local + 1;
        (this.ids[w] as Map<number, number>).set(local, ++this.lastId);
      },
    );
    const out: SerializedEvent[] = [];
    const textAt = results.map(() => 0);
    mergeByKey(
      results.map((r) => r.nums),
      (w, nums, i) => order(w, nums[i * NUMS_PER_EVENT] as number),
      (w, i) => {
        const r = results[w] as ShardResult;
        const base = i * NUMS_PER_EVENT;
        const kind = r.nums[base + 1] as LineKind;
        const localId = r.nums[base + 2] as number;
        const localConn = r.nums[base + 3] as number;
        const t = r.nums[base + 4] as number;
        const from = textAt[w] as number;
        const to = from + (r.nums[base + 5] as number);
        textAt[w] = to;
        const conns = this.conns[w] as Map<number, number>;
        if (kind === LineKind.ConnectionOpen) conns.set(localConn, ++this.lastConn);
        const conn = conns.get(localConn) ?? 0;
        if (kind === LineKind.ConnectionClose) conns.delete(localConn);
        let id = 0;
        if (kind === LineKind.Exchange || kind === LineKind.Incomplete) {
          const ids = this.ids[w] as Map<number, number>;
          id = ids.get(localId) ?? 0;
          ids.delete(localId);
        }
        count(kind);
        out.push(new SerializedEvent(LINE_EVENT[kind], t, linePrefix(kind, id, conn, t) + r.text.slice(from, to)));
      },
    );
    return out;
  }
}

/**
 * Merges lists each sorted by key (keys never tie across lists): calls `take(list, index)` in key
 * order. A Float64Array is a list of events, NUMS_PER_EVENT numbers each.
 */
function mergeByKey<L extends number[] | Float64Array>(
  lists: L[],
  keyOf: (w: number, list: L, i: number) => number,
  take: (w: number, i: number) => void,
): void {
  const per = (l: L): number => (l instanceof Float64Array ? NUMS_PER_EVENT : 1);
  const at = lists.map(() => 0);
  const lengths = lists.map((l) => l.length / per(l));
  for (;;) {
    let best = -1;
    let bestKey = Infinity;
    for (let w = 0; w < lists.length; w++) {
      const i = at[w] as number;
      if (i >= (lengths[w] as number)) continue;
      const k = keyOf(w, lists[w] as L, i);
      if (k < bestKey) {
        bestKey = k;
        best = w;
      }
    }
    if (best < 0) return;
    take(best, (at[best] as number)++);
  }
}

interface Ended {
  result: ShardResult;
  flows: number;
  missingBytes: number;
}

/** The decode workers: each answers every message in order, so answers are matched FIFO. */
class WorkerPool {
  private readonly workers: Worker[];
  private readonly waiting: { resolve: (m: FromWorker) => void; reject: (e: unknown) => void }[][];
  private failure: RuntimeError | undefined;

  constructor(n: number, input: WorkerInput) {
    const url = workerUrl();
    this.waiting = Array.from({ length: n }, () => []);
    this.workers = Array.from({ length: n }, (_, i) => {
      // The process's node flags, but --input-type (node -e), which a worker started from a file refuses.
      const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
      const w = new Worker(url, { workerData: input, execArgv });
      w.on('message', (m: FromWorker) => {
        if (m.type === 'failed') this.fail(i, m.message);
        else (this.waiting[i] as { resolve: (m: FromWorker) => void }[]).shift()?.resolve(m);
      });
      w.on('error', (e) => this.fail(i, e.message));
      w.on('exit', (code) => {
        if ((this.waiting[i] as unknown[]).length > 0) this.fail(i, `it exited (${code})`);
      });
      return w;
    });
  }

  /** Hands each worker its batch (or an empty one, which still answers in turn). */
  send(writers: SegmentBatchWriter[]): Promise<ShardResult[]> {
    return Promise.all(
      this.workers.map((w, i) => {
        const batch = (writers[i] as SegmentBatchWriter).take() ?? null;
        const m: ToWorker = { type: 'batch', batch };
        return this.ask(i, () => w.postMessage(m, batch === null ? [] : [batch.bytes])).then((r) =>
          r.type === 'result' ? r : this.unexpected(i),
        );
      }),
    );
  }

  /** The capture ended at `lastUs`: each worker closes its connections and reports. */
  end(lastUs: number): Promise<Ended[]> {
    return Promise.all(
      this.workers.map((w, i) =>
        this.ask(i, () => w.postMessage({ type: 'end', lastUs } satisfies ToWorker)).then((r) =>
          r.type === 'ended' ? r : this.unexpected(i),
        ),
      ),
    );
  }

  terminate(): void {
    for (const w of this.workers) void w.terminate();
  }

  private ask(i: number, post: () => void): Promise<FromWorker> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const answer = new Promise<FromWorker>((resolve, reject) => {
      (this.waiting[i] as { resolve: (m: FromWorker) => void; reject: (e: unknown) => void }[]).push({
        resolve,
        reject,
      });
    });
    post();
    return answer;
  }

  private unexpected(i: number): never {
    throw this.fail(i, 'it answered out of turn');
  }

  private fail(i: number, why: string): RuntimeError {
    this.failure ??= new RuntimeError(
      `import: decode worker ${i + 1} of ${this.workers.length} failed: ${why}; the trace holds what was decoded before`,
      'AJPBENCH_ERR_INTERNAL',
    );
    for (const queue of this.waiting) for (const w of queue.splice(0)) w.reject(this.failure);
    return this.failure;
  }
}

/**
 * The compiled worker beside this module; under vitest, which runs the TypeScript sources, the
 * one in dist/ (npm run build).
 */
function workerUrl(): URL {
  const here = new URL('./import-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL(here.href.replace('/src/capture/', '/dist/src/capture/'));
  if (existsSync(fileURLToPath(built))) return built;
  throw new RuntimeError(
    `import: the decode worker ${fileURLToPath(here)} is missing (build first: npm run build)`,
    'AJPBENCH_ERR_INTERNAL',
  );
}

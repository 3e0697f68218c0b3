/**
 * One decode worker of a threaded import (import-threads.ts starts it): an ImportShard fed the
 * segment batches the reading thread routes to it, one answer per message, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readSegmentBatch, type SegmentBatch } from './import-segment-batch.js';
import { ImportShard, type ShardInput, type ShardResult } from './import-shard.js';

export interface WorkerInput extends ShardInput {
  /** Tests only: the worker fails on the batch holding this packet index. */
  failAtPacket?: number;
}

export type ToWorker = { type: 'batch'; batch: SegmentBatch | null } | { type: 'end'; lastUs: number };

export type FromWorker =
  | ShardResult
  | { type: 'ended'; result: ShardResult; flows: number; missingBytes: number }
  | { type: 'failed'; message: string };

function run(port: NonNullable<typeof parentPort>, input: WorkerInput): void {
  const shard = new ImportShard(input);
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  port.on('message', (m: ToWorker) => {
    try {
      if (m.type === 'batch') {
        if (m.batch !== null)
          readSegmentBatch(m.batch, (seg, direction, packet) => {
            if (packet === input.failAtPacket) throw new Error(`failing at packet ${packet}, as the test asked`);
            shard.follow(seg, direction, packet);
          });
        const r = shard.take();
        post(r, [r.nums.buffer as ArrayBuffer]);
      } else {
        const ended = shard.end(m.lastUs);
        post({ type: 'ended', ...ended }, [ended.result.nums.buffer as ArrayBuffer]);
        port.close();
      }
    } catch (e) {
      post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
      port.close();
    }
  });
}

if (parentPort !== null) run(parentPort, workerData as WorkerInput);

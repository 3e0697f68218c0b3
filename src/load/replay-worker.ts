/**
 * One --workers thread (load/parallel-replay.ts starts it): runs replay() with its share of the
 * load and posts back what it measured. Messages in: `stop` (Ctrl-C: this run stops and still
 * reports). Out: `progress` (counts for the one progress line), then `done` with the report, or
 * `failed` with the error's class, code and message, so the main thread throws the same typed error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AjpbenchError, UsageError } from '../errors.js';
import type { ProgressSnapshot, ReplayReport } from '../results/replay-report.js';
import { replay, type ReplayOptions } from './replay.js';

export type ToWorker = { type: 'stop' };
export type FromWorker =
  | { type: 'progress'; progress: ProgressSnapshot }
  | { type: 'issue'; message: string }
  | { type: 'done'; report: ReplayReport }
  | { type: 'failed'; usage: boolean; code: string | null; message: string };

/** What the main thread passes: the worker's options without the functions and the signal. */
export interface WorkerInput {
  options: Omit<ReplayOptions, 'signal' | 'onProgress' | 'onIssue' | 'now'>;
  progressIntervalMs: number | null;
}

async function run(port: NonNullable<typeof parentPort>, input: WorkerInput): Promise<void> {
  const stop = new AbortController();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stop') stop.abort();
  });
  const post = (m: FromWorker): void => port.postMessage(m);
  try {
    const { report } = await replay({
      ...input.options,
      signal: stop.signal,
      onIssue: (message) => post({ type: 'issue', message }),
      ...(input.progressIntervalMs === null
        ? {}
        : {
            onProgress: (progress: ProgressSnapshot) => post({ type: 'progress', progress }),
            progressIntervalMs: input.progressIntervalMs,
          }),
    });
    post({ type: 'done', report });
  } catch (e) {
    const err = e as Error;
    post({
      type: 'failed',
      usage: e instanceof UsageError,
      code: e instanceof AjpbenchError ? e.code : null,
      message: err.message ?? String(e),
    });
  } finally {
    port.close();
  }
}

if (parentPort !== null) void run(parentPort, workerData as WorkerInput);

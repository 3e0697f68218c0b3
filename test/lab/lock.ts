// Serialises `up` and `down` on one run directory, across processes (two vitest workers, or a test run racing
// `npm run lab -- up`) and within one process. A lock whose owner pid is gone is stale and taken over.
import { mkdirSync, openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive, sleep } from './processes.js';

let inProcess: Promise<unknown> = Promise.resolve();

function tryAcquire(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let owner = NaN;
    try {
      owner = Number(readFileSync(file, 'utf8').trim());
    } catch {
      return false; // being replaced right now; try again
    }
    if (!Number.isInteger(owner) || owner <= 0 || (owner !== process.pid && !isAlive(owner))) {
      try {
        unlinkSync(file);
      } catch {
        // someone else took it over first
      }
    }
    return false;
  }
}

async function acquire(file: string, timeoutMs: number): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  while (!tryAcquire(file)) {
    if (Date.now() > deadline) throw new Error(`lab: timed out waiting for ${file} (another lab up/down is running)`);
    await sleep(200);
  }
}

function release(file: string): void {
  try {
    if (Number(readFileSync(file, 'utf8').trim()) === process.pid) unlinkSync(file);
  } catch {
    // already gone
  }
}

export function withLock<T>(file: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const run = async (): Promise<T> => {
    await acquire(file, timeoutMs);
    try {
      return await fn();
    } finally {
      release(file);
    }
  };
  const result = inProcess.then(run, run);
  inProcess = result.catch(() => undefined);
  return result;
}

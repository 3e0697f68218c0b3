/**
 * The bounds of what one ajpbench process is asked to do, checked where options enter the load
 * engine, and timers that cannot overflow.
 *
 * MAX_CONCURRENCY: every unit of concurrency is one TCP connection from this process to a target,
 * from one source address. Linux hands out about 28,000 ephemeral ports (32768-60999) per source
 * address and destination, and one process holds 1024 descriptors by default (often 65536 when
 * raised); a Tomcat AJP connector serves 200 threads by default and mod_jk opens ThreadsPerChild
 * connections per httpd child. 10,000 is far beyond what one front end drives into one backend,
 * and well within what one process can hold open; more load than that is the job of several
 * generators (--start-at, docs/distributed.md).
 *
 * MAX_RATE_PER_SECOND: one Node process sends some ten thousand requests per second; a rate a
 * hundred times that is a typo, and would only fill the open-loop backlog and drop requests.
 */
import { UsageError } from '../errors.js';

export const MAX_CONCURRENCY = 10_000;
export const MAX_RATE_PER_SECOND = 1_000_000;
/** --speed of recorded timing: from a thousand times slower to a million times faster. */
export const MIN_SPEED = 0.001;
export const MAX_SPEED = 1_000_000;
/** The longest a Node timer waits: past 2^31-1 ms it fires after 1 ms instead (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay a timer can wait: NaN and negatives are 0, anything past the limit is the limit (the caller re-arms). */
export function timerMs(ms: number): number {
  return ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0;
}

/**
 * Waits `ms` (any length: chunks below the timer limit), or until `signal` aborts. Resolves true
 * when the time was waited, false when aborted (also when it was aborted before the call).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  const end = performance.now() + (ms > 0 ? ms : 0);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      resolve(false);
    };
    const arm = (): void => {
      const left = end - performance.now();
      if (left <= 0) {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
        return;
      }
      timer = setTimeout(arm, timerMs(left));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

/** A whole number from 1 to MAX_CONCURRENCY, or a usage error. */
export function checkConcurrency(n: number, what = 'concurrency'): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY)
    throw new UsageError(`${what} takes a whole number from 1 to ${MAX_CONCURRENCY}, got ${n}`);
  return n;
}

/** A rate above zero and at most MAX_RATE_PER_SECOND, or a usage error. */
export function checkRate(rate: number, what = 'rate'): number {
  if (!(rate > 0) || !(rate <= MAX_RATE_PER_SECOND))
    throw new UsageError(`${what} takes a rate above 0 and at most ${MAX_RATE_PER_SECOND}/s, got ${rate}`);
  return rate;
}

/**
 * When a run's results are a failure of the run rather than a measurement: no request ever got a
 * response (the backend is unreachable, refuses, or never answers), or the run was stopped before
 * it sent anything. The commands print and write the results first, then throw these (exit 3).
 */
import { RuntimeError } from '../errors.js';
import { ERROR_KINDS, type ErrorKind } from '../results/error-kinds.js';
import type { ReplayReport } from '../results/replay-report.js';

/** Kinds whose example message (a Node error) says less than a few words do. */
const PLAIN: Partial<Record<ErrorKind, string>> = {
  'connect-refused': 'connection refused',
  reset: 'connection reset',
  closed: 'the peer closed every connection before a response',
};
const PREFIX: Partial<Record<ErrorKind, string>> = {
  'connect-failed': 'cannot connect: ',
  'cping-failed': 'CPing failed: ',
  protocol: 'not an answer: ',
};

/**
 * AJPBENCH_ERR_BACKEND when requests were sent to `target` and none got a response (warmup
 * included; a 5xx is a response), else undefined. The reason is the most frequent error kind.
 */
export function noResponseError(report: ReplayReport, target: string): RuntimeError | undefined {
  const r = report.requests;
  if (r.responses > 0 || (r.warmupResponses ?? 0) > 0) return undefined;
  if (r.total === 0) {
    const warm = report.schedule.warmupRequests;
    return warm === 0
      ? undefined
      : new RuntimeError(
          `no request got a response from ${target} (${warm} requests, all during the warmup)`,
          'AJPBENCH_ERR_BACKEND',
        );
  }
  const kinds = [...report.errors.byKind].sort((a, b) => b.count - a.count);
  const top = kinds[0];
  const reason =
    top === undefined
      ? 'no response'
      : (PLAIN[top.kind] ?? `${PREFIX[top.kind] ?? ''}${top.example ?? ERROR_KINDS[top.kind]}`);
  const count =
    kinds.length > 1
      ? `${r.errors} errors: ${kinds.map((k) => `${k.count} ${k.kind}`).join(', ')}`
      : `${r.errors} errors`;
  return new RuntimeError(`no request got a response from ${target}: ${reason} (${count})`, 'AJPBENCH_ERR_BACKEND');
}

/** AJPBENCH_ERR_INTERRUPTED: `what` was stopped (Ctrl-C, SIGTERM) before it measured anything. */
export function interruptedError(what: string): RuntimeError {
  return new RuntimeError(`${what} was stopped before it measured anything`, 'AJPBENCH_ERR_INTERRUPTED');
}

/** The failure a finished replay ends with, if any: stopped before it sent anything, or never answered. */
export function runFailure(report: ReplayReport, what: string, target: string): RuntimeError | undefined {
  if (report.schedule.stoppedBy === 'signal' && report.schedule.sent === 0) return interruptedError(what);
  return noResponseError(report, target);
}

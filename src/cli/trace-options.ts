/** The trace options `import` and `record` share: --no-redact, --bodies, --max-body, and --port lists. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { BodyPolicy, TraceOptions } from '../trace/index.js';
import { parseSize } from './options.js';

export interface TraceFlags {
  redact: boolean;
  bodies: BodyPolicy;
  maxBody: number;
}

export function addTraceOptions(cmd: Command): Command {
  return cmd
    .option('--no-redact', 'keep Authorization and cookie values in the trace (the AJP secret is never written)')
    .addOption(
      new Option('--bodies <which>', 'which bodies to keep as bytes (lengths and SHA-256 are always kept)')
        .choices(['none', 'request', 'all'])
        .default('request'),
    )
    .option(
      '--max-body <size>',
      'keep at most this much of each body, 0 to 16MiB (e.g. 64KiB, 1MiB); longer ones are marked truncated',
      (v) => parseSize(v, '--max-body', { min: 0, max: MAX_BODY_BYTES }),
      1024 * 1024,
    );
}

/**
 * A kept body goes into its exchange's JSON line as base64 (4/3 of its size), request and response
 * both with --bodies all: at 16 MiB a line stays under about 43 MiB, which every reader takes; a
 * few hundred MiB would pass V8's string limit and cost gigabytes per exchange in flight.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** --no-trace: nothing is written, so no body bytes are kept (lengths and SHA-256 still are). */
export const NO_TRACE_OPTIONS: TraceOptions = { redact: true, bodies: 'none', maxBody: 0 };

export function traceOptionsFrom(flags: TraceFlags): TraceOptions {
  return { redact: flags.redact, bodies: flags.bodies, maxBody: flags.maxBody };
}

/** `--port 8009 --port 18009,28009` (repeatable, comma lists) or `--port auto`. */
export function collectPorts(value: string, previous: number[] | 'auto' | undefined): number[] | 'auto' {
  if (value.trim() === 'auto') return 'auto';
  const ports = previous === undefined || previous === 'auto' ? [] : [...previous];
  for (const part of value.split(',')) {
    const p = part.trim();
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535)
      throw new InvalidArgumentError(`--port takes port numbers 1-65535 or auto, got ${JSON.stringify(part)}`);
    ports.push(Number(p));
  }
  return ports;
}

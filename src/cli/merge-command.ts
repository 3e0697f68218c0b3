/** `ajpbench merge`: traces from several taps or captures as one, in time order (docs/trace-tools.md). */
import { Command, InvalidArgumentError } from 'commander';
import { mergeTraces, type MergeInputSpec, type MergeSummary } from '../trace/index.js';
import { ExitCode, usageError } from './exit-codes.js';
import { statInput } from './files.js';
import { parseDuration } from './options.js';
import { readerWentAway } from './reader-gone.js';
import type { RunContext } from './run-context.js';
import { checkOutputIsNotAnInput, openTraceOutput, outputName, outputPath, traceInputFailure } from './trace-output.js';
import { toolVersion } from './version.js';

interface MergeFlags {
  output?: string;
  offset?: [string, number][];
  label?: [string, string][];
}

const DETAILS = `
Events are merged by the time they completed (an exchange at its End Response), the order each
input already has, so the output keeps it too. The output starts at the earliest input's start
(after offsets). Connection and exchange numbers n of input i (1-based) of k become (n - 1) * k + i,
so they stay distinct and map back; the header lists the inputs, their offsets and labels.
Events without a worker label get their input's (--label, else the file name without .jsonl).

Examples:
  ajpbench merge tap1.jsonl tap2.jsonl -o both.jsonl
  ajpbench merge web1.jsonl web2.jsonl --offset web2.jsonl=+1.5s --label web1.jsonl=tomcat1 -o day.jsonl

Exit codes: 0 ok, 2 bad flags, 3 a trace cannot be read or the output cannot be written.
`;

export function mergeCommand(ctx: RunContext): Command {
  return mergeDefinition().action(async (inputs: string[], flags: MergeFlags) => {
    const specs = inputSpecs(inputs, flags);
    for (const s of specs) if (s.file !== '-') statInput(s.file);
    const output = outputPath(flags.output);
    checkOutputIsNotAnInput(output, inputs);
    const summary = await runMerge(specs, output);
    if (summary === undefined) return;
    process.stderr.write(summaryLine(summary, output));
    ctx.exitCode = ExitCode.Ok;
  });
}

function mergeDefinition(): Command {
  return new Command('merge')
    .summary('merge traces from several taps or captures into one, in time order')
    .description(
      'Reads every trace at once, streaming (one event per input in memory), and writes one trace in time order ' +
        '(stdout unless -o), keeping worker labels and connection identities distinct. Give --offset for traces ' +
        'recorded on hosts whose clocks differ.',
    )
    .argument('<traces...>', 'the traces to merge (.jsonl); one of them may be - for stdin')
    .option('-o, --output <trace.jsonl>', 'the trace to write (mode 0600); - or none: stdout')
    .option(
      '--offset <file=duration>',
      "add to that input's clock, e.g. b.jsonl=+1.5s or b.jsonl=-200ms (its clock ran behind: +) (repeatable)",
      collectOffset,
    )
    .option(
      '--label <file=name>',
      "worker label for that input's events without one (default: its file name)",
      collectLabel,
    )
    .addHelpText('after', DETAILS);
}

function inputSpecs(inputs: string[], flags: MergeFlags): MergeInputSpec[] {
  if (inputs.filter((f) => f === '-').length > 1) throw usageError('merge reads stdin (-) for one input at most');
  if (new Set(inputs).size !== inputs.length) throw usageError('merge was given the same trace twice');
  const known = (file: string, flag: string): void => {
    if (!inputs.includes(file))
      throw usageError(`${flag} names ${JSON.stringify(file)}, which is not one of the traces to merge`);
  };
  for (const [file] of flags.offset ?? []) known(file, '--offset');
  for (const [file] of flags.label ?? []) known(file, '--label');
  return inputs.map((file) => {
    const offsetMs = flags.offset?.find(([f]) => f === file)?.[1];
    const label = flags.label?.find(([f]) => f === file)?.[1];
    return {
      file,
      ...(file === '-' ? { stream: process.stdin } : {}),
      ...(offsetMs === undefined ? {} : { offsetUs: Math.round(offsetMs * 1000) }),
      ...(label === undefined ? {} : { label }),
    };
  });
}

async function runMerge(specs: MergeInputSpec[], output: string | undefined): Promise<MergeSummary | undefined> {
  try {
    return await mergeTraces(specs, openTraceOutput(output), {
      tool: `ajpbench ${toolVersion()}`,
      onIssue: (file, e) => process.stderr.write(`merge: ${file}: ${e.code}: ${e.message}\n`),
      onMalformed: (file, what) => process.stderr.write(`merge: ${file}: skipped ${what}\n`),
    });
  } catch (e) {
    if (output === undefined && readerWentAway(e)) return undefined;
    throw traceInputFailure(e, undefined); // the library's message names the input
  }
}

function summaryLine(s: MergeSummary, output: string | undefined): string {
  const per = s.inputs
    .map(
      (i) =>
        `${i.file} (${i.label}${i.offsetUs === 0 ? '' : `, ${i.offsetUs > 0 ? '+' : ''}${i.offsetUs / 1000}ms`}): ${i.eventsIn} events`,
    )
    .join('; ');
  return `merge: ${s.exchangesOut} exchanges, ${s.eventsOut} events from ${per} -> ${outputName(output)}\n`;
}

function splitPair(value: string, flag: string, what: string): [string, string] {
  const eq = value.lastIndexOf('=');
  if (eq <= 0 || eq === value.length - 1)
    throw new InvalidArgumentError(`${flag} takes FILE=${what}, got ${JSON.stringify(value)}`);
  return [value.slice(0, eq), value.slice(eq + 1)];
}

function collectOffset(value: string, previous: [string, number][] | undefined): [string, number][] {
  const [file, d] = splitPair(value, '--offset', 'DURATION (e.g. b.jsonl=+1.5s)');
  const sign = d.startsWith('-') ? -1 : 1;
  const ms = parseDuration(d.replace(/^[+-]/, ''), '--offset', { zero: true, maxMs: 365 * 86_400_000 });
  return [...(previous ?? []), [file, sign * ms]];
}

function collectLabel(value: string, previous: [string, string][] | undefined): [string, string][] {
  return [...(previous ?? []), splitPair(value, '--label', 'NAME')];
}

/** `ajpbench audit ajp://host:port`: a read-only health and safety check of one AJP connector (docs/audit.md). */
import { Command, Option } from 'commander';
import { parseTarget } from '../load/target.js';
import { renderAuditTable } from '../report/audit-table.js';
import {
  DEFAULT_AUDIT_TIMEOUT_MS,
  DEFAULT_AUDIT_URI,
  auditJUnit,
  failingFindings,
  runAudit,
  type AuditReport,
  type Severity,
} from '../verdict/audit.js';
import { renderJUnit } from '../verdict/junit.js';
import { ExitCode, usageError } from './exit-codes.js';
import { writeOutput } from './files.js';
import { asFlagParser, parseDuration } from './options.js';
import type { RunContext } from './run-context.js';
import { toolVersion } from './version.js';

interface AuditFlags {
  secret?: string;
  uri: string;
  timeout: number;
  failOn: Severity;
  json?: boolean;
  junit?: string;
}

const ABOUT = `
Each message goes on a connection of its own, in this order, and the output lists every one with
the answer it got: a CPing; a GET Forward Request for --uri without a secret; the same with the
--secret given; the same with a request attribute no front end sends (req_attribute
ajpbench.audit=probe); the same padded (header x-ajpbench-audit-pad) to 8193, 16384, 32768 and
65536 bytes, stopping at the first refused. No request body, no other URI, no application file.

Checks (severity of a finding): answers CPing (high), requires a secret (high: Ghostcat's
precondition, whatever the address), accepts the given secret (high), refuses unrecognised request
attributes (high without a secret, medium with one), loopback address (medium without a secret,
low with one); packet size and jvmRoute are reported as facts.

Exit codes: 0 no finding at or above --fail-on, 1 a finding at or above --fail-on, 2 bad flags,
3 the target cannot be reached (AJPBENCH_ERR_BACKEND) or an output file cannot be written.
`;

export function auditCommand(ctx: RunContext): Command {
  return new Command('audit')
    .summary('check an AJP connector: CPing, secret, request attributes, packet size, jvmRoute, address')
    .description('A read-only health and safety check of one Tomcat AJP connector, for CI and after upgrades.')
    .argument('<target>', 'the connector, ajp://host:port')
    .option('--secret <secret>', 'the AJP secret the front end sends (default: $AJP_SECRET when set)')
    .option(
      '--uri <uri>',
      'the one URI every Forward Request asks for (give a page that creates a session to see the jvmRoute)',
      DEFAULT_AUDIT_URI,
    )
    .addOption(
      new Option('--timeout <duration>', 'deadline for each connect and each answer')
        .argParser(asFlagParser((v) => parseDuration(v, '--timeout', { maxMs: 600_000 })))
        .default(DEFAULT_AUDIT_TIMEOUT_MS, '5s'),
    )
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding of this severity or above is present')
        .choices(['low', 'medium', 'high'])
        .default('high'),
    )
    .option('--json', 'print the report as JSON instead of the table')
    .option('--junit <file>', 'write the findings as JUnit XML (one test case per check)')
    .addHelpText('after', ABOUT)
    .action(async (text: string, flags: AuditFlags) => {
      const report = await runAudit(auditOptions(text, flags));
      show(report, flags);
      ctx.exitCode = failingFindings(report, flags.failOn).length > 0 ? ExitCode.VerdictFailed : ExitCode.Ok;
    });
}

function auditOptions(text: string, flags: AuditFlags): Parameters<typeof runAudit>[0] {
  const target = parseTarget(text);
  if (target.protocol !== 'ajp')
    throw usageError(`audit takes an ajp://host:port target, got ${JSON.stringify(text)}`, 'AJPBENCH_ERR_TARGET');
  if (!/^\/[\x21-\x7e]*$/.test(flags.uri))
    throw usageError(
      `--uri takes a path starting with / (printable ASCII, no spaces), got ${JSON.stringify(flags.uri)}`,
    );
  const secret = flags.secret ?? (process.env.AJP_SECRET || undefined);
  return {
    host: target.host,
    port: target.port,
    uri: flags.uri,
    timeoutMs: flags.timeout,
    userAgent: `ajpbench-audit/${toolVersion()}`,
    ...(secret === undefined ? {} : { secret }),
  };
}

function show(report: AuditReport, flags: AuditFlags): void {
  const table = renderAuditTable(report);
  process.stdout.write(
    flags.json === true ? `${JSON.stringify({ ...report, failOn: flags.failOn }, null, 2)}\n` : `${table}\n`,
  );
  if (flags.junit !== undefined) writeOutput(flags.junit, renderJUnit([auditJUnit(report, flags.failOn, table)]));
}

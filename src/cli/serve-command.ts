/** `ajpbench serve`: stub AJP (and HTTP) containers that answer like a tiny Tomcat (docs/serve.md). */
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  MAX_STUB_BODY_BYTES,
  StubContainer,
  parseListenAddress,
  type StubFailMode,
  type StubListen,
  type StubOptions,
} from '../load/stub-container.js';
import { ExitCode, usageError } from './exit-codes.js';
import type { RunContext } from './run-context.js';
import { MAX_DURATION_MS, checkMaxPacketSizeFlag, collect, parseDuration, parseInteger, parseSize } from './options.js';

interface ServeFlags {
  listen?: string[];
  route?: string[];
  latency: number;
  jitter: number;
  status: number;
  bodySize: number;
  failRate: number;
  failMode: StubFailMode;
  secret?: string;
  maxPacketSize: number;
  duration?: number;
}

/** A share from 0 to 1, written as a decimal (0, 0.05, 1). */
function parseShare(v: string): number {
  const n = /^\s*\d*\.?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= 1))
    throw new InvalidArgumentError(`--fail-rate takes a share from 0 to 1 such as 0.05, got ${JSON.stringify(v)}`);
  return n;
}

/** A --listen address, checked as the flag is read (so a bad one is a usage error before anything listens). */
function collectListen(v: string, prev: string[] | undefined): string[] {
  parseListenAddress(v);
  return collect(v, prev);
}

/** A jvmRoute goes into a cookie (JSESSIONID=<id>.<route>): cookie-value characters only (RFC 6265), 1 to 255 of them. */
function collectRoute(v: string, prev: string[] | undefined): string[] {
  if (!/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,255}$/.test(v)) {
    throw new InvalidArgumentError(
      `--route takes a name of 1 to 255 characters without spaces, quotes, commas, semicolons or backslashes (it goes into the session cookie), got ${JSON.stringify(v)}`,
    );
  }
  return collect(v, prev);
}

const STATUS_RANGE = { min: 100, max: 999 };
const PACKET_RANGE = { min: 8192, max: 65536 };

export function serveCommand(ctx: RunContext): Command {
  return serveDefinition().action(async (flags: ServeFlags) => {
    // A listen that fails is a RuntimeError (AJPBENCH_ERR_LISTEN) naming the address, from the stub.
    const stub = await StubContainer.start(stubOptions(flags));
    announce(stub);
    await untilStopped(flags.duration);
    await stub.close();
    const s = stub.stats;
    process.stderr.write(
      `serve: ${s.connections} connections, ${s.requests} requests, ${s.cpings} CPings, ${s.rejected} rejected (secret), ` +
        `${s.failed} failed on purpose, ${s.protocolErrors} protocol errors, ${s.bodyBytes} request body bytes\n`,
    );
    ctx.exitCode = ExitCode.Ok;
  });
}

function serveDefinition(): Command {
  return new Command('serve')
    .summary('run stub AJP containers that answer like a tiny Tomcat (no Java needed)')
    .description(
      'Answers every AJP Forward Request as Tomcat would: reads the whole request body (driving Get Body Chunk), ' +
        'replies with Send Headers (with Set-Cookie: JSESSIONID=<id>.<route> when the request has no session), ' +
        'body chunks and End Response with reuse, answers CPing with CPong, and rejects a wrong or missing secret ' +
        'with 403 and a closed connection, as Tomcat does. Give several --listen/--route pairs for several ' +
        'containers in one process; an http:// listen address serves HTTP/1.1 the same way. Runs until Ctrl-C ' +
        '(or --duration), then prints what it served.\n\n' +
        'Example (two workers for a balancer in CI):\n' +
        '  ajpbench serve --listen 127.0.0.1:18009 --route tomcat1 --listen 127.0.0.1:18010 --route tomcat2 --latency 2ms',
    )
    .option(
      '--listen <addr>',
      'host:port, [::1]:port, a bare port (loopback), or http://host:port; port 0 picks a free one; repeatable (default 127.0.0.1:18009)',
      collectListen,
    )
    .option(
      '--route <name>',
      'jvmRoute of the matching --listen (first --route for the first --listen...); default tomcat1, tomcat2...',
      collectRoute,
    )
    .option(
      '--latency <duration>',
      'delay before answering, after the body was read (e.g. 2ms; 0 to 24d)',
      (v) => parseDuration(v, '--latency', { zero: true }),
      0,
    )
    .option(
      '--jitter <duration>',
      'the delay varies uniformly within ± this (0 to 24d)',
      (v) => parseDuration(v, '--jitter', { zero: true }),
      0,
    )
    .option('--status <code>', 'response status (100-999)', (v) => parseInteger(v, '--status', STATUS_RANGE), 200)
    .option(
      '--body-size <size>',
      'response body size (e.g. 1KiB; 0 to 1GiB, streamed above 1MiB)',
      (v) => parseSize(v, '--body-size', { max: MAX_STUB_BODY_BYTES }),
      1024,
    )
    .option('--fail-rate <share>', 'share of requests that fail (0-1)', parseShare, 0)
    .addOption(
      new Option('--fail-mode <mode>', 'how a request fails: status (500), reset (TCP RST), close (FIN)')
        .choices(['status', 'reset', 'close'])
        .default('status'),
    )
    .option('--secret <secret>', 'AJP secret every request must carry (default: $AJP_SECRET when set)')
    .option(
      '--max-packet-size <bytes>',
      'largest AJP packet, header included (8192-65536)',
      (v) => parseInteger(v, '--max-packet-size', PACKET_RANGE),
      8192,
    )
    .option('--duration <duration>', 'stop by itself after this long (e.g. 30s; at most 24d)', (v) =>
      parseDuration(v, '--duration'),
    );
}

/** The stub's options, once the flags that go together have been checked. */
function stubOptions(flags: ServeFlags): StubOptions {
  checkMaxPacketSizeFlag(flags.maxPacketSize);
  if (flags.latency + flags.jitter > MAX_DURATION_MS)
    throw usageError('--latency plus --jitter must be at most 24d (the longest a timer can wait)');
  if (flags.secret === '') throw usageError('--secret must not be empty (leave it out for no secret)');
  const secret = flags.secret ?? (process.env.AJP_SECRET || undefined);
  return {
    listen: listenersFrom(flags.listen ?? ['127.0.0.1:18009'], flags.route ?? []),
    latencyMs: flags.latency,
    jitterMs: flags.jitter,
    status: flags.status,
    bodySize: flags.bodySize,
    failRate: flags.failRate,
    failMode: flags.failMode,
    maxPacketSize: flags.maxPacketSize,
    ...(secret === undefined ? {} : { secret }),
  };
}

/** Each --listen with its --route (the first for the first...), tomcat1, tomcat2... where none is given. */
function listenersFrom(addrs: string[], routes: string[]): StubListen[] {
  if (routes.length > addrs.length)
    throw usageError(`${routes.length} --route for ${addrs.length} --listen: give one --route per --listen`);
  return addrs.map((a, i) => ({ ...parseListenAddress(a), route: routes[i] ?? `tomcat${i + 1}` }));
}

function announce(stub: StubContainer): void {
  for (const l of stub.listeners) {
    const remote = !/^(127\.|::1$|localhost$)/.test(l.host) ? ' (not loopback: reachable from other hosts)' : '';
    process.stderr.write(`serve: listening on ${l.protocol}://${l.address} (route ${l.route})${remote}\n`);
  }
}

/** Until Ctrl-C (or SIGTERM), or --duration. */
function untilStopped(durationMs: number | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      if (timer !== undefined) clearTimeout(timer);
      resolve();
    };
    const timer = durationMs === undefined ? undefined : setTimeout(done, durationMs);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

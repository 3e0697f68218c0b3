/** `ajpbench serve`: stub AJP (and HTTP) containers that answer like a tiny Tomcat (docs/serve.md). */
import { Command, Option } from 'commander';
import { StubContainer, parseListenAddress, type StubFailMode, type StubListen } from '../load/stub-container.js';
import { ExitCode, runtimeError, usageError } from './exit-codes.js';
import type { RunContext } from './main.js';
import { checkMaxPacketSizeFlag, parseDuration, parseInteger, parseSize } from './options.js';

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

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

function parseShare(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw usageError(`--fail-rate takes a share from 0 to 1, got ${JSON.stringify(v)}`);
  return n;
}

export function serveCommand(ctx: RunContext): Command {
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
    .option('--listen <addr>', 'host:port, [::1]:port, a bare port (loopback), or http://host:port; repeatable (default 127.0.0.1:18009)', collect)
    .option('--route <name>', 'jvmRoute of the matching --listen (first --route for the first --listen...); default tomcat1, tomcat2...', collect)
    .option('--latency <duration>', 'delay before answering, after the body was read (e.g. 2ms)', (v) => parseDuration(v, '--latency', { zero: true }), 0)
    .option('--jitter <duration>', 'the delay varies uniformly within ± this', (v) => parseDuration(v, '--jitter', { zero: true }), 0)
    .option('--status <code>', 'response status', (v) => parseInteger(v, '--status'), 200)
    .option('--body-size <size>', 'response body size (e.g. 1KiB)', (v) => parseSize(v, '--body-size'), 1024)
    .option('--fail-rate <share>', 'share of requests that fail (0-1)', parseShare, 0)
    .addOption(new Option('--fail-mode <mode>', 'how a request fails: status (500), reset (TCP RST), close (FIN)').choices(['status', 'reset', 'close']).default('status'))
    .option('--secret <secret>', 'AJP secret every request must carry (default: $AJP_SECRET when set)')
    .option('--max-packet-size <bytes>', 'largest AJP packet, header included (8192-65536)', (v) => parseInteger(v, '--max-packet-size'), 8192)
    .option('--duration <duration>', 'stop by itself after this long (e.g. 30s)', (v) => parseDuration(v, '--duration'))
    .action(async (flags: ServeFlags) => {
      checkMaxPacketSizeFlag(flags.maxPacketSize);
      if (flags.status < 100 || flags.status > 999) throw usageError(`--status takes 100-999, got ${flags.status}`);
      const addrs = flags.listen ?? ['127.0.0.1:18009'];
      const routes = flags.route ?? [];
      if (routes.length > addrs.length) throw usageError(`${routes.length} --route for ${addrs.length} --listen: give one --route per --listen`);
      const listen: StubListen[] = addrs.map((a, i) => {
        try {
          return { ...parseListenAddress(a), route: routes[i] ?? `tomcat${i + 1}` };
        } catch (e) {
          throw usageError(`--listen: ${(e as Error).message}`);
        }
      });
      const secret = flags.secret ?? (process.env.AJP_SECRET || undefined);
      let stub: StubContainer;
      try {
        stub = await StubContainer.start({
          listen,
          latencyMs: flags.latency,
          jitterMs: flags.jitter,
          status: flags.status,
          bodySize: flags.bodySize,
          failRate: flags.failRate,
          failMode: flags.failMode,
          maxPacketSize: flags.maxPacketSize,
          ...(secret === undefined ? {} : { secret }),
        });
      } catch (e) {
        throw runtimeError(`serve: cannot listen: ${(e as Error).message}`, 'AJPBENCH_ERR_LISTEN');
      }
      for (const l of stub.listeners) {
        const remote = !/^(127\.|::1$|localhost$)/.test(l.host) ? ' (not loopback: reachable from other hosts)' : '';
        process.stderr.write(`serve: listening on ${l.protocol}://${l.address} (route ${l.route})${remote}\n`);
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          process.off('SIGINT', done);
          process.off('SIGTERM', done);
          if (timer !== undefined) clearTimeout(timer);
          resolve();
        };
        const timer = flags.duration === undefined ? undefined : setTimeout(done, flags.duration);
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await stub.close();
      const s = stub.stats;
      process.stderr.write(
        `serve: ${s.connections} connections, ${s.requests} requests, ${s.cpings} CPings, ${s.rejected} rejected (secret), ` +
          `${s.failed} failed on purpose, ${s.protocolErrors} protocol errors, ${s.bodyBytes} request body bytes\n`,
      );
      ctx.exitCode = ExitCode.Ok;
    });
}

/**
 * The metrics monitor's flags, shared by `record` and `import -`: --metrics, --uri-group, --uri-top
 * (docs/metrics.md), and starting the monitor with its /metrics endpoint.
 */
import type { Command } from 'commander';
import {
  AjpMetrics,
  DEFAULT_URI_TOP,
  MAX_URI_TOP,
  MetricsServer,
  parseUriGroupRule,
  TapListenError,
  type UriGroupRule,
} from '../capture/index.js';
import { parseHostPort, type HostPort } from '../host-port.js';
import { runtimeError } from './exit-codes.js';
import { asFlagParser, parseInteger } from './options.js';

export interface MetricsFlags {
  metrics?: HostPort;
  uriGroup?: UriGroupRule[];
  uriTop?: number;
}

export function addMetricsOptions(cmd: Command): Command {
  return cmd
    .option(
      '--metrics <host:port>',
      'serve Prometheus metrics at http://host:port/metrics while running (a bare port listens on 127.0.0.1; docs/metrics.md)',
      (v) => parseHostPort(v, '--metrics', { allowZeroPort: true }),
    )
    .option(
      '--uri-group <name=pattern>',
      'with --metrics: the uri label NAME for paths matching a glob (/static/**) or ~regex; repeatable, first match wins',
      (v: string, prev: UriGroupRule[] | undefined) => [...(prev ?? []), asFlagParser(parseUriGroupRule)(v)],
    )
    .option(
      '--uri-top <n>',
      `with --metrics: URI patterns given a uri label of their own beyond the --uri-group rules, 0 to ${MAX_URI_TOP} (default ${DEFAULT_URI_TOP}); the rest are "other"`,
      (v) => parseInteger(v, '--uri-top', { max: MAX_URI_TOP }),
    );
}

/** The flags that only mean something with --metrics, given without it. */
export function metricsFlagWithout(flags: MetricsFlags): string | undefined {
  if (flags.metrics !== undefined) return undefined;
  if (flags.uriGroup !== undefined) return '--uri-group';
  if (flags.uriTop !== undefined) return '--uri-top';
  return undefined;
}

export interface RunningMetrics {
  metrics: AjpMetrics;
  server: MetricsServer;
}

/** The monitor and its endpoint, listening; a --metrics address that cannot be bound is AJPBENCH_ERR_LISTEN (exit 3). */
export async function startMetrics(flags: MetricsFlags): Promise<RunningMetrics | undefined> {
  if (flags.metrics === undefined) return undefined;
  const metrics = new AjpMetrics({
    uriGroups: {
      ...(flags.uriGroup === undefined ? {} : { rules: flags.uriGroup }),
      ...(flags.uriTop === undefined ? {} : { top: flags.uriTop }),
    },
  });
  try {
    return { metrics, server: await MetricsServer.start(flags.metrics, () => metrics.scrape()) };
  } catch (e) {
    if (e instanceof TapListenError) throw runtimeError(e.message, 'AJPBENCH_ERR_LISTEN');
    throw e;
  }
}

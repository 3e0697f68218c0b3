// `lab up`: two Tomcats, one httpd (mod_jk, mod_proxy_ajp, mod_proxy_http front ends) and one nginx as plain
// processes on loopback, then waits until every port answers and every JSP is compiled, and writes state.json.
// A lab that is already up with the same config is reused; anything left over from an earlier run is stopped first.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PORT_NAMES, portEnvName, resolveConfig, type LabConfig, type LabOverrides } from './config.js';
import { stopAll } from './down.js';
import { startHttpd, startNginx } from './frontend-run.js';
import { labLayout, TOMCATS, type LabLayout, type TomcatName } from './layout.js';
import { withLock } from './lock.js';
import { tail } from './log-tail.js';
import { labMissing } from './packages.js';
import { httpGet, portAnswers, portFree } from './probes.js';
import { isAlive, sleep } from './processes.js';
import { FRONT_ENDS, initialState, readState, writeState, type LabState } from './state.js';
import { labStatus } from './status.js';
import { prepareTomcatBase } from './tomcat-base.js';
import { startTomcat } from './tomcat-run.js';

export interface LabUpOptions extends LabOverrides {
  /** Progress lines; silent by default (the CLI passes console.log). */
  log?: (line: string) => void;
  /** Reuse a lab that is already up with the same config (default true); false always restarts. */
  reuse?: boolean;
}

/** One request per JSP and Tomcat, so Jasper compiles everything before the first real test request. */
const WARM_PATHS = [
  'echo.jsp',
  'release.jsp',
  'large.jsp?size=1',
  'slow.jsp?ms=0',
  'session.jsp?invalidate=1',
  'status.jsp?code=200',
];

class StartError extends Error {}

function sameConfig(a: LabConfig, b: LabConfig): boolean {
  return (
    JSON.stringify({ ...a, keepOnFailure: false, startTimeoutMs: 0 }) ===
    JSON.stringify({ ...b, keepOnFailure: false, startTimeoutMs: 0 })
  );
}

async function checkPortsFree(config: LabConfig): Promise<void> {
  const busy: string[] = [];
  for (const name of PORT_NAMES) {
    const port = config.ports[name];
    if (!(await portFree(port))) busy.push(`127.0.0.1:${port} (ports.${name}; move it with ${portEnvName(name)}=...)`);
  }
  if (busy.length > 0) {
    throw new StartError(
      `lab: ports already in use by something else:\n  ${busy.join('\n  ')}\n` +
        'Or shift every port with AJPBENCH_LAB_PORT_OFFSET=<n>.',
    );
  }
}

/** Fresh config and log directories; Tomcat work/ dirs (compiled JSPs) are kept by prepareTomcatBase. */
function prepareRunDir(config: LabConfig, layout: LabLayout): void {
  mkdirSync(config.runDir, { recursive: true });
  rmSync(layout.httpd.dir, { recursive: true, force: true });
  rmSync(layout.nginx.dir, { recursive: true, force: true });
  for (const name of TOMCATS) prepareTomcatBase(layout.tomcat[name], name, config);
}

/** Logs worth showing when a Tomcat fails: console output and the dated catalina log. */
function tomcatLogs(layout: LabLayout, name: TomcatName): string[] {
  const t = layout.tomcat[name];
  let dated: string[] = [];
  try {
    dated = readdirSync(t.logsDir)
      .filter((f) => f.startsWith('catalina.') && f.endsWith('.log'))
      .map((f) => join(t.logsDir, f));
  } catch {
    // no logs dir yet
  }
  return [t.outLog, ...dated];
}

interface Waited {
  component: string;
  alive: () => boolean;
  logs: string[];
  ports: number[];
}

/** Polls until every port accepts connections; fails fast, with the log tail, if the owning process dies. */
async function waitForPorts(items: Waited[], deadline: number, log: (line: string) => void): Promise<void> {
  const pending = new Map(items.map((item) => [item, new Set(item.ports)]));
  while (pending.size > 0) {
    for (const [item, ports] of pending) {
      for (const port of ports) if (await portAnswers(port, 500)) ports.delete(port);
      if (ports.size === 0) {
        pending.delete(item);
        log(`lab: ${item.component} answers on ${item.ports.join(', ')}`);
      } else if (!item.alive()) {
        throw new StartError(
          `lab: ${item.component} exited during startup\n${item.logs.map((f) => tail(f)).join('\n')}`,
        );
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      const lines = [...pending].map(([item, ports]) => `${item.component} (ports ${[...ports].join(', ')} silent)`);
      const logs = [...pending.keys()].flatMap((item) => item.logs.map((f) => tail(f)));
      throw new StartError(`lab: timed out waiting for ${lines.join('; ')}\n${logs.join('\n')}`);
    }
    await sleep(250);
  }
}

/** GET until 200 (a Tomcat still deploying, or a JSP still compiling, can answer 404/503 or time out). */
async function getUntilOk(port: number, path: string, deadline: number, what: string, logs: string[]): Promise<void> {
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await httpGet(port, path, Math.max(1000, deadline - Date.now()));
      if (res.status === 200 && typeof res.headers['x-served-by'] === 'string') return;
      last = `status ${res.status}, X-Served-By ${String(res.headers['x-served-by'])}: ${res.body.slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(300);
  }
  throw new StartError(
    `lab: ${what} GET ${path} never answered 200 (last: ${last})\n${logs.map((f) => tail(f)).join('\n')}`,
  );
}

async function start(config: LabConfig, log: (line: string) => void): Promise<LabState> {
  const started = Date.now();
  const deadline = started + config.startTimeoutMs;
  const layout = labLayout(config.runDir);
  await checkPortsFree(config);
  prepareRunDir(config, layout);
  const state = initialState(config);
  writeState(state);

  // Tomcats first: the JVMs are the slow part, and httpd/nginx start in the time they take.
  for (const name of TOMCATS) {
    state.tomcats[name].pid = startTomcat(layout.tomcat[name], name, config);
    log(`lab: started ${name} (pid ${state.tomcats[name].pid}, CATALINA_BASE ${layout.tomcat[name].base})`);
  }
  writeState(state);
  state.httpd.pid = await startHttpd(config, layout);
  writeState(state);
  log(`lab: started httpd (pid ${state.httpd.pid}, ${layout.httpd.conf})`);
  state.nginx.pid = await startNginx(config, layout);
  writeState(state);
  log(`lab: started nginx (pid ${state.nginx.pid}, ${layout.nginx.conf})`);

  // Plain liveness: a Tomcat pid is /bin/sh (catalina.sh) for a moment before it execs java and gains its marker.
  const alive = (pid: number | null) => (): boolean => pid !== null && isAlive(pid);
  const p = config.ports;
  await waitForPorts(
    [
      ...TOMCATS.map((name): Waited => {
        const t = state.tomcats[name];
        return {
          component: name,
          alive: alive(t.pid),
          logs: tomcatLogs(layout, name),
          // tomcat1's insecure AJP connector too (the audit e2e), so that a ready lab has every port open.
          ports: [
            t.ajpPort,
            t.ajpSecretPort,
            t.httpPort,
            ...(name === 'tomcat1' ? [p.tomcat1AjpInsecure] : [p.tomcat2AjpVariant]),
          ],
        };
      }),
      {
        component: 'httpd',
        alive: alive(state.httpd.pid),
        logs: [layout.httpd.errorLog],
        ports: [p.httpdJk, p.httpdProxyAjp, p.httpdProxyHttp, p.httpdJkSecret, p.httpdProxyAjpSecret],
      },
      { component: 'nginx', alive: alive(state.nginx.pid), logs: [layout.nginx.errorLog], ports: [p.nginx] },
    ],
    deadline,
    log,
  );

  // Compile every JSP on both Tomcats in parallel (one Tomcat's requests in sequence: Jasper compiles serially).
  await Promise.all(
    TOMCATS.map(async (name) => {
      for (const path of WARM_PATHS) {
        await getUntilOk(
          state.tomcats[name].httpPort,
          `${state.contextPath}/${path}`,
          deadline,
          name,
          tomcatLogs(layout, name),
        );
      }
    }),
  );
  log(`lab: JSPs compiled on both Tomcats`);
  for (const name of FRONT_ENDS) {
    const fe = state.frontends[name];
    const logs = fe.name === 'nginx' ? [layout.nginx.errorLog] : [layout.httpd.errorLog, layout.httpd.jkLog];
    await getUntilOk(fe.port, state.paths.echo, deadline, `front end ${name} (${fe.header}, port ${fe.port})`, logs);
  }
  log(`lab: all ${FRONT_ENDS.length} front ends answer ${state.paths.echo}`);

  state.ready = true;
  state.upMs = Date.now() - started;
  writeState(state);
  return state;
}

/** Brings the lab up (or reuses a running one with the same config) and returns its state. */
export async function labUp(opts: LabUpOptions = {}): Promise<LabState> {
  const { log: logOpt, reuse: reuseOpt, ...overrides } = opts;
  const log = logOpt ?? ((): void => undefined);
  const config = resolveConfig(overrides);
  const missing = labMissing({ includeCapture: false });
  if (missing.length > 0) {
    throw new Error(`lab: missing Debian packages: ${missing.join(' ')}; install them with: npm run lab -- install`);
  }
  const layout = labLayout(config.runDir);
  mkdirSync(config.runDir, { recursive: true });
  return withLock(layout.lockFile, config.startTimeoutMs + 120_000, async () => {
    const previous = readState(config.runDir);
    if ((reuseOpt ?? true) && previous?.ready && sameConfig(previous.config, config)) {
      const status = await labStatus({ runDir: config.runDir });
      if (status.up) {
        log(`lab: already up (${config.runDir}), reusing it`);
        return previous;
      }
      log('lab: previous lab is only partly running; restarting it');
    }
    await stopAll(config.runDir, log);
    try {
      const state = await start(config, log);
      log(`lab: up in ${((state.upMs ?? 0) / 1000).toFixed(1)} s`);
      return state;
    } catch (err) {
      if (config.keepOnFailure) {
        log(`lab: up failed; processes left running for inspection (stop them with: npm run lab -- down)`);
      } else {
        await stopAll(config.runDir, log);
      }
      throw err;
    }
  });
}

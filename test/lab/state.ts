// LabState: what a running lab looks like to its users (ports, URLs, pids, file paths), persisted as
// <runDir>/state.json so tests in other processes, and `down`/`status`, can find it.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CONTEXT_PATH, type LabConfig, type LabPorts } from './config.js';
import { labLayout, type LabLayout, type TomcatName } from './layout.js';
import { LOOPBACK } from './probes.js';
import { tomcatPorts } from './tomcat-base.js';
import { tomcatMarker } from './tomcat-run.js';

export type FrontEndName = 'jk' | 'proxyAjp' | 'proxyHttp' | 'jkSecret' | 'proxyAjpSecret' | 'nginx';
export const FRONT_ENDS: readonly FrontEndName[] = [
  'jk',
  'proxyAjp',
  'proxyHttp',
  'jkSecret',
  'proxyAjpSecret',
  'nginx',
];

export interface FrontEnd {
  name: FrontEndName;
  port: number;
  /** e.g. http://127.0.0.1:28180 ; append LabState.paths.echo etc. */
  baseUrl: string;
  module: 'mod_jk' | 'mod_proxy_ajp' | 'mod_proxy_http' | 'nginx';
  /** Which Tomcat connectors it balances over. */
  backend: 'ajp' | 'ajp-secret' | 'http';
  /** Value of the X-Lab-Frontend response header it adds. */
  header: string;
}

export interface TomcatState {
  route: TomcatName;
  ajpPort: number;
  ajpSecretPort: number;
  httpPort: number;
  /** Direct HTTP connector, bypassing every front end. */
  baseUrl: string;
  pid: number | null;
  catalinaBase: string;
  pidFile: string;
  /** catalina.sh run output (Tomcat's console log); catalina.<date>.log and access.log sit beside it. */
  log: string;
  /** Substring of the JVM command line identifying this instance. */
  marker: string;
}

export interface DaemonState {
  pid: number | null;
  conf: string;
  pidFile: string;
  errorLog: string;
  accessLog: string;
  marker: string;
}

export interface LabState {
  version: 1;
  /** false while `up` is still starting things (or it failed); tests should only use a ready lab. */
  ready: boolean;
  runDir: string;
  startedAt: string;
  /** Wall time `up` took, once ready. */
  upMs: number | null;
  config: LabConfig;
  ports: LabPorts;
  secret: string;
  /** Webapp context path, the same on every front end and Tomcat. */
  contextPath: string;
  /** Webapp URL paths; prefix with a FrontEnd.baseUrl or TomcatState.baseUrl. */
  paths: { echo: string; large: string; slow: string; session: string; status: string; release: string };
  frontends: Record<FrontEndName, FrontEnd>;
  tomcats: Record<TomcatName, TomcatState>;
  /** mod_jk status worker (on the jk front end). */
  jkStatusUrl: string;
  /** jkShm is the JkShmFile prefix; the real file is <jkShm>.<httpd pid>. */
  httpd: DaemonState & { workersProperties: string; jkLog: string; jkShm: string };
  nginx: DaemonState;
}

function base(port: number): string {
  return `http://${LOOPBACK}:${port}`;
}

export function frontEnds(ports: LabPorts): Record<FrontEndName, FrontEnd> {
  const fe = (
    name: FrontEndName,
    port: number,
    module: FrontEnd['module'],
    backend: FrontEnd['backend'],
    header: string,
  ): FrontEnd => ({
    name,
    port,
    baseUrl: base(port),
    module,
    backend,
    header,
  });
  return {
    jk: fe('jk', ports.httpdJk, 'mod_jk', 'ajp', 'mod_jk'),
    proxyAjp: fe('proxyAjp', ports.httpdProxyAjp, 'mod_proxy_ajp', 'ajp', 'mod_proxy_ajp'),
    proxyHttp: fe('proxyHttp', ports.httpdProxyHttp, 'mod_proxy_http', 'http', 'mod_proxy_http'),
    jkSecret: fe('jkSecret', ports.httpdJkSecret, 'mod_jk', 'ajp-secret', 'mod_jk+secret'),
    proxyAjpSecret: fe(
      'proxyAjpSecret',
      ports.httpdProxyAjpSecret,
      'mod_proxy_ajp',
      'ajp-secret',
      'mod_proxy_ajp+secret',
    ),
    nginx: fe('nginx', ports.nginx, 'nginx', 'http', 'nginx'),
  };
}

export function httpdMarker(layout: LabLayout): string {
  return layout.httpd.conf;
}

export function nginxMarker(layout: LabLayout): string {
  return layout.nginx.conf;
}

/** The state of a lab that is being started: everything but pids and readiness. */
export function initialState(config: LabConfig): LabState {
  const layout = labLayout(config.runDir);
  const tomcat = (route: TomcatName): TomcatState => {
    const ports = tomcatPorts(config, route);
    const t = layout.tomcat[route];
    return {
      route,
      ajpPort: ports.ajp,
      ajpSecretPort: ports.ajpSecret,
      httpPort: ports.http,
      baseUrl: base(ports.http),
      pid: null,
      catalinaBase: t.base,
      pidFile: t.pidFile,
      log: t.outLog,
      marker: tomcatMarker(t),
    };
  };
  const app = CONTEXT_PATH;
  return {
    version: 1,
    ready: false,
    runDir: config.runDir,
    startedAt: new Date().toISOString(),
    upMs: null,
    config,
    ports: config.ports,
    secret: config.secret,
    contextPath: app,
    paths: {
      echo: `${app}/echo.jsp`,
      large: `${app}/large.jsp`,
      slow: `${app}/slow.jsp`,
      session: `${app}/session.jsp`,
      status: `${app}/status.jsp`,
      release: `${app}/release.jsp`,
    },
    frontends: frontEnds(config.ports),
    tomcats: { tomcat1: tomcat('tomcat1'), tomcat2: tomcat('tomcat2') },
    jkStatusUrl: `${base(config.ports.httpdJk)}/jkstatus`,
    httpd: {
      pid: null,
      conf: layout.httpd.conf,
      pidFile: layout.httpd.pidFile,
      errorLog: layout.httpd.errorLog,
      accessLog: layout.httpd.accessLog,
      marker: httpdMarker(layout),
      workersProperties: layout.httpd.workersProperties,
      jkLog: layout.httpd.jkLog,
      jkShm: layout.httpd.jkShm,
    },
    nginx: {
      pid: null,
      conf: layout.nginx.conf,
      pidFile: layout.nginx.pidFile,
      errorLog: layout.nginx.errorLog,
      accessLog: layout.nginx.accessLog,
      marker: nginxMarker(layout),
    },
  };
}

/** Atomic write (temp file + rename): a test reading state.json never sees half a file. */
export function writeState(state: LabState): void {
  const file = labLayout(state.runDir).stateFile;
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** state.json of the lab in runDir, or undefined if there is none (never started, or `down` removed it). */
export function readState(runDir: string): LabState | undefined {
  const file = labLayout(runDir).stateFile;
  if (!existsSync(file)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || (parsed as { version?: unknown }).version !== 1) {
    throw new Error(`lab: ${file} is not a lab state file (version 1)`);
  }
  return parsed as LabState;
}

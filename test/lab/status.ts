// `lab status`: for each component its pid (from the pid file, verified against /proc), its ports, whether each
// port answers (TCP connect for AJP, GET /app/echo.jsp for HTTP), and resident memory of its process tree.
import { CONTEXT_PATH, resolveConfig, type LabConfig } from './config.js';
import { labLayout, type LabLayout } from './layout.js';
import { httpGet, portAnswers } from './probes.js';
import { isOurs, readPidFile, treeRssKiB } from './processes.js';
import { httpdMarker, nginxMarker, readState } from './state.js';
import { tomcatMarker } from './tomcat-run.js';

export interface PortStatus {
  name: string;
  port: number;
  kind: 'ajp' | 'http';
  answers: boolean;
}

export interface ComponentStatus {
  name: 'tomcat1' | 'tomcat2' | 'httpd' | 'nginx';
  pid: number | null;
  running: boolean;
  ports: PortStatus[];
  /** Resident memory of the process and its children (httpd/nginx workers), KiB. */
  rssKiB: number;
  ok: boolean;
}

export interface LabStatus {
  runDir: string;
  /** state.json says `up` finished. */
  ready: boolean;
  /** Every component running and every port answering. */
  up: boolean;
  components: ComponentStatus[];
  totalRssKiB: number;
}

async function answers(kind: 'ajp' | 'http', port: number): Promise<boolean> {
  if (kind === 'ajp') return portAnswers(port, 2000);
  try {
    const res = await httpGet(port, `${CONTEXT_PATH}/echo.jsp`, 10_000);
    return res.status === 200;
  } catch {
    return false;
  }
}

async function component(
  name: ComponentStatus['name'],
  pidFile: string,
  marker: string,
  ports: Array<[string, number, 'ajp' | 'http']>,
): Promise<ComponentStatus> {
  const filePid = readPidFile(pidFile);
  const running = filePid !== undefined && isOurs(filePid, marker);
  const portStatus = await Promise.all(
    ports.map(async ([portName, port, kind]): Promise<PortStatus> => ({
      name: portName,
      port,
      kind,
      answers: await answers(kind, port),
    })),
  );
  return {
    name,
    pid: filePid ?? null,
    running,
    ports: portStatus,
    rssKiB: running && filePid !== undefined ? treeRssKiB(filePid) : 0,
    ok: running && portStatus.every((p) => p.answers),
  };
}

function components(config: LabConfig, layout: LabLayout): Array<Promise<ComponentStatus>> {
  const p = config.ports;
  return [
    component('tomcat1', layout.tomcat.tomcat1.pidFile, tomcatMarker(layout.tomcat.tomcat1), [
      ['tomcat1Ajp', p.tomcat1Ajp, 'ajp'],
      ['tomcat1AjpSecret', p.tomcat1AjpSecret, 'ajp'],
      ['tomcat1Http', p.tomcat1Http, 'http'],
      // A lab started before this port existed has none in its state.json.
      ...(p.tomcat1AjpInsecure === undefined
        ? []
        : [['tomcat1AjpInsecure', p.tomcat1AjpInsecure, 'ajp'] as [string, number, 'ajp']]),
    ]),
    component('tomcat2', layout.tomcat.tomcat2.pidFile, tomcatMarker(layout.tomcat.tomcat2), [
      ['tomcat2Ajp', p.tomcat2Ajp, 'ajp'],
      ['tomcat2AjpSecret', p.tomcat2AjpSecret, 'ajp'],
      ['tomcat2Http', p.tomcat2Http, 'http'],
      // A lab started before this port existed has none in its state.json.
      ...(p.tomcat2AjpVariant === undefined
        ? []
        : [['tomcat2AjpVariant', p.tomcat2AjpVariant, 'ajp'] as [string, number, 'ajp']]),
    ]),
    component('httpd', layout.httpd.pidFile, httpdMarker(layout), [
      ['httpdJk', p.httpdJk, 'http'],
      ['httpdProxyAjp', p.httpdProxyAjp, 'http'],
      ['httpdProxyHttp', p.httpdProxyHttp, 'http'],
      ['httpdJkSecret', p.httpdJkSecret, 'http'],
      ['httpdProxyAjpSecret', p.httpdProxyAjpSecret, 'http'],
    ]),
    component('nginx', layout.nginx.pidFile, nginxMarker(layout), [['nginx', p.nginx, 'http']]),
  ];
}

export async function labStatus(opts: { runDir?: string } = {}): Promise<LabStatus> {
  const runDir = opts.runDir ?? resolveConfig().runDir;
  const state = readState(runDir);
  // The ports of the running lab are those in its state.json, which may differ from today's env/config.
  const config = state?.config ?? resolveConfig({ runDir });
  const all = await Promise.all(components(config, labLayout(runDir)));
  return {
    runDir,
    ready: state?.ready ?? false,
    up: all.every((c) => c.ok),
    components: all,
    totalRssKiB: all.reduce((sum, c) => sum + c.rssKiB, 0),
  };
}

export function formatStatus(status: LabStatus): string {
  const lines = [`lab: run dir ${status.runDir}`];
  for (const c of status.components) {
    const pid = c.pid === null ? 'no pid file' : c.running ? `pid ${c.pid}` : `pid ${c.pid} (not running)`;
    const mem = c.running ? `, ${(c.rssKiB / 1024).toFixed(0)} MiB RSS` : '';
    lines.push(`  ${c.ok ? 'UP  ' : 'DOWN'} ${c.name.padEnd(8)} ${pid}${mem}`);
    for (const p of c.ports) {
      lines.push(`         ${p.answers ? 'answers' : 'silent '}  ${p.kind.padEnd(4)} 127.0.0.1:${p.port}  (${p.name})`);
    }
  }
  lines.push(
    status.up
      ? `lab: all up${status.ready ? '' : ' (but state.json is not marked ready)'}, ${(status.totalRssKiB / 1024).toFixed(0)} MiB RSS in total`
      : 'lab: not (fully) up',
  );
  return lines.join('\n');
}

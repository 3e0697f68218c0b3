// `lab down`: stops exactly what `up` started in this run directory. Works from the pid files (not state.json),
// checks each pid's command line before signalling it, and finishes with a sweep for lab daemons whose pid file was
// lost. Idempotent: with nothing running it does nothing. System services are never touched.
import { existsSync, realpathSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { resolveConfig } from './config.js';
import { labLayout, TOMCATS, type LabLayout } from './layout.js';
import { withLock } from './lock.js';
import { APACHE2, NGINX } from './packages.js';
import { cmdline, findStrays, isAlive, readPidFile, sleep, stopProcess } from './processes.js';
import { httpdMarker, nginxMarker } from './state.js';
import { tomcatMarker } from './tomcat-run.js';

export interface StopReport {
  component: string;
  pid: number;
  result: 'not-running' | 'terminated' | 'killed';
}

export interface LabDownOptions {
  /** Defaults to the configured run dir (AJPBENCH_LAB_DIR or test/lab/.run). */
  runDir?: string;
  log?: (line: string) => void;
}

/** Executables the lab starts; the stray sweep only considers processes running one of them. */
function labExecutables(): string[] {
  const exes = new Set<string>(['/usr/lib/jvm/']);
  for (const file of [APACHE2, NGINX]) if (existsSync(file)) exes.add(realpathSync(file));
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const java = join(dir, 'java');
    if (existsSync(java)) exes.add(realpathSync(java));
  }
  return [...exes];
}

async function stopTomcat(layout: LabLayout, name: 'tomcat1' | 'tomcat2'): Promise<StopReport | undefined> {
  const t = layout.tomcat[name];
  const pid = readPidFile(t.pidFile);
  if (pid === undefined) return undefined;
  // Right after spawn the pid is still /bin/sh running catalina.sh, which execs java within moments; wait for it
  // rather than leave a JVM behind.
  for (let i = 0; i < 50 && isAlive(pid) && cmdline(pid).includes('catalina.sh'); i++) await sleep(100);
  // SIGTERM runs Tomcat's shutdown hook (connectors closed, sessions expired); it takes a second or two.
  const result = await stopProcess(pid, tomcatMarker(t), 30_000);
  rmSync(t.pidFile, { force: true });
  return { component: name, pid, result };
}

async function stopDaemon(component: string, pidFile: string, marker: string): Promise<StopReport | undefined> {
  const pid = readPidFile(pidFile);
  if (pid === undefined) return undefined;
  // httpd: SIGTERM = stop now, children included. nginx: SIGTERM = fast shutdown.
  const result = await stopProcess(pid, marker, 15_000);
  rmSync(pidFile, { force: true });
  return { component, pid, result };
}

/** Unlocked implementation, also used by `up` to clear a previous or failed run before starting. */
export async function stopAll(runDir: string, log: (line: string) => void): Promise<StopReport[]> {
  const layout = labLayout(runDir);
  const reports: StopReport[] = [];
  const add = (report: StopReport | undefined): void => {
    if (report === undefined) return;
    reports.push(report);
    if (report.result !== 'not-running') log(`lab: stopped ${report.component} (pid ${report.pid}, ${report.result})`);
  };
  // Front ends first, so nothing is mid-request to a Tomcat that is going away.
  add(await stopDaemon('nginx', layout.nginx.pidFile, nginxMarker(layout)));
  add(await stopDaemon('httpd', layout.httpd.pidFile, httpdMarker(layout)));
  for (const report of await Promise.all(TOMCATS.map((name) => stopTomcat(layout, name)))) add(report);

  // Every lab daemon has a run-dir path on its command line (conf file or catalina.base).
  const marker = runDir.endsWith('/') ? runDir : `${runDir}/`;
  for (const pid of findStrays(marker, labExecutables())) {
    add({ component: `stray ${cmdline(pid).slice(0, 80)}`, pid, result: await stopProcess(pid, marker, 15_000) });
  }
  rmSync(layout.stateFile, { force: true });
  return reports;
}

export async function labDown(opts: LabDownOptions = {}): Promise<StopReport[]> {
  const runDir = opts.runDir ?? resolveConfig().runDir;
  const log = opts.log ?? ((): void => undefined);
  const layout = labLayout(runDir);
  if (!existsSync(runDir)) return [];
  return withLock(layout.lockFile, 120_000, () => stopAll(runDir, log));
}

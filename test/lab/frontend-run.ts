// Starts the two front-end daemons from their generated configs: httpd (`apache2 -f <conf> -k start`) and nginx
// (`nginx -c <conf> -p <dir>`). Both daemonize themselves and write their own pid files in the run dir; the config
// is syntax-checked first so a mistake is reported with the daemon's own message.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import type { LabConfig } from './config.js';
import { httpdConf, workersProperties } from './httpd-conf.js';
import type { LabLayout } from './layout.js';
import { nginxConf } from './nginx-conf.js';
import { APACHE2, NGINX } from './packages.js';
import { readPidFile, runQuiet, sleep } from './processes.js';

/** A clean environment: the daemons must not pick up APACHE_* or similar from the caller's shell. */
function daemonEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
}

async function waitForPidFile(file: string, what: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = readPidFile(file);
    if (pid !== undefined) return pid;
    if (Date.now() > deadline) throw new Error(`lab: ${what} started but wrote no pid file ${file}`);
    await sleep(50);
  }
}

export async function startHttpd(config: LabConfig, layout: LabLayout): Promise<number> {
  const h = layout.httpd;
  for (const dir of [h.dir, h.runtimeDir, h.docRoot, h.logsDir]) mkdirSync(dir, { recursive: true });
  writeFileSync(h.workersProperties, workersProperties(config));
  writeFileSync(h.conf, httpdConf(config, layout));
  const args = ['-f', h.conf];
  const check = runQuiet(APACHE2, [...args, '-t'], daemonEnv());
  if (check.status !== 0) throw new Error(`lab: httpd config check failed (${h.conf}):\n${check.output.trim()}`);
  const start = runQuiet(APACHE2, [...args, '-k', 'start'], daemonEnv());
  appendFileSync(h.startLog, start.output);
  if (start.status !== 0)
    throw new Error(`lab: apache2 -k start failed with status ${start.status}:\n${start.output.trim()}`);
  return waitForPidFile(h.pidFile, 'httpd');
}

export async function startNginx(config: LabConfig, layout: LabLayout): Promise<number> {
  const n = layout.nginx;
  for (const dir of [n.dir, n.tempDir, n.logsDir]) mkdirSync(dir, { recursive: true });
  writeFileSync(n.conf, nginxConf(config, layout));
  // -e: nginx opens its compiled-in error log (/var/log/nginx/error.log) before reading the config otherwise.
  const args = ['-c', n.conf, '-p', n.dir, '-e', n.errorLog];
  const check = runQuiet(NGINX, [...args, '-t'], daemonEnv());
  if (check.status !== 0) throw new Error(`lab: nginx config check failed (${n.conf}):\n${check.output.trim()}`);
  const start = runQuiet(NGINX, args, daemonEnv());
  appendFileSync(n.startLog, start.output);
  if (start.status !== 0)
    throw new Error(`lab: nginx failed to start with status ${start.status}:\n${start.output.trim()}`);
  return waitForPidFile(n.pidFile, 'nginx');
}

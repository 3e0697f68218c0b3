// Starts one Tomcat as a plain background process: `catalina.sh run` (it execs java, so the spawned pid is the
// JVM's pid) with its own CATALINA_BASE. Not the tomcat10 system service, and not `catalina.sh start`, whose
// nohup/pid-file handling we do not need.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabConfig } from './config.js';
import type { TomcatLayout, TomcatName } from './layout.js';
import { CATALINA_HOME } from './packages.js';
import { spawnDetached } from './processes.js';

/** Marker proving a pid is this Tomcat: catalina.sh puts -Dcatalina.base=<base> on the java command line. */
export function tomcatMarker(layout: TomcatLayout): string {
  return `-Dcatalina.base=${layout.base}`;
}

export function startTomcat(layout: TomcatLayout, route: TomcatName, config: LabConfig): number {
  const catalinaOpts = [
    `-Xms64m`,
    `-Xmx${config.tomcatHeap}`,
    // Serial GC: two JVMs share two cores; fewer GC threads and a smaller footprint beat pause times here.
    '-XX:+UseSerialGC',
    // Never block startup (session id generator) on a starved entropy pool.
    '-Djava.security.egd=file:/dev/./urandom',
    // Read by the webapp for X-Served-By; equals the Engine jvmRoute.
    `-Dlab.route=${route}`,
    // A connector that cannot bind (port taken) makes the JVM exit instead of running half-started.
    '-Dorg.apache.catalina.startup.EXIT_ON_INIT_FAILURE=true',
  ].join(' ');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    HOME: process.env.HOME ?? '/root',
    CATALINA_HOME,
    CATALINA_BASE: layout.base,
    CATALINA_TMPDIR: join(layout.base, 'temp'),
    CATALINA_OPTS: catalinaOpts,
    JAVA_OPTS: '-Djava.awt.headless=true',
  };
  if (process.env.JAVA_HOME) env.JAVA_HOME = process.env.JAVA_HOME;
  const pid = spawnDetached({
    command: join(CATALINA_HOME, 'bin', 'catalina.sh'),
    args: ['run'],
    env,
    cwd: layout.base,
    logFile: layout.outLog,
  });
  writeFileSync(layout.pidFile, `${pid}\n`);
  return pid;
}

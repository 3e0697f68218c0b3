// Where everything lives inside the run directory. Derived from runDir alone, so `down` can find the pid files of a
// failed or interrupted `up` even when state.json was never written.
import { join } from 'node:path';

export type TomcatName = 'tomcat1' | 'tomcat2';
export const TOMCATS: readonly TomcatName[] = ['tomcat1', 'tomcat2'];

export interface TomcatLayout {
  /** CATALINA_BASE; its path appears in the JVM's -Dcatalina.base, which marks the process as ours. */
  base: string;
  serverXml: string;
  webappDir: string;
  pidFile: string;
  /** stdout/stderr of catalina.sh run (Tomcat's console log). */
  outLog: string;
  logsDir: string;
}

export interface LabLayout {
  runDir: string;
  stateFile: string;
  lockFile: string;
  tomcat: Record<TomcatName, TomcatLayout>;
  httpd: {
    dir: string;
    conf: string;
    workersProperties: string;
    pidFile: string;
    runtimeDir: string;
    docRoot: string;
    logsDir: string;
    errorLog: string;
    accessLog: string;
    jkLog: string;
    /** JkShmFile prefix: mod_jk creates <jkShm>.<httpd pid> and a .lock beside it. */
    jkShm: string;
    /** Output of `apache2 -k start` itself (config errors land here before ErrorLog is open). */
    startLog: string;
  };
  nginx: {
    dir: string;
    conf: string;
    pidFile: string;
    tempDir: string;
    logsDir: string;
    errorLog: string;
    accessLog: string;
    startLog: string;
  };
}

function tomcatLayout(runDir: string, name: TomcatName): TomcatLayout {
  const base = join(runDir, name);
  return {
    base,
    serverXml: join(base, 'conf', 'server.xml'),
    webappDir: join(base, 'webapps', 'app'),
    pidFile: join(base, 'tomcat.pid'),
    outLog: join(base, 'logs', 'catalina.out'),
    logsDir: join(base, 'logs'),
  };
}

export function labLayout(runDir: string): LabLayout {
  const httpd = join(runDir, 'httpd');
  const nginx = join(runDir, 'nginx');
  return {
    runDir,
    stateFile: join(runDir, 'state.json'),
    lockFile: join(runDir, 'lab.lock'),
    tomcat: { tomcat1: tomcatLayout(runDir, 'tomcat1'), tomcat2: tomcatLayout(runDir, 'tomcat2') },
    httpd: {
      dir: httpd,
      conf: join(httpd, 'httpd.conf'),
      workersProperties: join(httpd, 'workers.properties'),
      pidFile: join(httpd, 'httpd.pid'),
      runtimeDir: join(httpd, 'runtime'),
      docRoot: join(httpd, 'htdocs'),
      logsDir: join(httpd, 'logs'),
      errorLog: join(httpd, 'logs', 'error.log'),
      accessLog: join(httpd, 'logs', 'access.log'),
      jkLog: join(httpd, 'logs', 'mod_jk.log'),
      jkShm: join(httpd, 'runtime', 'jk.shm'),
      startLog: join(httpd, 'logs', 'start.log'),
    },
    nginx: {
      dir: nginx,
      conf: join(nginx, 'nginx.conf'),
      pidFile: join(nginx, 'nginx.pid'),
      tempDir: join(nginx, 'tmp'),
      logsDir: join(nginx, 'logs'),
      errorLog: join(nginx, 'logs', 'error.log'),
      accessLog: join(nginx, 'logs', 'access.log'),
      startLog: join(nginx, 'logs', 'start.log'),
    },
  };
}

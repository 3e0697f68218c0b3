/**
 * A private httpd (mod_jk, mod_proxy_balancer) and nginx in front of backends at given ports,
 * from generated configs in a temp dir, with the lab's process helpers. For the verdict tests:
 * stub containers (src/load/stub-container.ts) as workers with chosen weights, which the shared
 * lab (two Tomcats at fixed weights) cannot offer. Everything listens on 127.0.0.1 and is stopped
 * by pid (checked against the config path in its command line) in stop().
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { APACHE2, APACHE_MODULES, NGINX } from '../../lab/packages.js';
import { portAnswers } from '../../lab/probes.js';
import { readPidFile, runQuiet, sleep, stopProcess } from '../../lab/processes.js';

export interface Backend {
  route: string;
  ajpPort: number;
  httpPort: number;
}

export interface JkVhost {
  kind: 'jk';
  name: string;
  /** lbfactor per backend, in backend order. */
  weights: number[];
  /** Also serve mod_jk's status worker (read_only=false) at /jkstatus. */
  status?: boolean;
}

export interface ProxyVhost {
  kind: 'proxy-ajp' | 'proxy-http';
  name: string;
  /** loadfactor per backend. */
  weights: number[];
}

export interface NginxSite {
  kind: 'nginx';
  name: string;
  weights: number[];
}

export type Site = JkVhost | ProxyVhost | NginxSite;

export interface RigOptions {
  dir: string;
  backends: Backend[];
  sites: Site[];
  /** httpd worker threads (ThreadsPerChild = MaxRequestWorkers, one child); default 25. */
  httpdThreads?: number;
  /**
   * httpd KeepAlive (default true). Off for a narrow httpd: with every worker busy, the event MPM
   * closes idle keep-alive connections (AH03269), which clients see as errors; without keep-alive
   * the waiting connections queue in the listen backlog instead.
   */
  keepAlive?: boolean;
}

export interface Rig {
  /** name -> http://127.0.0.1:port */
  urls: Record<string, string>;
  stop(): Promise<void>;
}

const MODULES: ReadonlyArray<readonly [string, string]> = [
  ['mpm_event_module', 'mod_mpm_event.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['proxy_module', 'mod_proxy.so'],
  ['proxy_ajp_module', 'mod_proxy_ajp.so'],
  ['proxy_http_module', 'mod_proxy_http.so'],
  ['proxy_balancer_module', 'mod_proxy_balancer.so'],
  ['slotmem_shm_module', 'mod_slotmem_shm.so'],
  ['lbmethod_byrequests_module', 'mod_lbmethod_byrequests.so'],
  ['jk_module', 'mod_jk.so'],
];

/**
 * A free loopback port for a server started later (bound and released). Taken from 21000-27999:
 * below the kernel's ephemeral range (32768+), where a client connection made in between could
 * otherwise take it (seen in CI: nginx failed with EADDRINUSE), and below the lab's own 28000+.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 21000 + Math.floor(Math.random() * 7000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port in 21000-27999 after 200 tries');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port }, () => s.close(() => resolve(true)));
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' });

function workers(backends: Backend[], sites: JkVhost[]): string {
  const lines = ['worker.list=' + [...sites.map((s) => `lb_${s.name}`), 'jkstatus'].join(',')];
  for (const s of sites) {
    const members: string[] = [];
    backends.forEach((b, i) => {
      // One member per site and backend, named after the route, as the lab does (route = jvmRoute).
      const m = `${s.name}_${b.route}`;
      members.push(m);
      lines.push(
        `worker.${m}.type=ajp13`,
        `worker.${m}.host=127.0.0.1`,
        `worker.${m}.port=${b.ajpPort}`,
        `worker.${m}.route=${b.route}`,
        `worker.${m}.lbfactor=${s.weights[i] ?? 1}`,
      );
    });
    lines.push(
      `worker.lb_${s.name}.type=lb`,
      `worker.lb_${s.name}.balance_workers=${members.join(',')}`,
      `worker.lb_${s.name}.sticky_session=true`,
      // The status worker's counters are compared with the wire: with the default lock=O mod_jk
      // increments them without a lock across httpd processes and loses some (CI saw 499 for 500).
      ...(s.status === true ? [`worker.lb_${s.name}.lock=P`] : []),
    );
  }
  lines.push('worker.jkstatus.type=status', 'worker.jkstatus.read_only=false', '');
  return lines.join('\n');
}

export async function startRig(o: RigOptions): Promise<Rig> {
  const urls: Record<string, string> = {};
  const stops: (() => Promise<void>)[] = [];
  const httpdSites = o.sites.filter((s): s is JkVhost | ProxyVhost => s.kind !== 'nginx');
  const nginxSites = o.sites.filter((s): s is NginxSite => s.kind === 'nginx');
  const ports = new Map<string, number>();
  for (const s of o.sites) ports.set(s.name, await freePort());
  try {
    if (httpdSites.length > 0) {
      const d = join(o.dir, 'httpd');
      for (const sub of ['', 'run', 'logs']) mkdirSync(join(d, sub), { recursive: true });
      const jkSites = httpdSites.filter((s): s is JkVhost => s.kind === 'jk');
      writeFileSync(join(d, 'workers.properties'), workers(o.backends, jkSites));
      const threads = o.httpdThreads ?? 25;
      const conf = [
        `ServerRoot "${d}"`,
        `DefaultRuntimeDir "${join(d, 'run')}"`,
        `PidFile "${join(d, 'httpd.pid')}"`,
        'ServerName 127.0.0.1',
        ...MODULES.map(([id, f]) => `LoadModule ${id} ${APACHE_MODULES}/${f}`),
        ...(asRoot ? ['User www-data', 'Group www-data'] : []),
        'StartServers 1',
        'ServerLimit 1',
        `ThreadsPerChild ${threads}`,
        `MaxRequestWorkers ${threads}`,
        'MinSpareThreads 1',
        `MaxSpareThreads ${threads}`,
        'ThreadLimit 64',
        `KeepAlive ${o.keepAlive === false ? 'Off' : 'On'}`,
        'MaxKeepAliveRequests 0',
        `ErrorLog "${join(d, 'logs', 'error.log')}"`,
        'LogLevel warn',
        '<Location />',
        '  Require all granted',
        '</Location>',
        ...httpdSites.map((s) => `Listen 127.0.0.1:${ports.get(s.name) ?? 0}`),
        `JkWorkersFile "${join(d, 'workers.properties')}"`,
        `JkShmFile "${join(d, 'run', 'jk.shm')}"`,
        `JkLogFile "${join(d, 'logs', 'mod_jk.log')}"`,
        'JkLogLevel error',
        ...httpdSites.map((s) => {
          const port = ports.get(s.name) ?? 0;
          let body: string[];
          if (s.kind === 'jk')
            body = [
              `  JkMount /* lb_${s.name}`,
              ...(s.status === true ? ['  JkMount /jkstatus jkstatus', '  JkMount /jkstatus/* jkstatus'] : []),
            ];
          else {
            const scheme = s.kind === 'proxy-ajp' ? 'ajp' : 'http';
            body = [
              `  <Proxy "balancer://${s.name}">`,
              ...o.backends.map(
                (b, i) =>
                  `    BalancerMember "${scheme}://127.0.0.1:${s.kind === 'proxy-ajp' ? b.ajpPort : b.httpPort}" route=${b.route} loadfactor=${s.weights[i] ?? 1}`,
              ),
              '    ProxySet lbmethod=byrequests stickysession=JSESSIONID|jsessionid',
              '  </Proxy>',
              `  ProxyPass "/" "balancer://${s.name}/"`,
            ];
          }
          return [`<VirtualHost 127.0.0.1:${port}>`, '  ServerName 127.0.0.1', ...body, '</VirtualHost>'].join('\n');
        }),
        '',
      ].join('\n');
      const confFile = join(d, 'httpd.conf');
      writeFileSync(confFile, conf);
      const check = runQuiet(APACHE2, ['-f', confFile, '-t'], env());
      if (check.status !== 0) throw new Error(`rig: httpd config check failed:\n${check.output}`);
      const start = runQuiet(APACHE2, ['-f', confFile, '-k', 'start'], env());
      if (start.status !== 0) throw new Error(`rig: httpd did not start:\n${start.output}`);
      let pid: number | undefined;
      for (let i = 0; i < 100 && pid === undefined; i++) {
        pid = readPidFile(join(d, 'httpd.pid'));
        if (pid === undefined) await sleep(50);
      }
      if (pid === undefined) {
        runQuiet(APACHE2, ['-f', confFile, '-k', 'stop'], env()); // it may be running all the same
        throw new Error('rig: httpd wrote no pid file');
      }
      const p = pid;
      stops.push(async () => {
        await stopProcess(p, confFile, 10_000);
      });
      for (const s of httpdSites) urls[s.name] = `http://127.0.0.1:${ports.get(s.name) ?? 0}`;
    }
    if (nginxSites.length > 0) {
      const d = join(o.dir, 'nginx');
      for (const sub of ['', 'tmp', 'logs']) mkdirSync(join(d, sub), { recursive: true });
      const conf = [
        ...(asRoot ? ['user www-data www-data;'] : []),
        'worker_processes 1;',
        'daemon on;',
        `pid ${join(d, 'nginx.pid')};`,
        `error_log ${join(d, 'logs', 'error.log')} warn;`,
        'events { worker_connections 512; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(d, 'tmp', t)};`),
        ...nginxSites.flatMap((s) => [
          `  upstream up_${s.name} {`,
          ...o.backends.map((b, i) => `    server 127.0.0.1:${b.httpPort} weight=${s.weights[i] ?? 1};`),
          '    keepalive 16;',
          '  }',
          '  server {',
          `    listen 127.0.0.1:${ports.get(s.name) ?? 0};`,
          `    location / { proxy_pass http://up_${s.name}; proxy_http_version 1.1; proxy_set_header Connection ""; }`,
          '  }',
        ]),
        '}',
        '',
      ].join('\n');
      const confFile = join(d, 'nginx.conf');
      writeFileSync(confFile, conf);
      const args = ['-c', confFile, '-p', d, '-e', join(d, 'logs', 'error.log')];
      const check = runQuiet(NGINX, [...args, '-t'], env());
      if (check.status !== 0) throw new Error(`rig: nginx config check failed:\n${check.output}`);
      const start = runQuiet(NGINX, args, env());
      if (start.status !== 0) throw new Error(`rig: nginx did not start:\n${start.output}`);
      let pid: number | undefined;
      for (let i = 0; i < 100 && pid === undefined; i++) {
        pid = readPidFile(join(d, 'nginx.pid'));
        if (pid === undefined) await sleep(50);
      }
      if (pid === undefined) {
        runQuiet(NGINX, [...args, '-s', 'stop'], env()); // it may be running all the same
        throw new Error('rig: nginx wrote no pid file');
      }
      const p = pid;
      stops.push(async () => {
        await stopProcess(p, confFile, 10_000);
      });
      for (const s of nginxSites) urls[s.name] = `http://127.0.0.1:${ports.get(s.name) ?? 0}`;
    }
    for (const s of o.sites) {
      const port = ports.get(s.name) ?? 0;
      let up = false;
      for (let i = 0; i < 100 && !up; i++) {
        up = await portAnswers(port, 200);
        if (!up) await sleep(50);
      }
      if (!up) throw new Error(`rig: ${s.name} (port ${port}) does not answer`);
    }
  } catch (e) {
    for (const s of stops.reverse()) await s();
    throw e;
  }
  return {
    urls,
    stop: async () => {
      for (const s of stops.reverse()) await s();
    },
  };
}

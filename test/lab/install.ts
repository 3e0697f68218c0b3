// `lab install`: installs the missing Debian packages without letting their maintainer scripts start the packaged
// system services (apache2 on :80, nginx on :80, tomcat10 on :8080), which the lab never uses and which would only
// compete for the two cores.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { labMissing } from './packages.js';

const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const POLICY_BACKUP = '/usr/sbin/policy-rc.d.ajpbench-lab-backup';
const SYSTEM_SERVICES = ['apache2', 'nginx', 'tomcat10'] as const;

export interface InstallResult {
  installed: string[];
  durationMs: number;
}

type Log = (line: string) => void;

function run(cmd: string, args: string[], input?: string): number {
  const result = spawnSync(cmd, args, {
    stdio: [input === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'],
    input,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'l' },
  });
  if (result.error) throw new Error(`lab: cannot run ${cmd}: ${result.error.message}`);
  return result.status ?? 1;
}

function quiet(cmd: string, args: string[]): number {
  const result = spawnSync(cmd, args, { stdio: 'ignore' });
  return result.error ? 127 : (result.status ?? 1);
}

/**
 * Installs a policy-rc.d that forbids every service start (exit 101) for the duration of fn. An existing
 * policy-rc.d (Docker images ship one) is moved aside and restored byte for byte, mode included.
 */
function withServiceStartsForbidden<T>(fn: () => T): T {
  const hadPolicy = existsSync(POLICY_RC_D);
  let mode = 0o755;
  if (hadPolicy) {
    mode = statSync(POLICY_RC_D).mode & 0o7777;
    renameSync(POLICY_RC_D, POLICY_BACKUP);
  }
  writeFileSync(POLICY_RC_D, '#!/bin/sh\n# Written by ajpbench `lab install`; removed when it finishes.\nexit 101\n');
  chmodSync(POLICY_RC_D, 0o755);
  try {
    return fn();
  } finally {
    unlinkSync(POLICY_RC_D);
    if (hadPolicy) {
      renameSync(POLICY_BACKUP, POLICY_RC_D);
      chmodSync(POLICY_RC_D, mode);
    }
  }
}

function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}

/** Pid of a running system service, from the pid files the Debian packages use. */
function sysvPid(service: string): number | undefined {
  const files: Record<string, string> = {
    apache2: '/run/apache2/apache2.pid',
    nginx: '/run/nginx.pid',
    tomcat10: '/run/tomcat10.pid',
  };
  const file = files[service];
  if (file === undefined || !existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Stops the packaged services if anything started them anyway; the lab runs its own instances. */
function stopSystemServices(log: Log): void {
  for (const service of SYSTEM_SERVICES) {
    if (systemdRunning()) {
      if (quiet('systemctl', ['is-active', '--quiet', service]) === 0) {
        log(`lab: stopping system service ${service} (the lab runs its own instances)`);
        run('systemctl', ['stop', service]);
      }
    } else if (sysvPid(service) !== undefined) {
      log(`lab: stopping system service ${service} (the lab runs its own instances)`);
      run('service', [service, 'stop']);
    }
  }
}

function aptInstall(packages: string[]): number {
  return run('apt-get', [
    'install',
    '-y',
    '-q',
    '--no-install-recommends',
    '-o',
    'Dpkg::Options::=--force-confdef',
    '-o',
    'Dpkg::Options::=--force-confold',
    ...packages,
  ]);
}

export function labInstall(log: Log = (line) => console.log(line)): InstallResult {
  const started = Date.now();
  if (process.platform !== 'linux' || typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error('lab: install must run as root (it calls apt-get); try: sudo npm run lab -- install');
  }
  if (quiet('apt-get', ['--version']) !== 0) throw new Error('lab: install needs apt-get (Debian/Ubuntu)');

  const missing = labMissing({ includeBench: true });
  if (missing.length === 0) {
    log('lab: all packages present');
    stopSystemServices(log);
    return { installed: [], durationMs: Date.now() - started };
  }
  log(`lab: installing ${missing.join(' ')}`);

  // wireshark-common asks whether non-root users may capture; answer no before dpkg can ask.
  if (run('debconf-set-selections', [], 'wireshark-common wireshark-common/install-setuid boolean false\n') !== 0) {
    throw new Error('lab: debconf-set-selections failed');
  }
  withServiceStartsForbidden(() => {
    let status = aptInstall(missing);
    if (status !== 0) {
      // The usual cause on a fresh machine is empty package lists; refresh once and retry.
      log('lab: apt-get install failed; running apt-get update and retrying once');
      if (run('apt-get', ['update', '-q']) !== 0) throw new Error('lab: apt-get update failed (see output above)');
      status = aptInstall(missing);
    }
    if (status !== 0) throw new Error(`lab: apt-get install ${missing.join(' ')} failed with status ${status}`);
  });
  stopSystemServices(log);

  const still = labMissing({ includeBench: true });
  if (still.length > 0) throw new Error(`lab: still missing after install: ${still.join(' ')}`);
  const durationMs = Date.now() - started;
  log(`lab: installed ${missing.join(' ')} in ${(durationMs / 1000).toFixed(1)} s`);
  return { installed: missing, durationMs };
}

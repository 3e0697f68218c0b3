// Process bookkeeping for the lab: start detached daemons with their output in files, read pid files, and stop a
// pid only after /proc confirms it is still the process the lab started (pid files outlive reboots and pids get
// reused, so a bare `kill $(cat pidfile)` could hit an unrelated process).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM means it exists but belongs to someone else; for the lab's purposes that is "alive, not ours".
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, parent has not reaped it) still answers signal 0 but is gone for every practical purpose.
  return procState(pid) !== 'Z';
}

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may itself contain spaces or parentheses).
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** The process's argv joined with spaces ('' if it is gone or unreadable). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function exePath(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

export function readPidFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/** True when pid is alive and its command line contains marker (a path unique to this lab run directory). */
export function isOurs(pid: number, marker: string): boolean {
  return isAlive(pid) && cmdline(pid).includes(marker);
}

export interface DetachedSpawn {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
}

/**
 * Starts a process in its own session so it survives the CLI (or the vitest worker) that started it, and so
 * terminal signals such as Ctrl-C on `npm run lab -- up` do not reach it.
 */
export function spawnDetached(spec: DetachedSpawn): number {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`lab: could not start ${spec.command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export interface RunResult {
  status: number;
  output: string;
}

/** Runs a short command to completion (apache2 -k start, nginx -t) and returns its exit status and output. */
export function runQuiet(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): RunResult {
  const result = spawnSync(command, args, { env, encoding: 'utf8', timeout: 60_000 });
  if (result.error) return { status: 127, output: result.error.message };
  return { status: result.status ?? 1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/**
 * SIGTERM, wait up to graceMs for the process to go, then SIGKILL. Returns how it ended. Only signals pid while
 * its command line still contains marker.
 */
export async function stopProcess(
  pid: number,
  marker: string,
  graceMs: number,
): Promise<'not-running' | 'terminated' | 'killed'> {
  if (!isOurs(pid, marker)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'terminated';
    await sleep(100);
  }
  if (isOurs(pid, marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return 'terminated';
    }
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  }
  return 'killed';
}

interface ProcEntry {
  pid: number;
  ppid: number;
  rssKiB: number;
}

function procTable(): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = /^PPid:\s+(\d+)/m.exec(status);
      const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      out.push({ pid: Number(name), ppid: Number(ppid?.[1] ?? 0), rssKiB: Number(rss?.[1] ?? 0) });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Pids of root and all its descendants (httpd and nginx fork workers that do not carry the marker). */
export function processTree(root: number): number[] {
  const table = procTable();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const entry of table) if (entry.ppid === tree[i]) tree.push(entry.pid);
  }
  return tree.filter((pid) => table.some((entry) => entry.pid === pid));
}

/** Resident memory of root and its descendants, in KiB (0 if root is gone). */
export function treeRssKiB(root: number): number {
  const table = procTable();
  const pids = new Set(processTree(root));
  return table.filter((entry) => pids.has(entry.pid)).reduce((sum, entry) => sum + entry.rssKiB, 0);
}

/**
 * Processes whose executable is one of exes and whose command line contains marker: the lab's own daemons even when
 * a pid file was lost (e.g. a crashed `up`). Restricting by executable keeps, say, a `tail -f <runDir>/...` safe.
 */
export function findStrays(marker: string, exes: readonly string[]): number[] {
  const strays: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const exe = exePath(pid);
    if (!exes.some((candidate) => exe === candidate || exe.startsWith(candidate))) continue;
    if (cmdline(pid).includes(marker) && isAlive(pid)) strays.push(pid);
  }
  return strays;
}

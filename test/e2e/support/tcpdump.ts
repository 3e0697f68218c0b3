/** Runs tcpdump on loopback for the given ports, as a user would: `tcpdump -i lo -U -w file 'tcp port ...'`. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Capture {
  file: string;
  stop(): Promise<void>;
}

export async function startCapture(file: string, ports: number[], timeoutMs = 10_000): Promise<Capture> {
  const filter = ports.map((p) => `tcp port ${p}`).join(' or ');
  const child = spawn('tcpdump', ['-i', 'lo', '-U', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited (${code}): ${stderr}`));
    });
  });
  return { file, stop: () => stopProcess(child) };
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGINT'); // tcpdump flushes the file on SIGINT
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

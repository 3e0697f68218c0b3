/**
 * Runs tcpdump on loopback for the given ports, as a user would (`tcpdump -i lo -U -w file ...`), in
 * immediate mode: otherwise the kernel hands packets over in blocks up to a second late, and the
 * last block is lost when tcpdump is stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';

export interface Capture {
  file: string;
  /** Stops tcpdump; resolves to the packets it says the kernel dropped. */
  stop(): Promise<number>;
}

export async function startCapture(
  file: string,
  ports: number[],
  timeoutMs = 10_000,
  /** tcpdump -s: bytes kept of each packet (0: all of it). */
  snaplen = 0,
): Promise<Capture> {
  const filter = ports.map((p) => `tcp port ${p}`).join(' or ');
  // -B: an 8 MiB kernel buffer; with the default one, a busy 2-core machine drops packets.
  const args = ['-i', 'lo', '--immediate-mode', '-B', '8192', '-U', '-s', String(snaplen), '-w', file, filter];
  const child = spawn('tcpdump', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`tcpdump did not start within ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
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
  await untilCapturing(file, ports[0] as number, timeoutMs);
  return {
    file,
    stop: async () => {
      await stopProcess(child);
      const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
      return dropped === null ? 0 : Number(dropped[1]);
    },
  };
}

/**
 * Captures while `traffic` runs, again (up to `attempts` times) when tcpdump lost packets, so that
 * a test compares against a complete capture. Returns what the last run of `traffic` returned.
 */
export async function captureClean<T>(
  file: string,
  ports: number[],
  traffic: () => Promise<T>,
  attempts = 3,
  snaplen = 0,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const capture = await startCapture(file, ports, 10_000, snaplen);
    let result: T | undefined;
    let failure: unknown;
    try {
      result = await traffic();
    } catch (e) {
      failure = e;
    }
    // Everything sent so far reaches the file before a later knock does: wait for the knock.
    await untilFlushed(file, ports[0] as number, 10_000);
    const dropped = await capture.stop();
    if (failure !== undefined) throw failure;
    if (dropped === 0) return result as T;
    if (attempt >= attempts) throw new Error(`tcpdump dropped ${dropped} packet(s) on each of ${attempts} attempts`);
  }
}
/**
 * tcpdump says "listening" a moment before its filter sees packets, and a short exchange sent at
 * once can be missed. Knock on a captured port (connect, close: no payload, so no AJP) until the
 * file shows a packet.
 */
async function untilCapturing(file: string, port: number, timeoutMs: number): Promise<void> {
  if (!(await knockUntilGrown(file, port, PCAP_HEADER_BYTES, timeoutMs)))
    throw new Error(`tcpdump captured nothing on port ${port} within ${timeoutMs} ms`);
}

/**
 * tcpdump writes packets in the order the kernel saw them (-U, immediate mode): once a knock sent
 * now is in the file, every segment sent before it is too. Waits for that rather than a fixed time.
 */
async function untilFlushed(file: string, port: number, timeoutMs: number): Promise<void> {
  const before = existsSync(file) ? statSync(file).size : 0;
  if (!(await knockUntilGrown(file, port, before, timeoutMs)))
    throw new Error(`tcpdump wrote nothing more within ${timeoutMs} ms`);
}

async function knockUntilGrown(file: string, port: number, size: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.end());
      s.once('close', () => resolve());
      s.once('error', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 50));
    if (existsSync(file) && statSync(file).size > size) return true;
  }
  return false;
}

const PCAP_HEADER_BYTES = 24;

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    // 'close', not 'exit': the drop count is in the last stderr lines, read only once stderr closes.
    if (child.exitCode !== null && child.stderr?.readableEnded !== false) return resolve();
    child.once('close', () => resolve());
    child.kill('SIGINT'); // tcpdump flushes the file on SIGINT
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

/**
 * mod_jk's status worker as a second opinion on fairness (`fairness --jk-status URL`): reset an lb
 * worker's counters before the run (`cmd=reset`, needs the status worker's read_only=false) and
 * read each member's `elected` count after it (`cmd=list&mime=prop`), to print beside the shares
 * measured on the wire. mod_jk counts per lb member; members are matched to the measured workers
 * by their route (the jvmRoute in the session id), which defaults to the member's name.
 *
 * mod_jk updates its counters after the response has gone out, so a read right after the last
 * response can be a request or two short: `settleJkStatus` reads until the counts stop moving.
 */
import { RuntimeError, UsageError } from '../errors.js';

export interface JkMember {
  /** The member worker's name (worker.<name>). */
  name: string;
  route: string;
  /** Times the balancer chose it (requests, sticky or not). */
  elected: number;
  errors: number;
  state: string;
  activation: string;
  lbfactor: number;
}

export interface JkBalancer {
  name: string;
  /**
   * `Optimistic` (mod_jk's default) or `Pessimistic` (worker.NAME.lock=P): with the first, mod_jk
   * updates the members' counters without a lock, and concurrent requests in several httpd
   * processes can lose increments of `elected`; with the second they are exact.
   */
  lock: string;
  members: JkMember[];
}

/**
 * Parses `mime=prop` output. Member properties follow `worker.<lb>.balance_workers=<member>`
 * lines, one per member, each naming the lb it belongs to.
 */
export function parseJkStatusProperties(text: string): JkBalancer[] {
  const props = new Map<string, string>();
  const balancers: JkBalancer[] = [];
  const byName = new Map<string, JkBalancer>();
  const order: [string, string][] = [];
  for (const raw of text.split(/\r?\n/)) {
    const i = raw.indexOf('=');
    if (!raw.startsWith('worker.') || i < 0) continue;
    const key = raw.slice(0, i);
    const value = raw.slice(i + 1);
    const m = /^worker\.([^.]+)\.balance_workers$/.exec(key);
    if (m !== null) order.push([m[1] as string, value]);
    else props.set(key, value);
  }
  for (const [lb, member] of order) {
    let b = byName.get(lb);
    if (b === undefined) {
      b = { name: lb, lock: props.get(`worker.${lb}.lock`) ?? '?', members: [] };
      byName.set(lb, b);
      balancers.push(b);
    }
    if (b.members.some((x) => x.name === member)) continue;
    const p = (k: string): string | undefined => props.get(`worker.${member}.${k}`);
    b.members.push({
      name: member,
      route: p('route') ?? member,
      elected: Number(p('elected') ?? 0),
      errors: Number(p('errors') ?? 0),
      state: p('state') ?? '?',
      activation: p('activation') ?? '?',
      lbfactor: Number(p('lbfactor') ?? 1),
    });
  }
  return balancers;
}

function withQuery(url: string, query: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

async function get(url: string, timeoutMs: number): Promise<string> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: 'close' } });
    text = await res.text();
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why =
      err.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (err.cause?.code ?? err.cause?.message ?? err.message);
    throw new RuntimeError(`mod_jk status ${url}: ${why}`, 'AJPBENCH_ERR_JK_STATUS', { cause: e });
  }
  if (res.status !== 200) {
    throw new RuntimeError(
      `mod_jk status ${url}: HTTP status ${res.status} (is this a mod_jk status worker URL?)`,
      'AJPBENCH_ERR_JK_STATUS',
    );
  }
  return text;
}

/** Reads the status worker's view. */
export async function readJkStatus(url: string, timeoutMs = 5000): Promise<JkBalancer[]> {
  const text = await get(withQuery(url, { cmd: 'list', mime: 'prop' }), timeoutMs);
  // A status worker always lists itself as worker.list=...; anything else (an HTML error page
  // behind a 200, the wrong URL) is not one.
  if (!/^worker\.list=/m.test(text)) {
    throw new RuntimeError(
      `mod_jk status ${url}: the answer is not a mod_jk status worker's (no worker.list line)`,
      'AJPBENCH_ERR_JK_STATUS',
    );
  }
  return parseJkStatusProperties(text);
}

export interface SettleOptions {
  /** The total the counters should reach (the requests sent through the balancer since the reset). */
  expectedTotal: number;
  /** Stop waiting after this long and take the last read (default 5 s). */
  deadlineMs?: number;
  /** Time between reads (default 100 ms). */
  intervalMs?: number;
  timeoutMs?: number;
  /** For tests: the reader and the sleep. */
  read?: (url: string, timeoutMs: number) => Promise<JkBalancer[]>;
  sleep?: (ms: number) => Promise<void>;
}

function electedTotal(balancers: JkBalancer[]): number {
  let n = 0;
  for (const b of balancers) for (const m of b.members) n += m.elected;
  return n;
}

/**
 * Reads the counters until they have settled: until they reach `expectedTotal`, or two reads in a
 * row agree, or the deadline passes (then the last read is returned as it is). `names` picks the
 * lb workers to watch.
 */
export async function settleJkStatus(
  url: string,
  names: readonly string[],
  opts: SettleOptions,
): Promise<JkBalancer[]> {
  const read = opts.read ?? readJkStatus;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (opts.deadlineMs ?? 5000);
  let last: number | undefined;
  for (;;) {
    const all = (await read(url, opts.timeoutMs ?? 5000)).filter((b) => names.includes(b.name));
    const total = electedTotal(all);
    if (total >= opts.expectedTotal || total === last || Date.now() >= deadline) return all;
    last = total;
    await sleep(opts.intervalMs ?? 100);
  }
}

/** The lb workers to use: the one named, else all the status worker lists. */
export function pickBalancers(all: JkBalancer[], name: string | undefined): JkBalancer[] {
  if (name === undefined) return all;
  const b = all.find((x) => x.name === name);
  if (b === undefined)
    throw new UsageError(
      `--jk-balancer: mod_jk status lists no lb worker "${name}" (it has: ${all.map((x) => x.name).join(', ') || 'none'})`,
    );
  return [b];
}

/** Resets the counters of the lb workers (and so of their members); throws when mod_jk refuses. */
export async function resetJkStatus(url: string, balancers: string[], timeoutMs = 5000): Promise<void> {
  for (const w of balancers) {
    const text = await get(withQuery(url, { cmd: 'reset', w, mime: 'prop' }), timeoutMs);
    // mod_jk answers 200 either way, with worker.result.type=OK or NOT OK and a message.
    const type = /^worker\.result\.type=(.*)$/m.exec(text)?.[1]?.trim();
    if (type !== 'OK') {
      const msg = /^worker\.result\.message=(.*)$/m.exec(text)?.[1]?.trim() ?? text.trim().slice(0, 200);
      throw new RuntimeError(
        `mod_jk status refused to reset ${w} (is the status worker read_only?): ${msg}`,
        'AJPBENCH_ERR_JK_STATUS',
      );
    }
  }
}

/** Per route, the elected counts summed over the given balancers. */
export function jkCountsByRoute(balancers: JkBalancer[]): { worker: string; count: number }[] {
  const m = new Map<string, number>();
  for (const b of balancers) for (const x of b.members) m.set(x.route, (m.get(x.route) ?? 0) + x.elected);
  return [...m.entries()].map(([worker, count]) => ({ worker, count }));
}

/**
 * `ajpbench audit`: a read-only health and safety check of one Tomcat AJP connector, from outside.
 * It asks a few questions, each with the fewest messages that answer it (audit-requests.ts), every
 * probe on its own connection, and turns the answers into findings with a severity and the
 * server.xml attribute that fixes them:
 *
 * - cping: is a CPing answered with CPong (§7.1)? If not, the port does not speak AJP, and nothing
 *   else is asked.
 * - secret-required: is a Forward Request without a secret refused with 403 and a close (§8, §11)?
 *   Accepting it is Ghostcat's precondition (CVE-2020-1938): high, whatever the bind address, which
 *   cannot be seen from outside.
 * - secret-accepted: with --secret, is the request accepted?
 * - request-attributes: is a Forward Request carrying a request attribute no front end sends
 *   refused with 403 and a close, as a fixed Tomcat does when allowedRequestAttributesPattern does
 *   not match it (§8)?
 * - packet-size: which Forward Request sizes it accepts: one byte above 8 KiB, then larger (§1).
 * - jvm-route: the route suffix of a session cookie it sets (§7.3), if the URI creates a session.
 * - address: whether the address connected to is a loopback one (reported, nothing probed beyond).
 *
 * A connector that Tomcat refuses with 403 says so with End Response reuse=0 and a close; an
 * application's own 403 keeps the connection (reuse=1). That difference is what tells a refusal
 * by the connector from an answer of the webapp.
 */
import { RuntimeError } from '../errors.js';
import { formatHostPortUrl } from '../host-port.js';
import { probeAjp, type ProbeOutcome, type ProbeTarget } from '../load/ajp-probe.js';
import { CPING_FRAME } from '../protocol/index.js';
import { CPING_SENT, PROBE_ATTRIBUTE, PROBE_PACKET_SIZES, probeRequest, type SentMessage } from './audit-requests.js';
import type { JUnitCase, JUnitSuite } from './junit.js';

export const SEVERITIES = ['info', 'low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type AuditCheckId =
  'cping' | 'secret-required' | 'secret-accepted' | 'request-attributes' | 'packet-size' | 'jvm-route' | 'address';

/** pass / fail: the question has a good and a bad answer; info: a fact; unknown: it could not be answered. */
export type FindingResult = 'pass' | 'fail' | 'info' | 'unknown';

export interface AuditFinding {
  id: AuditCheckId;
  /** The question, in a few words. */
  check: string;
  result: FindingResult;
  /** A failed check's severity; info for every other result. */
  severity: Severity;
  /** What was seen, one line. */
  detail: string;
  /** The server.xml attribute to set (a failed check, and facts that have one). */
  fix?: string;
}

/** One probe: what was sent, and what came back. */
export interface AuditProbe {
  name: string;
  sent: SentMessage;
  /** The answer in words. */
  answer: string;
  outcome: ProbeOutcome;
}

export interface AuditReport {
  target: string;
  /** The address the connection went to (a host name resolves to one). */
  address: string;
  uri: string;
  secretGiven: boolean;
  probes: AuditProbe[];
  findings: AuditFinding[];
}

export interface AuditOptions extends ProbeTarget {
  uri: string;
  secret?: string;
  userAgent?: string;
  /** Injected for tests; probeAjp by default. */
  probe?: (target: ProbeTarget, frame: Buffer) => Promise<ProbeOutcome>;
}

export const DEFAULT_AUDIT_URI = '/';
export const DEFAULT_AUDIT_TIMEOUT_MS = 5000;

const FIX = {
  cping: 'protocol="AJP/1.3" on the <Connector> of this port (is it an AJP port?)',
  secret:
    'secretRequired="true" secret="..." on the AJP <Connector>, the same secret in mod_jk (worker.NAME.secret) or mod_proxy_ajp (secret=)',
  secretMatch:
    'the <Connector> secret="..." and the front end\'s secret (worker.NAME.secret, ProxyPass secret=) must be equal',
  attributes:
    'allowedRequestAttributesPattern on the AJP <Connector>: only the names your front end sends (or unset: Tomcat then refuses every unrecognised one)',
  packet:
    'packetSize="65536" on the AJP <Connector> together with worker.NAME.max_packet_size=65536 (mod_jk) or ProxyIOBufferSize 65536 (mod_proxy_ajp), if requests carry more than 8 KiB of headers',
  route:
    'jvmRoute="NAME" on the <Engine>, equal to the balancer member\'s route, if it is balanced with sticky sessions',
  address:
    'address="127.0.0.1" on the AJP <Connector> (or the one interface the front end connects from), and a firewall',
} as const;

/** Refused by the connector: Tomcat's 403 with End Response reuse=0 (§11), then a close. */
function refusedByConnector(o: ProbeOutcome): boolean {
  return o.kind === 'response' && o.status === 403 && !o.reuse;
}

/**
 * The Forward Request did not fit: a close without an answer, or an error status with End Response
 * reuse=0, the connector closing (§1). Tomcat 10.1 answers such a packet with 400 or with 500 (both
 * seen on the lab's connectors, the same connector giving one then the other), mod_jk with 413; an
 * application's own error keeps the connection (reuse=1).
 */
function refusedAsTooLarge(o: ProbeOutcome): boolean {
  return o.kind === 'closed' || (o.kind === 'response' && o.status >= 400 && !o.reuse);
}

export function describeOutcome(o: ProbeOutcome): string {
  switch (o.kind) {
    case 'connect-failed':
      return `cannot connect: ${o.message}`;
    case 'cpong':
      return 'CPong';
    case 'response':
      return `${o.status}${o.ended ? (o.reuse ? ', reuse=1: connection kept' : ', reuse=0: the connector closes') : ', headers but no End Response'}`;
    case 'protocol-error':
      return `not an AJP answer (${o.message})`;
    default:
      return o.message;
  }
}

/** Runs every probe in order and returns the findings; an unreachable target is a RuntimeError (exit 3), not a finding. */
export async function runAudit(opts: AuditOptions): Promise<AuditReport> {
  const probe = opts.probe ?? probeAjp;
  const target = formatHostPortUrl('ajp', opts);
  const probes: AuditProbe[] = [];
  const send = async (name: string, frame: Buffer, sent: SentMessage): Promise<ProbeOutcome> => {
    const outcome = await probe({ host: opts.host, port: opts.port, timeoutMs: opts.timeoutMs }, frame);
    probes.push({ name, sent, answer: describeOutcome(outcome), outcome });
    return outcome;
  };
  const request = (extra: { secret?: boolean; probeAttribute?: boolean; packetBytes?: number }) =>
    probeRequest({
      host: opts.host,
      uri: opts.uri,
      userAgent: opts.userAgent ?? 'ajpbench-audit',
      ...(extra.secret === true && opts.secret !== undefined ? { secret: opts.secret } : {}),
      ...(extra.probeAttribute === true ? { probeAttribute: true } : {}),
      ...(extra.packetBytes === undefined ? {} : { packetBytes: extra.packetBytes }),
    });

  const cping = await send('cping', CPING_FRAME, CPING_SENT);
  if (cping.kind === 'connect-failed')
    throw new RuntimeError(`cannot reach ${target}: ${cping.message}`, 'AJPBENCH_ERR_BACKEND');
  const address = cping.remoteAddress;
  const report: AuditReport = {
    target,
    address,
    uri: opts.uri,
    secretGiven: opts.secret !== undefined,
    probes,
    findings: [],
  };
  const f = report.findings;
  if (cping.kind !== 'cpong') {
    f.push(fail('cping', 'answers CPing', 'high', `no CPong: ${describeOutcome(cping)}`, FIX.cping));
    for (const id of ['secret-required', 'request-attributes', 'packet-size', 'jvm-route'] as const)
      f.push(unknown(id, 'not asked: the port does not answer CPing'));
    f.push(addressFinding(address, undefined));
    return report;
  }
  f.push(pass('cping', 'answers CPing', 'CPong'));

  let r = request({});
  const bare = await send('no-secret', r.frame, r.sent);
  const secretRequired = refusedByConnector(bare);
  f.push(secretRequiredFinding(bare));

  let secretWorks: boolean | undefined;
  if (opts.secret !== undefined) {
    r = request({ secret: true });
    const withSecret = await send('with-secret', r.frame, r.sent);
    secretWorks = withSecret.kind === 'response' && !refusedByConnector(withSecret);
    f.push(secretAcceptedFinding(withSecret, secretRequired));
  }

  // Only a request the connector otherwise accepts can show whether the attribute is what it refuses.
  const canAsk = secretRequired ? secretWorks === true : bare.kind === 'response';
  if (canAsk) {
    r = request({ secret: true, probeAttribute: true });
    f.push(attributeFinding(await send('unknown-attribute', r.frame, r.sent), secretRequired));
  } else
    f.push(
      unknown(
        'request-attributes',
        secretRequired
          ? `not asked: the connector requires a secret (${opts.secret === undefined ? 'give --secret' : 'the one given is refused'})`
          : `not asked: the request without attribute got no response (${describeOutcome(bare)})`,
      ),
    );

  f.push(
    await packetSizeFinding((bytes) => {
      const p = request({ secret: secretWorks === true, packetBytes: bytes });
      return send(`packet-${bytes}`, p.frame, p.sent);
    }),
  );
  f.push(routeFinding(probes, opts.uri));
  f.push(addressFinding(address, secretRequired));
  return report;
}

function pass(id: AuditCheckId, check: string, detail: string): AuditFinding {
  return { id, check, result: 'pass', severity: 'info', detail };
}

function fail(id: AuditCheckId, check: string, severity: Severity, detail: string, fix: string): AuditFinding {
  return { id, check, result: 'fail', severity, detail, fix };
}

const CHECKS: Record<AuditCheckId, string> = {
  cping: 'answers CPing',
  'secret-required': 'requires a secret',
  'secret-accepted': 'accepts the given secret',
  'request-attributes': 'refuses unrecognised request attributes',
  'packet-size': 'accepted packet size',
  'jvm-route': 'jvmRoute',
  address: 'loopback address',
};

function unknown(id: AuditCheckId, detail: string): AuditFinding {
  return { id, check: CHECKS[id], result: 'unknown', severity: 'info', detail };
}

function secretRequiredFinding(o: ProbeOutcome): AuditFinding {
  const check = CHECKS['secret-required'];
  if (refusedByConnector(o))
    return pass('secret-required', check, 'a Forward Request without secret got 403 and a close');
  if (o.kind === 'response')
    return fail(
      'secret-required',
      check,
      'high',
      `a Forward Request without secret was accepted (${describeOutcome(o)}): Ghostcat's precondition (CVE-2020-1938)`,
      FIX.secret,
    );
  return unknown('secret-required', `a Forward Request without secret got no response (${describeOutcome(o)})`);
}

function secretAcceptedFinding(o: ProbeOutcome, required: boolean): AuditFinding {
  const check = CHECKS['secret-accepted'];
  if (refusedByConnector(o))
    return fail(
      'secret-accepted',
      check,
      'high',
      'the Forward Request with the given secret got 403 and a close',
      FIX.secretMatch,
    );
  if (o.kind !== 'response') return unknown('secret-accepted', `no response (${describeOutcome(o)})`);
  return pass(
    'secret-accepted',
    check,
    `accepted (${o.status})${required ? '' : ', but the connector does not require it: any secret, or none, is accepted'}`,
  );
}

function attributeFinding(o: ProbeOutcome, secretRequired: boolean): AuditFinding {
  const check = CHECKS['request-attributes'];
  const what = `req_attribute ${PROBE_ATTRIBUTE.key}`;
  if (refusedByConnector(o)) return pass('request-attributes', check, `${what} got 403 and a close`);
  if (o.kind === 'response')
    return fail(
      'request-attributes',
      check,
      // Without a secret, arbitrary attributes are the whole of Ghostcat (javax.servlet.include.*).
      secretRequired ? 'medium' : 'high',
      `${what} was accepted (${describeOutcome(o)}): allowedRequestAttributesPattern lets unrecognised attributes through`,
      FIX.attributes,
    );
  return unknown('request-attributes', `no response (${describeOutcome(o)})`);
}

async function packetSizeFinding(sendSized: (bytes: number) => Promise<ProbeOutcome>): Promise<AuditFinding> {
  const check = CHECKS['packet-size'];
  let accepted = 0;
  for (const bytes of PROBE_PACKET_SIZES) {
    const o = await sendSized(bytes);
    if (refusedAsTooLarge(o)) {
      const upTo = accepted === 0 ? 'at most 8192 bytes (packetSize 8192, the default)' : `${accepted} bytes`;
      return {
        id: 'packet-size',
        check,
        result: 'info',
        severity: 'info',
        detail: `accepts ${upTo}; refuses a ${bytes}-byte Forward Request (${describeOutcome(o)})`,
        ...(accepted === 0 ? { fix: FIX.packet } : {}),
      };
    }
    if (o.kind !== 'response')
      return unknown(
        'packet-size',
        `a ${bytes}-byte Forward Request: ${describeOutcome(o)}${accepted > 0 ? `; ${accepted} bytes were accepted` : ''}`,
      );
    accepted = bytes;
  }
  return {
    id: 'packet-size',
    check,
    result: 'info',
    severity: 'info',
    detail: `accepts ${accepted}-byte Forward Requests (the AJP maximum)`,
  };
}

/** The session cookie's route suffix (`JSESSIONID=<id>.<route>`), from any response. */
export function routeOf(probes: readonly AuditProbe[]): { cookie: boolean; route: string | undefined } {
  for (const p of probes) {
    if (p.outcome.kind !== 'response') continue;
    for (const h of p.outcome.headers) {
      if (h.name.toLowerCase() !== 'set-cookie' || h.value === null) continue;
      const m = /(?:^|[;,]\s*)JSESSIONID=([^;,\s]*)/i.exec(h.value);
      if (m === null) continue;
      const id = m[1] as string;
      const dot = id.lastIndexOf('.');
      return { cookie: true, route: dot < 0 || dot === id.length - 1 ? undefined : id.slice(dot + 1) };
    }
  }
  return { cookie: false, route: undefined };
}

function routeFinding(probes: readonly AuditProbe[], uri: string): AuditFinding {
  const check = CHECKS['jvm-route'];
  const { cookie, route } = routeOf(probes);
  if (route !== undefined) return { id: 'jvm-route', check, result: 'info', severity: 'info', detail: route };
  if (cookie)
    return {
      id: 'jvm-route',
      check,
      result: 'info',
      severity: 'info',
      detail: 'none: the session cookie carries no route suffix',
      fix: FIX.route,
    };
  return unknown('jvm-route', `unknown: ${uri} set no session cookie (give --uri of a page that creates a session)`);
}

/** Loopback: 127.0.0.0/8, ::1, and IPv4-mapped 127.x. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return /^127\.\d+\.\d+\.\d+$/.test(a) || a === '::1' || a === '0:0:0:0:0:0:0:1';
}

function addressFinding(address: string, secretRequired: boolean | undefined): AuditFinding {
  const check = CHECKS.address;
  if (isLoopback(address)) return pass('address', check, `${address} (nothing probed beyond the target given)`);
  return fail(
    'address',
    check,
    secretRequired === false ? 'medium' : 'low',
    `reachable on ${address}, not a loopback address (nothing probed beyond the target given)`,
    FIX.address,
  );
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** The failed findings at or above `failOn`: exit 1 when there is one. */
export function failingFindings(report: AuditReport, failOn: Severity): AuditFinding[] {
  return report.findings.filter((x) => x.result === 'fail' && severityRank(x.severity) >= severityRank(failOn));
}

/** One JUnit test case per finding: a failure for a failed check at or above `failOn`, skipped when unknown. */
export function auditJUnit(report: AuditReport, failOn: Severity, output?: string): JUnitSuite {
  const cases = report.findings.map((x): JUnitCase => {
    const c: JUnitCase = { name: `${x.id}: ${x.check}`, classname: 'ajpbench.audit', output: x.detail };
    if (x.result === 'fail' && severityRank(x.severity) >= severityRank(failOn))
      c.failure = {
        message: `${x.severity}: ${x.detail}`,
        type: `audit.${x.severity}`,
        details: `${x.detail}\nfix: ${x.fix ?? ''}`,
      };
    else if (x.result === 'unknown') c.skipped = x.detail;
    return c;
  });
  return {
    name: `ajpbench audit ${report.target}`,
    properties: { target: report.target, address: report.address, uri: report.uri, failOn },
    cases,
    ...(output === undefined ? {} : { output }),
  };
}

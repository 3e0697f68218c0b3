// The one typed description of a lab: every port, the AJP secret, balancer weights, heap and timeouts.
// Sources, later ones win: built-in defaults < JSON file named by AJPBENCH_LAB_CONFIG < AJPBENCH_LAB_* env vars <
// overrides passed to labUp(). Every generator (server.xml, httpd.conf, nginx.conf) reads only this object.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { repoRoot } from './repo-root.js';

/** All loopback ports the lab listens on. Defaults sit in 28000-29999 to stay clear of the usual 80/8080/8009. */
export interface LabPorts {
  /** tomcat1 AJP connector without secret (mod_jk and mod_proxy_ajp talk to this one). */
  tomcat1Ajp: number;
  /** tomcat1 AJP connector with secret (secretRequired="true"). */
  tomcat1AjpSecret: number;
  /** tomcat1 HTTP/1.1 connector (mod_proxy_http, nginx, warm-up). */
  tomcat1Http: number;
  /**
   * tomcat1 AJP connector configured insecurely on purpose, for `ajpbench audit` (test/e2e/audit.test.ts):
   * secretRequired="false", allowedRequestAttributesPattern=".*", packetSize="65536". No front end uses it.
   */
  tomcat1AjpInsecure: number;
  tomcat2Ajp: number;
  tomcat2AjpSecret: number;
  tomcat2Http: number;
  /**
   * tomcat2's second `<Service>` ("Variant", `jvmRoute="variant"`): the same webapp deployed with release B, which
   * answers differently on `/app/release.jsp` only. A mirror candidate for `record --mirror` (test/e2e/mirror.test.ts).
   */
  tomcat2AjpVariant: number;
  /** httpd vhost: mod_jk lb worker "balancer" over the no-secret AJP connectors, plus /jkstatus. */
  httpdJk: number;
  /** httpd vhost: mod_proxy_ajp balancer over the no-secret AJP connectors. */
  httpdProxyAjp: number;
  /** httpd vhost: mod_proxy_http balancer over the HTTP connectors. */
  httpdProxyHttp: number;
  /** httpd vhost: mod_jk lb worker "balancer_secret" over the secret AJP connectors (worker secret=). */
  httpdJkSecret: number;
  /** httpd vhost: mod_proxy_ajp balancer over the secret AJP connectors (BalancerMember secret=). */
  httpdProxyAjpSecret: number;
  /** nginx: round robin over the HTTP connectors. */
  nginx: number;
  /** httpd vhost: mod_jk lb worker "balancer_tap" over the two tap ports below (`ajpbench record` tests). */
  httpdJkTap: number;
  /** Where balancer_tap's tomcat1 member connects: a test runs an ajpbench tap here in front of tomcat1Ajp. Nothing listens otherwise. */
  tapTomcat1: number;
  /** The same for tomcat2 (in front of tomcat2Ajp). */
  tapTomcat2: number;
}

export type PortName = keyof LabPorts;

export interface LabWeights {
  tomcat1: number;
  tomcat2: number;
}

export interface LabConfig {
  /** Absolute directory holding every generated file, log, pid file and state.json. */
  runDir: string;
  ports: LabPorts;
  /** Secret of the secret AJP connectors and of the front ends that use them. */
  secret: string;
  /** mod_jk lbfactor, mod_proxy_balancer loadfactor and nginx weight (one setting for all front ends). */
  weights: LabWeights;
  /** Tomcat -Xmx, e.g. "256m". */
  tomcatHeap: string;
  /** How long `up` waits for all ports and warm-up requests before failing. */
  startTimeoutMs: number;
  /** Keep the processes of a failed `up` running for inspection instead of stopping them. */
  keepOnFailure: boolean;
}

export interface LabOverrides {
  runDir?: string;
  ports?: Partial<LabPorts>;
  secret?: string;
  weights?: Partial<LabWeights>;
  tomcatHeap?: string;
  startTimeoutMs?: number;
  keepOnFailure?: boolean;
}

export const DEFAULT_PORTS: Readonly<LabPorts> = {
  tomcat1Ajp: 28009,
  tomcat1AjpSecret: 28109,
  tomcat1Http: 28080,
  tomcat1AjpInsecure: 28209,
  tomcat2Ajp: 29009,
  tomcat2AjpSecret: 29109,
  tomcat2Http: 29080,
  tomcat2AjpVariant: 29209,
  httpdJk: 28180,
  httpdProxyAjp: 28181,
  httpdProxyHttp: 28182,
  httpdJkSecret: 28183,
  httpdProxyAjpSecret: 28184,
  nginx: 28190,
  httpdJkTap: 28185,
  tapTomcat1: 28019,
  tapTomcat2: 29019,
};

export const PORT_NAMES: readonly PortName[] = Object.keys(DEFAULT_PORTS) as PortName[];

/** Webapp context path; every front end serves the same URL paths, so no prefix stripping is needed. */
export const CONTEXT_PATH = '/app';

/** tomcat1Ajp -> AJPBENCH_LAB_PORT_TOMCAT1_AJP */
export function portEnvName(name: PortName): string {
  return 'AJPBENCH_LAB_PORT_' + name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function defaultRunDir(): string {
  return join(repoRoot(), 'test', 'lab', '.run');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkPort(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`lab: ${where} must be a TCP port number (1-65535), got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkPositive(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`lab: ${where} must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`lab: ${where} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates untyped JSON into overrides, so a typo in the config file fails loudly instead of being ignored. */
export function parseOverrides(json: unknown, where: string): LabOverrides {
  if (!isRecord(json)) throw new Error(`lab: ${where} must hold a JSON object`);
  const out: LabOverrides = {};
  for (const [key, value] of Object.entries(json)) {
    switch (key) {
      case 'runDir':
        out.runDir = checkString(value, `${where}: runDir`);
        break;
      case 'secret':
        out.secret = checkString(value, `${where}: secret`);
        break;
      case 'tomcatHeap':
        out.tomcatHeap = checkString(value, `${where}: tomcatHeap`);
        break;
      case 'startTimeoutMs':
        out.startTimeoutMs = checkPositive(value, `${where}: startTimeoutMs`);
        break;
      case 'keepOnFailure':
        if (typeof value !== 'boolean') throw new Error(`lab: ${where}: keepOnFailure must be a boolean`);
        out.keepOnFailure = value;
        break;
      case 'ports': {
        if (!isRecord(value)) throw new Error(`lab: ${where}: ports must be an object`);
        const ports: Partial<LabPorts> = {};
        for (const [name, port] of Object.entries(value)) {
          if (!(PORT_NAMES as readonly string[]).includes(name)) {
            throw new Error(`lab: ${where}: unknown port "${name}" (known: ${PORT_NAMES.join(', ')})`);
          }
          ports[name as PortName] = checkPort(port, `${where}: ports.${name}`);
        }
        out.ports = ports;
        break;
      }
      case 'weights': {
        if (!isRecord(value)) throw new Error(`lab: ${where}: weights must be an object`);
        const weights: Partial<LabWeights> = {};
        for (const [name, weight] of Object.entries(value)) {
          if (name !== 'tomcat1' && name !== 'tomcat2') throw new Error(`lab: ${where}: unknown weight "${name}"`);
          weights[name] = checkPositive(weight, `${where}: weights.${name}`);
        }
        out.weights = weights;
        break;
      }
      default:
        throw new Error(`lab: ${where}: unknown key "${key}"`);
    }
  }
  return out;
}

function overridesFromEnv(env: NodeJS.ProcessEnv): LabOverrides {
  const out: LabOverrides = {};
  if (env.AJPBENCH_LAB_DIR) out.runDir = env.AJPBENCH_LAB_DIR;
  if (env.AJPBENCH_LAB_SECRET) out.secret = env.AJPBENCH_LAB_SECRET;
  if (env.AJPBENCH_LAB_HEAP) out.tomcatHeap = env.AJPBENCH_LAB_HEAP;
  if (env.AJPBENCH_LAB_START_TIMEOUT_MS) {
    out.startTimeoutMs = checkPositive(Number(env.AJPBENCH_LAB_START_TIMEOUT_MS), 'AJPBENCH_LAB_START_TIMEOUT_MS');
  }
  if (env.AJPBENCH_LAB_KEEP_ON_FAILURE) out.keepOnFailure = env.AJPBENCH_LAB_KEEP_ON_FAILURE === '1';
  if (env.AJPBENCH_LAB_WEIGHTS) {
    // "3,1" means tomcat1 weight 3, tomcat2 weight 1.
    const [w1, w2, extra] = env.AJPBENCH_LAB_WEIGHTS.split(',').map((s) => Number(s.trim()));
    if (extra !== undefined) throw new Error('lab: AJPBENCH_LAB_WEIGHTS must be "<tomcat1>,<tomcat2>"');
    out.weights = {
      tomcat1: checkPositive(w1, 'AJPBENCH_LAB_WEIGHTS tomcat1'),
      tomcat2: checkPositive(w2, 'AJPBENCH_LAB_WEIGHTS tomcat2'),
    };
  }
  const ports: Partial<LabPorts> = {};
  // A single offset moves every default port, so a second lab can run beside the first.
  const offset = env.AJPBENCH_LAB_PORT_OFFSET ? Number(env.AJPBENCH_LAB_PORT_OFFSET) : 0;
  if (!Number.isInteger(offset)) throw new Error('lab: AJPBENCH_LAB_PORT_OFFSET must be an integer');
  for (const name of PORT_NAMES) {
    const raw = env[portEnvName(name)];
    if (raw !== undefined && raw !== '') ports[name] = checkPort(Number(raw), portEnvName(name));
    else if (offset !== 0) ports[name] = checkPort(DEFAULT_PORTS[name] + offset, `${name} + AJPBENCH_LAB_PORT_OFFSET`);
  }
  if (Object.keys(ports).length > 0) out.ports = ports;
  return out;
}

function merge(base: LabConfig, over: LabOverrides): LabConfig {
  return {
    runDir: over.runDir ?? base.runDir,
    ports: { ...base.ports, ...over.ports },
    secret: over.secret ?? base.secret,
    weights: { ...base.weights, ...over.weights },
    tomcatHeap: over.tomcatHeap ?? base.tomcatHeap,
    startTimeoutMs: over.startTimeoutMs ?? base.startTimeoutMs,
    keepOnFailure: over.keepOnFailure ?? base.keepOnFailure,
  };
}

/** Builds the effective configuration and checks it (ports distinct, secret safe to embed in config files). */
export function resolveConfig(overrides: LabOverrides = {}, env: NodeJS.ProcessEnv = process.env): LabConfig {
  let config: LabConfig = {
    runDir: defaultRunDir(),
    ports: { ...DEFAULT_PORTS },
    secret: 'labsecret',
    weights: { tomcat1: 1, tomcat2: 1 },
    tomcatHeap: '256m',
    startTimeoutMs: 90_000,
    keepOnFailure: false,
  };
  const file = env.AJPBENCH_LAB_CONFIG;
  if (file) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`lab: cannot read AJPBENCH_LAB_CONFIG=${file}: ${(err as Error).message}`);
    }
    config = merge(config, parseOverrides(json, file));
  }
  config = merge(config, overridesFromEnv(env));
  config = merge(config, overrides);
  config.runDir = isAbsolute(config.runDir) ? config.runDir : resolve(config.runDir);

  const seen = new Map<number, PortName>();
  for (const name of PORT_NAMES) {
    const port = checkPort(config.ports[name], `ports.${name}`);
    const clash = seen.get(port);
    if (clash) throw new Error(`lab: ports.${name} and ports.${clash} are both ${port}`);
    seen.set(port, name);
  }
  // The secret lands in server.xml, workers.properties and httpd.conf; keep it to characters none of them escape.
  if (!/^[A-Za-z0-9._~+-]{1,128}$/.test(config.secret)) {
    throw new Error('lab: secret must be 1-128 characters of [A-Za-z0-9._~+-]');
  }
  if (!/^[0-9]+[kKmMgG]?$/.test(config.tomcatHeap)) throw new Error('lab: tomcatHeap must look like 256m');
  for (const name of ['tomcat1', 'tomcat2'] as const) {
    // mod_jk and nginx want integer weights.
    if (!Number.isInteger(config.weights[name])) throw new Error(`lab: weights.${name} must be a positive integer`);
  }
  return config;
}

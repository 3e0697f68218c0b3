/**
 * docs/distributed.md, checked: the Kubernetes Indexed Job manifest against Kubernetes' own JSON
 * schemas (kubernetes-models' validators), the Dockerfile's paths against the repository, and the
 * Job run as its pods would run it: N shells run the manifest's own container command (with
 * START_AT and JOB_COMPLETION_INDEX set as Kubernetes sets them, the paths and durations put on
 * this machine), then `ajpbench report` merges their files and every figure is checked exactly.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, type IJob } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { StubContainer } from '../../../src/load/stub-container.js';
import { decodeHistogram } from '../../../src/results/latency-histogram.js';
import { runWindow, type MergedReport } from '../../../src/results/merge-results.js';
import type { ReplayReport } from '../../../src/results/replay-report.js';
import { BIN, runCli } from '../../fixtures/run-cli.js';

const root = join(import.meta.dirname, '../../..');
const manifestFile = join(root, 'docs/distributed/ajpbench-job.yaml');
const dockerfile = join(root, 'docs/distributed/Dockerfile');
const trace = join(root, 'captures/lab-mixed.trace.jsonl');

function manifestDocs(text = readFileSync(manifestFile, 'utf8')): unknown[] {
  const docs = parseAllDocuments(text);
  return (Array.isArray(docs) ? docs : [docs]).map((d) => {
    expect(d.errors, 'YAML errors').toEqual([]);
    return d.toJS() as unknown;
  });
}

/** Validates one document by its kind with Kubernetes' schema; throws the validator's error. */
function validate(doc: unknown): IJob {
  const kind = (doc as { kind?: unknown }).kind;
  if (kind !== 'Job') throw new Error(`no validator wired for kind ${String(kind)}`);
  const job = new Job(doc as IJob);
  job.validate();
  return job;
}

/**
 * The schema validators ignore unknown field names (a typo such as `completion` would pass), as
 * kubectl's strict field validation would not: the document as a TypeScript object literal typed
 * IJob gets TypeScript's excess property check, against the same models' types. Returns the errors.
 */
function unknownFields(doc: unknown): string[] {
  const file = join(root, 'test/unit/cli/manifest-check.virtual.ts');
  const text = `import type { IJob } from 'kubernetes-models/batch/v1/Job';\nexport const job: IJob = ${JSON.stringify(doc)};\n`;
  const opts: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(opts);
  const read = host.getSourceFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, text, lang) : read(f, lang, ...rest));
  host.fileExists = (f) => f === file || exists(f);
  const program = ts.createProgram([file], opts, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
}

function theJob(): IJob {
  const docs = manifestDocs();
  expect(docs).toHaveLength(1);
  return validate(docs[0]);
}

function container(job: IJob): IContainer {
  const c = job.spec?.template.spec?.containers[0];
  if (c === undefined) throw new Error('no container');
  return c;
}

describe('docs/distributed/ajpbench-job.yaml', () => {
  it("is a valid batch/v1 Job by Kubernetes' schema, and the validator does refuse a broken one", () => {
    const job = theJob();
    // The validator is live: a wrong type or a missing required field fails.
    const doc = manifestDocs()[0] as IJob;
    expect(() => validate({ ...doc, spec: { ...doc.spec, completions: 'four' } })).toThrow(
      /completions must be integer/,
    );
    const noImage = structuredClone(doc);
    const c = noImage.spec?.template.spec?.containers[0] as { args?: unknown };
    c.args = [42];
    expect(() => validate(noImage)).toThrow(/args\/0 must be string/);
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
  });

  it("has no field name Kubernetes' types do not know (a misspelt one is caught)", () => {
    const doc = manifestDocs()[0] as IJob;
    expect(unknownFields(doc)).toEqual([]);
    const typo = structuredClone(doc) as unknown as { spec: { template: { spec: Record<string, unknown> } } };
    typo.spec.template.spec.restartpolicy = 'Never';
    expect(unknownFields(typo).join('\n')).toMatch(/'"restartpolicy"' does not exist/);
  }, 30_000);

  it('runs N generators at once, each a replay with --workers on as many CPUs, --start-at and its own --json', () => {
    const job = theJob();
    const spec = job.spec as NonNullable<IJob['spec']>;
    expect(spec.completionMode).toBe('Indexed');
    expect(spec.parallelism).toBe(spec.completions); // all at once, for one synchronised start
    expect(spec.backoffLimit).toBe(0);
    const c = container(job);
    expect(c.command).toEqual(['/bin/sh', '-c']);
    const script = c.args?.[0] ?? '';
    expect(script).toMatch(/^exec \/opt\/ajpbench\/bin\/ajpbench replay /);
    expect(script).toContain('--start-at "$START_AT"');
    expect(script).toContain('--json "/results/gen-${JOB_COMPLETION_INDEX}.json"');
    const workers = Number(/--workers (\d+)/.exec(script)?.[1]);
    expect(workers).toBeGreaterThan(1);
    expect(Number(c.resources?.requests?.cpu)).toBeGreaterThanOrEqual(workers);
    expect(c.env?.find((e) => e.name === 'START_AT')?.value).toBe('__START_AT__');
    // The pods run as the image's node user (uid 1000): the results volume must be writable for it.
    expect(job.spec?.template.spec?.securityContext?.fsGroup).toBe(1000);
    const mounts = (c.volumeMounts ?? []).map((m) => m.mountPath).sort();
    expect(mounts).toEqual(['/results', '/trace']);
  });
});

describe('docs/distributed/Dockerfile', () => {
  const lines = readFileSync(dockerfile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('copies only paths that exist, builds what package.json builds, and its entrypoint is bin/ajpbench', () => {
    const copies = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='));
    expect(copies.length).toBeGreaterThan(3);
    for (const l of copies) {
      const parts = l.split(/\s+/).slice(1);
      for (const src of parts.slice(0, -1)) expect(existsSync(join(root, src)), `${l}: ${src}`).toBe(true);
    }
    // Every tsconfig the build script compiles is copied and compiled (the page script too: report --html needs it).
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: { build: string };
      files: string[];
    };
    const configs = [...pkg.scripts.build.matchAll(/-p (\S+)/g)].map((m) => m[1] as string);
    expect(configs).toEqual(['tsconfig.json', 'tsconfig.page.json']);
    for (const cfg of configs)
      expect(
        copies.some((l) => l.split(/\s+/).includes(cfg)),
        cfg,
      ).toBe(true);
    expect(lines).toContain('RUN npm run build');
    // The runtime stage holds what the npm package ships (package.json "files") that the CLI reads.
    const lastFrom = lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true);
    const runtime = lines.slice(lastFrom);
    for (const f of pkg.files) {
      if (f === 'docs') continue; // reading matter: the CLI never reads it
      expect(
        runtime.some((l) => l.startsWith('COPY ') && l.split(/\s+/).some((p) => p === f || p === `/src/${f}`)),
        f,
      ).toBe(true);
    }
    const workdir = runtime.find((l) => l.startsWith('WORKDIR '))?.split(/\s+/)[1];
    expect(workdir).toBe('/opt/ajpbench');
    expect(runtime).toContain('COPY bin ./bin');
    expect(runtime).toContain('ENTRYPOINT ["/opt/ajpbench/bin/ajpbench"]');
    expect(existsSync(join(root, 'bin/ajpbench'))).toBe(true);
    // bin/ajpbench loads ../dist/src/cli/main.js: the runtime stage copies dist/src beside bin.
    expect(readFileSync(join(root, 'bin/ajpbench'), 'utf8')).toContain("'../dist/src/cli/main.js'");
    expect(runtime).toContain('COPY --from=build /src/dist/src ./dist/src');
  });
});

describe('the Job run as its pods run it, merged by report', () => {
  const PODS = 3;
  let stub: StubContainer;
  let dir: string;
  beforeAll(async () => {
    stub = await StubContainer.start({
      listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }],
      bodySize: 256,
    });
    dir = mkdtempSync(join(tmpdir(), 'ajpbench-job-'));
  });
  afterAll(async () => {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The container's script with this machine's paths, target and a short run; each change must apply. */
  function podScript(script: string): string {
    const swaps: [RegExp, string][] = [
      [/\/opt\/ajpbench\/bin\/ajpbench/, `'${process.execPath}' '${BIN}'`],
      [/\/trace\/trace\.jsonl/, trace],
      [/--target ajp:\/\/\S+/, `--target ajp://${stub.listeners[0]?.address ?? ''}`],
      [/--rate \S+/, '--rate 40/s'],
      [/--warmup \S+/, '--warmup 500ms'],
      [/--duration \S+/, '--duration 2s'],
      [/\/results\//, `${dir}/`],
    ];
    let s = script;
    for (const [re, to] of swaps) {
      expect(s, `the manifest's command has ${String(re)}`).toMatch(re);
      s = s.replace(re, to);
    }
    return s;
  }

  function runPod(script: string, index: number, startAt: string): Promise<{ code: number; stderr: string }> {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, START_AT: startAt, JOB_COMPLETION_INDEX: String(index) };
    return new Promise((resolve) => {
      execFile('/bin/sh', ['-c', script], { env, timeout: 60_000, killSignal: 'SIGKILL' }, (err, _out, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stderr }),
      );
    });
  }

  it(`${PODS} pods started together with --start-at and --workers merge exactly: counts, histograms, routes, threads, window`, async () => {
    const script = podScript(container(theJob()).args?.[0] ?? '');
    // Far enough ahead for three Node processes and their worker threads to start on a crowded machine.
    const startAt = new Date(Date.now() + 5000).toISOString();
    const pods = await Promise.all(Array.from({ length: PODS }, (_, i) => runPod(script, i, startAt)));
    for (const p of pods) expect(p.code, p.stderr).toBe(0);
    const files = Array.from({ length: PODS }, (_, i) => join(dir, `gen-${i}.json`));
    const reports = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as ReplayReport);
    const workers = Number(/--workers (\d+)/.exec(script)?.[1]);
    for (const r of reports) {
      expect(r.config.workers).toBe(workers);
      expect(r.generator?.threads).toBe(workers);
      expect(r.requests.responses).toBeGreaterThan(0);
    }

    const mergedFile = join(dir, 'merged.json');
    const rep = await runCli(['report', ...files, '--json', mergedFile]);
    expect(rep.code, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(new RegExp(`^Merged ${PODS} runs; common window `));
    const m = JSON.parse(readFileSync(mergedFile, 'utf8')) as MergedReport;
    const sum = (f: (r: ReplayReport) => number): number => reports.reduce((s, r) => s + f(r), 0);

    // Counts: the sum of the pods'.
    expect(m.requests.total).toBe(sum((r) => r.requests.total));
    expect(m.requests.responses).toBe(sum((r) => r.requests.responses));
    expect(m.requests.errors).toBe(sum((r) => r.requests.errors));
    expect(m.schedule.sent).toBe(sum((r) => r.schedule.sent));
    expect(m.schedule.warmupRequests).toBe(sum((r) => r.schedule.warmupRequests));
    expect(m.bytes.received).toBe(sum((r) => r.bytes.received));
    for (const s of m.statuses)
      expect(s.count).toBe(sum((r) => r.statuses.find((x) => x.status === s.status)?.count ?? 0));

    // Histograms: the merged one holds every pod's values, counted once.
    for (const pick of [
      (r: ReplayReport) => r.latency.timeToCompleteUs,
      (r: ReplayReport) => r.latency.timeToHeadersUs,
    ]) {
      const merged = decodeHistogram(pick(m).histogram);
      const parts = reports.map((r) => decodeHistogram(pick(r).histogram));
      expect(merged.totalCount).toBe(parts.reduce((s, h) => s + h.totalCount, 0));
      expect(merged.totalCount).toBe(m.requests.responses);
      expect(pick(m).count).toBe(merged.totalCount);
      expect(merged.maxValue).toBe(Math.max(...parts.map((h) => h.maxValue)));
      expect(merged.minNonZeroValue).toBe(Math.min(...parts.map((h) => h.minNonZeroValue)));
    }

    // Per-backend shares: counts add up, shares are of the merged total and sum to what was routed.
    for (const w of m.workers) {
      expect(w.count).toBe(sum((r) => r.workers.find((x) => x.name === w.name)?.count ?? 0));
      expect(w.share).toBeCloseTo(w.count / m.requests.total, 12);
    }
    expect(m.workers.reduce((s, w) => s + w.share, 0)).toBeCloseTo(
      m.workers.reduce((s, w) => s + w.count, 0) / m.requests.total,
      12,
    );
    // The per-second series carries every pod's responses, second by second on the wall clock.
    const perSecond = (r: ReplayReport): number => r.throughput.series.reduce((s, p) => s + p.responses, 0);
    expect(perSecond(m)).toBe(sum(perSecond));

    // Generators: the pods' threads add up.
    expect(m.generator?.threads).toBe(PODS * workers);

    // The window: from the earliest start; the common window is [latest start, earliest end], and
    // the merged series spans every pod's measured window.
    const windows = reports.map(runWindow);
    expect(Date.parse(m.startedAt)).toBe(Math.min(...reports.map((r) => Date.parse(r.startedAt))));
    expect(m.merge.window).toEqual({
      startMs: Math.max(...windows.map((w) => w.startMs)),
      endMs: Math.min(...windows.map((w) => w.endMs)),
    });
    expect(m.merge.runs.map((r) => [r.startMs, r.endMs])).toEqual(windows.map((w) => [w.startMs, w.endMs]));
    const origin = Math.min(...windows.map((w) => w.startMs));
    const spanSeconds = (Math.max(...windows.map((w) => w.endMs)) - origin) / 1000;
    expect(m.throughput.series.length).toBeGreaterThanOrEqual(Math.floor(spanSeconds));
    // --start-at: they started together (the merge itself warns past a 1 s spread).
    expect(Math.max(...windows.map((w) => w.startMs)) - origin).toBeLessThan(1000);
    expect(m.warnings.filter((w) => /started .* apart|do not overlap/.test(w))).toEqual([]);
  });
});

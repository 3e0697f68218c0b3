/** Every stable error code is documented where docs/errors.md says it is, with the exit code it ends a run with. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_ERROR_CODES, USAGE_ERROR_CODES, RuntimeError, UsageError } from '../../src/errors.js';
import { AJP_ERROR_CODES } from '../../src/protocol/errors.js';
import { CAPTURE_ERROR_CODES } from '../../src/capture/capture-types.js';
import { TAP_ERROR_CODES } from '../../src/capture/tap-errors.js';
import { reportFailure } from '../../src/cli/main.js';

const doc = (name: string): string => readFileSync(join(import.meta.dirname, '../../docs', name), 'utf8');

describe('error catalogs and their docs', () => {
  it('docs/errors.md lists every AJPBENCH_ERR_* code with its exit code', () => {
    const text = doc('errors.md');
    for (const code of Object.keys(USAGE_ERROR_CODES)) expect(text).toContain(`| \`${code}\` | 2 |`);
    for (const code of Object.keys(RUNTIME_ERROR_CODES)) expect(text).toContain(`| \`${code}\` | 3 |`);
  });

  it.each([
    ['decode.md', Object.keys(AJP_ERROR_CODES)],
    ['import.md', Object.keys(CAPTURE_ERROR_CODES)],
    ['record.md', Object.keys(TAP_ERROR_CODES)],
    [
      'trace-format.md',
      [
        'TRACE_ERR_NOT_A_TRACE',
        'TRACE_ERR_NEWER_VERSION',
        'TRACE_ERR_BAD_LINE',
        'TRACE_ERR_LINE_TOO_LONG',
        'TRACE_ERR_EMPTY',
      ],
    ],
  ])('%s documents its catalog', (file, codes) => {
    const text = doc(file);
    for (const code of codes) expect(text, `${code} in docs/${file}`).toContain(code);
  });
});

describe('reportFailure: the one place a failure becomes an exit code', () => {
  const capture = (e: unknown, debug = false): { code: number; out: string } => {
    let out = '';
    const code = reportFailure(e, debug, (s) => (out += s));
    return { code, out };
  };

  it('a UsageError is exit 2, a RuntimeError exit 3, each one line without a stack', () => {
    expect(capture(new UsageError('--x takes a number'))).toEqual({ code: 2, out: 'ajpbench: --x takes a number\n' });
    expect(capture(new RuntimeError('cannot read f: no such file', 'AJPBENCH_ERR_INPUT'))).toEqual({
      code: 3,
      out: 'ajpbench: cannot read f: no such file\n',
    });
  });

  it("a RangeError (Node's own ERR_OUT_OF_RANGE too) is not a usage error: it is a bug, exit 3", () => {
    const r = capture(
      Object.assign(new RangeError('The value of "offset" is out of range'), { code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(r.code).toBe(3);
    expect(r.out).toMatch(
      /^ajpbench: internal error: RangeError: The value of "offset" is out of range \(run with --debug/,
    );
    expect(r.out.split('\n')).toHaveLength(2);
  });

  it('--debug adds the stack', () => {
    const r = capture(new RuntimeError('boom', 'AJPBENCH_ERR_BACKEND'), true);
    expect(r.out).toMatch(/^ajpbench: boom\nRuntimeError: boom\n\s+at /);
  });
});

/**
 * `ajpbench import file.har`: the import command hands a HAR file here (by its .har name, or a JSON
 * document with a "log" object at the start); the conversion is src/trace/har-import.ts.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { RuntimeError } from '../errors.js';
import { extname } from 'node:path';
import { importHar, looksLikeHar, MAX_HAR_BYTES, parseHar } from '../trace/index.js';
import { cannotRead } from './files.js';
import { readerWentAway } from './reader-gone.js';
import { checkOutputIsNotAnInput, openTraceOutput, outputName } from './trace-output.js';
import { traceOptionsFrom, type TraceFlags } from './trace-options.js';
import { toolVersion } from './version.js';

/** A HAR by name, or by its first bytes (a capture never starts with `{`). */
export function isHarInput(file: string): boolean {
  if (extname(file).toLowerCase() === '.har') return true;
  const head = Buffer.alloc(256);
  let n: number;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    n = readSync(fd, head, 0, head.length, 0);
  } catch {
    return false; // the capture reader says what is wrong with the file
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return looksLikeHar(head.subarray(0, n));
}

/** Converts the HAR; false when the reader of stdout went away (a quiet end). */
export async function importHarFile(file: string, flags: TraceFlags, output: string | undefined): Promise<boolean> {
  checkOutputIsNotAnInput(output, [file]);
  let text: string;
  try {
    if (statSync(file).size > MAX_HAR_BYTES)
      throw new RuntimeError(
        `${file}: a HAR is read whole, and this one is larger than ajpbench can hold (${MAX_HAR_BYTES} bytes); ` +
          'export a shorter session',
        'AJPBENCH_ERR_HAR',
      );
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw e instanceof RuntimeError ? e : cannotRead(file, e);
  }
  const har = parseHar(text, file);
  try {
    const s = await importHar(har, openTraceOutput(output), {
      sourceName: file,
      tool: `ajpbench ${toolVersion()}`,
      trace: traceOptionsFrom(flags),
    });
    const skipped = s.notHttp === 0 ? '' : ` (${s.notHttp} not http or https, skipped)`;
    process.stderr.write(
      `import: HAR ${file}: ${s.exchanges} exchanges from ${s.entries} entries${skipped} -> ${outputName(output)}\n`,
    );
    return true;
  } catch (e) {
    if (output === undefined && readerWentAway(e)) return false;
    throw e;
  }
}

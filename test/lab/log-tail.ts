// Last lines of a log file, for error messages: a failed start should show why without a trip to the run dir.
import { existsSync, readFileSync, statSync } from 'node:fs';

export function tail(file: string, lines = 25): string {
  if (!existsSync(file)) return `(${file} does not exist)`;
  // Read at most the last 64 KiB: Tomcat logs with stack traces get long.
  const size = statSync(file).size;
  const text = readFileSync(file)
    .subarray(Math.max(0, size - 65536))
    .toString('utf8');
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  const shown = all.slice(-lines);
  return shown.length === 0 ? `(${file} is empty)` : `--- last ${shown.length} lines of ${file}\n${shown.join('\n')}`;
}

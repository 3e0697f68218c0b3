// Locates the ajpbench checkout from this module's own location, so the lab works the same whether it runs compiled
// (dist/test/lab/*.js, via `npm run lab`) or from source (test/lab/*.ts, imported by vitest).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function isAjpbenchRoot(dir: string): boolean {
  const pkg = join(dir, 'package.json');
  if (!existsSync(pkg)) return false;
  try {
    const parsed: unknown = JSON.parse(readFileSync(pkg, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && (parsed as { name?: unknown }).name === 'ajpbench';
  } catch {
    return false;
  }
}

let cached: string | undefined;

/** Absolute path of the repository root (the directory holding ajpbench's package.json). */
export function repoRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (isAjpbenchRoot(dir)) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('lab: cannot find the ajpbench repository root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The JSP webapp sources live as plain files (not TS strings) so they can be read and edited as JSP. */
export function webappSourceDir(): string {
  return join(repoRoot(), 'test', 'lab', 'webapp');
}

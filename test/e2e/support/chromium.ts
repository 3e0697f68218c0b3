/**
 * Headless Debian chromium for page tests, driven by playwright-core (no browser download: it is
 * given Debian's executable). The machine has no network, so every background fetch is off, and
 * each launch gets a fresh user-data-dir.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function chromiumPath(): string | undefined {
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function withChromium<T>(fn: (ctx: BrowserContext) => Promise<T>): Promise<T> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) throw new Error('chromium is not installed (npm run lab -- install installs it)');
  const profile = mkdtempSync(join(tmpdir(), 'ajpbench-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    timeout: 60_000,
  });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

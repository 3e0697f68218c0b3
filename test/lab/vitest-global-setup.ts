// vitest globalSetup for suites with several e2e files: brings the lab up once before any file runs and down after
// the last, instead of each file racing to start it. Enable with (in a vitest config):
//   test: { globalSetup: ['test/lab/vitest-global-setup.ts'] }
// Test files then call readLabState() (undefined means: skipped because the lab is not installed).
// A lab that was already up (npm run lab -- up) is reused and left running.
import { labDown, labMissing, labStatus, labUp } from './lab.js';

export default async function setup(): Promise<() => Promise<void>> {
  const missing = labMissing({ includeCapture: false });
  if (missing.length > 0) {
    const reason = `lab not installed (missing: ${missing.join(' ')}); enable with: npm run lab -- install`;
    if (process.env.CI) throw new Error(`CI is set, so not skipping: ${reason}`);
    console.warn(`lab: e2e tests needing the lab will skip: ${reason}`);
    return async () => undefined;
  }
  const wasUp = (await labStatus()).up;
  await labUp({ log: (line) => console.log(line) });
  return async () => {
    if (!wasUp) await labDown();
  };
}

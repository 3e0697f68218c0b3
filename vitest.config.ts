import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests, and the end-to-end suite on the real-peer lab (test/lab), which
// a global setup brings up once for all e2e files (or reports, in one line, why it is skipped).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/lab/vitest-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          // The lab is one set of shared processes: run e2e files one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});

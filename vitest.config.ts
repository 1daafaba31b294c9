import { defineConfig } from 'vitest/config';

// Three projects: `fast` needs no lab service (`./ferry test --fast`); `lab` runs against the running lab; `faults`
// is the fault harness (`./ferry faults`), long and disruptive, so never part of `./ferry test`.
const fast = ['test/unit/**/*.test.ts', 'test/workflows/**/*.test.ts'];
const faults = ['test/faults/**/*.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: 'fast', include: fast } },
      {
        extends: true,
        test: {
          name: 'lab',
          include: ['test/**/*.test.ts', 'plugins/**/*.test.ts'],
          exclude: [...fast, ...faults],
          // The end-to-end suites share one API server and worker, started once against the running lab.
          globalSetup: ['test/e2e/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'faults', include: faults, globalSetup: ['test/e2e/global-setup.ts'], testTimeout: 0 },
      },
    ],
  },
});

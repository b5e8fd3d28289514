import { defineConfig } from 'vitest/config';

/**
 * The test set StrykerJS runs per mutant (`npm run mutation`, nightly only): every test that needs no service
 * (no global setup, no test/integration, no static checks of repository files, not the Redis half of the state-store
 * contract), so each mutant is judged in seconds. The only outside program it needs is Debian's `promtool` (the
 * metrics exposition tests; the nightly job installs it): a test that fails in Stryker's first run stops the whole run.
 */
export default defineConfig({
  test: {
    // `TM_MUTATION_TESTS=<glob>` judges with those test files only (a quick per-folder run: a lower bound of the score).
    include: process.env['TM_MUTATION_TESTS'] ? [process.env['TM_MUTATION_TESTS']] : ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/*.live.test.ts', '**/node_modules/**', 'dist/**', 'test/integration/**', 'test/static/**', 'test/contract/state-stores.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // One process runs every test file without a fresh module graph per file: a mutant's run costs the tests' own
    // time instead of one process start and import per file (the tests keep no state across files).
    isolate: false,
  },
});

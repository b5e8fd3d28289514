// StrykerJS mutation testing: `npm run mutation` (scripts/mutation.sh; nightly workflow, not .ci/run) runs Stryker once
// per group (engine, backtest, report, metrics, sizing, model-loader), each with `--mutate` set to its files and
// TM_MUTATION_TESTS to its area's tests (vitest.mutation.config.ts). A score below `thresholds.break` (80 %) fails the
// group. `npx stryker run` alone mutates everything below against the whole service-free set: 7-8 h on two cores
// (its static mutants run every test), so the groups are what runs.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // `related`: only the test files that import a mutated file (directly or not) run.
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  // The first (coverage) run of those tests on two shared cores takes minutes.
  dryRunTimeoutMinutes: 40,
  mutate: [
    'src/engine/**/*.ts',
    'src/backtest/**/*.ts',
    'src/sizing/**/*.ts',
    'src/registry/model-loader.ts',
    '!src/**/*.test.ts',
    '!src/**/index.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 30_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: 80 },
  tempDirName: '.stryker-tmp',
  // TypeScript 7 (native) has no JS API for Stryker's tsconfig rewriting; vitest compiles on its own, so skip it.
  tsconfigFile: 'tsconfig.stryker-none.json',
  // Leading `/`: gitignore patterns without it match at any depth (`data` and `models` dropped src/data and src/models
  // from the sandbox, so every test importing them failed there).
  ignorePatterns: ['/data', '/models', '/notebooks', '/python', '/docker', '/reports', '/experiments/results', '/.services', '/.venv', '/.cache', '/dist', '/bench/results'],
  cleanTempDir: 'always',
};

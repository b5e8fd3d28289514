// StrykerJS mutation testing (`npm run mutation`; nightly workflow, not .ci/run). Mutates the engine, the backtest
// preset, sizing and the model loader, and judges every mutant with the service-free tests (vitest.mutation.config.ts).
// A score below `thresholds.break` (80 %) fails the run. Reports: reports/mutation/ (HTML + JSON).
// One folder: `npx stryker run --mutate 'src/sizing/**/*.ts,!src/sizing/**/*.test.ts'`.
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

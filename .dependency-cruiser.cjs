/**
 * Import rules (../shared/STYLE.md §1), checked by dependency-cruiser over src/, experiments/, scripts/ and bench/,
 * static and dynamic `import()` alike; `npm test` runs it (test/architecture.test.ts) and fails on any violation.
 *
 * `FOLDERS` is the one table of which src/ folder may import which: a folder not in it is itself a violation.
 * `cli/` and `src/index.ts` are composition roots and may import everything in src/.
 */
/** @type {Record<string, string[]>} */
const FOLDERS = {
  core: [],
  data: ['core'],
  features: ['core', 'data'],
  regime: ['core', 'data', 'features'],
  sizing: ['core', 'regime'],
  models: ['core', 'data', 'features'],
  signals: ['core', 'data', 'features', 'models'],
  engine: ['core', 'data', 'features', 'regime', 'sizing', 'models'],
  strategies: ['core', 'engine', 'features', 'signals', 'regime', 'sizing', 'models'],
  backtest: ['core', 'data', 'features', 'regime', 'sizing', 'models', 'signals', 'engine'],
  adapters: ['core', 'engine', 'data'],
  state: ['core', 'engine', 'config'],
  monitoring: ['core', 'engine', 'backtest'],
  registry: ['core', 'models', 'config'],
  live: ['core', 'data', 'features', 'regime', 'sizing', 'models', 'signals', 'engine', 'backtest', 'strategies', 'adapters', 'state', 'monitoring', 'registry', 'config', 'training'],
  rl: ['core', 'data', 'features', 'regime', 'sizing', 'models', 'signals', 'engine', 'backtest', 'strategies', 'training'],
  config: ['core'],
  notebook: ['core', 'data', 'backtest'],
  training: ['core', 'data', 'features', 'models', 'engine', 'backtest', 'regime', 'registry', 'config', 'strategies'],
  sweep: ['core', 'training', 'registry'],
};
/** What strategy code may import (experiments/strategies today, src/strategies later): never backtest, live, adapters. */
const STRATEGY_IMPORTS = FOLDERS.strategies;

const folderRules = Object.entries(FOLDERS).map(([folder, allowed]) => ({
  name: `src-${folder}-imports`,
  comment: `src/${folder}/ may import only ${allowed.length ? allowed.map((a) => `src/${a}/`).join(', ') : 'nothing else in src/'} (STYLE.md §1)`,
  severity: 'error',
  from: { path: `^src/${folder}/` },
  to: { path: '^src/[^/]+/', pathNot: [`^src/(${[folder, ...allowed].join('|')})/`] },
}));

module.exports = {
  forbidden: [
    ...folderRules,
    {
      name: 'src-folder-in-table',
      comment: 'every src/ folder needs a row in FOLDERS of .dependency-cruiser.cjs (cli/ is the composition root)',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: [`^src/(${[...Object.keys(FOLDERS), 'cli'].join('|')})/`] },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'modules must not import each other in a cycle',
      severity: 'error',
      from: { path: '^(src|experiments|scripts|bench)/' },
      to: { circular: true },
    },
    {
      name: 'strategies-stay-venue-free',
      comment: `strategy code imports only ${STRATEGY_IMPORTS.map((a) => `src/${a}/`).join(', ')}: never backtest, live or adapters`,
      severity: 'error',
      from: { path: '^src/strategies/' },
      to: { path: '^src/[^/]+/', pathNot: [`^src/(${['strategies', ...STRATEGY_IMPORTS].join('|')})/`] },
    },
    {
      name: 'ccxt-only-in-adapters',
      comment: 'only src/adapters/ talks to venues through ccxt',
      severity: 'error',
      from: { path: '^(src|experiments|scripts|bench)/', pathNot: '^src/adapters/' },
      to: { path: '(^|/)node_modules/ccxt/' },
    },
    {
      name: 'src-not-importing-tooling',
      comment: 'src/ never imports bench/, scripts/ or test/',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(bench|scripts|test)/' },
    },
    {
      name: 'no-code-from-experiments',
      comment: 'experiments/ holds configs and baselines only: nothing imports code from it',
      severity: 'error',
      from: {},
      to: { path: '^experiments/' },
    },
    {
      name: 'tooling-not-importing-tests',
      comment: 'bench/ and scripts/ do not depend on test code (except the local Bybit v5 venue and the model fixture: the live benchmarks run against them, as the tests do)',
      severity: 'error',
      from: { path: '^(bench|scripts)/' },
      to: { path: '^test/', pathNot: '^test/support/(bybit-v5-server|bybit-v5-venue|bybit-test-data|live-harness|live-model|shared-data)\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves (a typo in a path is an error, not a silent skip)',
      severity: 'error',
      from: { path: '^(src|experiments|scripts|bench)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/|\\.test\\.ts$' },
    // The project's TypeScript 7 has no compiler API for dependency-cruiser: parse with swc (a devDependency).
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.node'] },
    detectJSDocImports: false,
  },
};

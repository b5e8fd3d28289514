/**
 * Executes notebooks headless on the tslab kernel and fails on any cell error.
 *
 *   npm run notebooks [-- [--no-build] [--output-dir DIR] [--timeout SECONDS] [notebook.ipynb ...]]
 *
 * Default: every notebooks/*.ipynb, results in notebooks/executed/ (code cells numbered 1..n, see
 * notebook-execution-counts.ts). Builds the engine first (`npm run build`,
 * notebooks import ../dist/src/index.js: tslab compiles each cell with the notebook folder as TypeScript rootDir, so
 * ../src/*.ts cannot be imported directly). Starts the services (scripts/services.sh up, unless
 * TM_SERVICES=external) and gives the kernel their env vars; stops the services it started when done (unless
 * TM_KEEP_SERVICES=1). The kernel runs in the notebook's folder; PATH
 * starts with node_modules/.bin so the kernelspec's tslab is found. Exit 1 when any notebook fails; the failing
 * cell and its error are printed. The kernels get a private TMPDIR, removed after a run that passed, kept and named
 * after one that failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, resolve } from 'node:path';
import { numberExecutedCells } from './notebook-execution-counts.js';
import { REPO_ROOT, runningServices, servicesDown, servicesEnv, servicesToStop, servicesUp } from './services-env.js';

interface Options {
  readonly notebooks: readonly string[];
  readonly outputDir: string;
  readonly build: boolean;
  readonly timeoutSeconds: number;
}

function usage(message: string): never {
  console.error(`run-notebooks: ${message}\nusage: tsx scripts/run-notebooks.ts [--no-build] [--output-dir DIR] [--timeout SECONDS] [notebook.ipynb ...]`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Options {
  const notebooks: string[] = [];
  let outputDir = join(REPO_ROOT, 'notebooks/executed');
  let build = true;
  let timeoutSeconds = Number(process.env['TM_NOTEBOOK_TIMEOUT'] ?? 600);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--no-build') build = false;
    else if (arg === '--output-dir') outputDir = resolve(argv[++i] ?? usage('--output-dir needs a folder'));
    else if (arg === '--timeout') timeoutSeconds = Number(argv[++i] ?? usage('--timeout needs seconds'));
    else if (arg.startsWith('-')) usage(`unknown option ${JSON.stringify(arg)}`);
    else notebooks.push(resolve(arg));
  }
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) usage(`--timeout must be a positive number of seconds, was ${timeoutSeconds}`);
  if (notebooks.length === 0) {
    const dir = join(REPO_ROOT, 'notebooks');
    notebooks.push(...readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort().map((f) => join(dir, f)));
  }
  for (const nb of notebooks) if (!existsSync(nb)) usage(`notebook not found: ${nb}`);
  return { notebooks, outputDir, build, timeoutSeconds };
}

/** The part of nbconvert's stderr that shows the failing cell and its error (nbclient's CellExecutionError). */
function failingCellReport(stderr: string): string {
  const marker = 'An error occurred while executing the following cell:';
  const at = stderr.lastIndexOf(marker);
  if (at >= 0) return stderr.slice(at).trimEnd();
  return stderr.trimEnd().split('\n').slice(-30).join('\n');
}

function main(): number {
  const options = parseArgs(process.argv.slice(2));
  const external = process.env['TM_SERVICES'] === 'external';
  if (external) return runAll(options, external);
  // Like `npm test`: stop afterwards the services this run started (not those already running), unless TM_KEEP_SERVICES=1.
  const before = runningServices();
  servicesUp();
  try {
    return runAll(options, external);
  } finally {
    servicesDown(servicesToStop(before, runningServices()));
  }
}

function runAll(options: Options, external: boolean): number {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(servicesEnv())) {
    if (external && env[name] !== undefined) continue;
    env[name] = value;
  }
  env['PATH'] = [join(REPO_ROOT, 'node_modules/.bin'), env['PATH'] ?? ''].join(delimiter);

  if (options.build) {
    const started = Date.now();
    const build = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    if (build.status !== 0) {
      console.error(`run-notebooks: npm run build failed (exit ${build.status}); notebooks import ../dist and would run stale code`);
      return 1;
    }
    console.log(`build: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }

  mkdirSync(options.outputDir, { recursive: true });
  const jupyter = env['TM_JUPYTER']!;
  // The kernels run under one private TMPDIR: the notebooks' scratch folders (mkdtemp in tmpdir(): a store, a registry
  // cache, a live run's folder, several MB) are removed after the run, or kept and named when a notebook failed.
  const scratch = mkdtempSync(join(tmpdir(), 'tm-notebooks-tmp-'));
  env['TMPDIR'] = scratch;
  let passed = 0;
  let failed = 0;
  try {
    for (const notebook of options.notebooks) {
      if (runOne(jupyter, notebook, options, env)) passed++;
      else failed++;
    }
  } finally {
    if (failed === 0) rmSync(scratch, { recursive: true, force: true });
    else console.error(`run-notebooks: what the notebooks wrote to their temporary folder is kept in ${scratch}`);
  }
  console.log(`notebooks: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

/** Executes one notebook into the output folder; true when every cell ran. */
function runOne(jupyter: string, notebook: string, options: Options, env: NodeJS.ProcessEnv): boolean {
  const started = Date.now();
  const result = spawnSync(
    jupyter,
    [
      'nbconvert', '--to', 'notebook', '--execute',
      '--ExecutePreprocessor.kernel_name=tslab',
      `--ExecutePreprocessor.timeout=${options.timeoutSeconds}`,
      '--output-dir', options.outputDir,
      '--output', basename(notebook),
      notebook,
    ],
    { cwd: REPO_ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    const executed = join(options.outputDir, basename(notebook));
    const nb = JSON.parse(readFileSync(executed, 'utf8')) as Parameters<typeof numberExecutedCells>[0];
    if (numberExecutedCells(nb) > 0) writeFileSync(executed, `${JSON.stringify(nb, null, 1)}\n`);
    console.log(`ok    ${basename(notebook)} (${seconds}s) -> ${join(options.outputDir, basename(notebook))}`);
    return true;
  }
  const why = result.error ? `${result.error.message}\n` : '';
  console.error(`FAIL  ${basename(notebook)} (${seconds}s, exit ${result.status ?? result.signal})\n${why}${failingCellReport(result.stderr ?? '')}\n`);
  return false;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`run-notebooks: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
